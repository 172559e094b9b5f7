package entities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"capsim/api/kl/core/locator"
	"capsim/api/kl/core/tasks"
	"capsim/ipc"
)

// Kernel endpoint numbers (RIIDs) in idl/kl/core/Core.edl.
const (
	kernelLocator = 0
	kernelTasks   = 2
)

func (rt *Runtime) locator() *locator.Client {
	return &locator.Client{Caller: rt, Handle: ipc.KernelHandle, Endpoint: kernelLocator}
}

// ErrNoChannel is wrapped by Channel's error when the kernel has no channel
// of that id for this entity.
var ErrNoChannel = errors.New("no such channel")

// Channel returns the handle of this entity's channel named id, asking the
// kernel's locator on first use. The policy decides that request: a denied
// lookup is an *ipc.Error with status Denied.
func (rt *Runtime) Channel(ctx context.Context, id string) (ipc.Handle, error) {
	rt.mu.Lock()
	h, ok := rt.channels[id]
	rt.mu.Unlock()
	if ok {
		return h, nil
	}
	slot, err := rt.locator().Connect(ctx, id)
	if errors.Is(err, syscall.ENOENT) {
		return 0, fmt.Errorf("channel %q: %w", id, ErrNoChannel)
	}
	if err != nil {
		return 0, fmt.Errorf("channel %q: %w", id, err)
	}
	h = slot.Handle
	rt.mu.Lock()
	rt.channels[id] = h
	rt.mu.Unlock()
	return h, nil
}

// Lookup returns the handle of channel id and the number of the endpoint
// that the channel's server serves under name (an endpoint name such as
// "socket" or an interface name such as "capsim.Socket"), ready for a
// generated client proxy.
func (rt *Runtime) Lookup(ctx context.Context, id, name string) (ipc.Handle, uint16, error) {
	h, err := rt.Channel(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	key := riidKey{h, name}
	rt.mu.Lock()
	riid, ok := rt.riids[key]
	rt.mu.Unlock()
	if ok {
		return h, riid, nil
	}
	riid, err = rt.locator().CallEndpoint(ctx, uint32(h), name)
	var noEndpoint *locator.EndpointError
	if errors.As(err, &noEndpoint) {
		return 0, 0, fmt.Errorf("channel %q: server has no endpoint %q", id, name)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("channel %q endpoint %q: %w", id, name, err)
	}
	rt.mu.Lock()
	rt.riids[key] = riid
	rt.mu.Unlock()
	return h, riid, nil
}

// Backend reads an environment variable of the form "client:<channel id>"
// (VFS_NETWORK_BACKEND, VFS_FILESYSTEM_BACKEND, NETSTACK_BACKEND) and
// returns the channel id. A missing or malformed variable is a clear error
// naming it.
func Backend(variable string) (string, error) {
	v, ok := os.LookupEnv(variable)
	if !ok || v == "" {
		return "", fmt.Errorf("%s is not set: set it to client:<channel id> in the entity's env", variable)
	}
	id, ok := strings.CutPrefix(v, "client:")
	if !ok || id == "" {
		return "", fmt.Errorf("%s=%q: want client:<channel id>", variable, v)
	}
	return id, nil
}

// File opens a file argument: "fd:N" names a descriptor the kernel opened
// and handed over (SCENARIO.md, "What an entity is given"); anything else
// is a path, which a confined entity usually cannot open.
func File(arg string) (*os.File, error) {
	if n, ok := strings.CutPrefix(arg, "fd:"); ok {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 {
			return nil, fmt.Errorf("file argument %q: bad descriptor", arg)
		}
		f := os.NewFile(uintptr(fd), arg)
		if f == nil {
			return nil, fmt.Errorf("file argument %q: no such descriptor", arg)
		}
		return f, nil
	}
	return os.Open(arg)
}

// Exit asks the kernel to end this entity with code (kl.core.Tasks.Exit)
// and exits.
func (rt *Runtime) Exit(ctx context.Context, code int) {
	_ = (&tasks.Client{Caller: rt, Handle: ipc.KernelHandle, Endpoint: kernelTasks}).Exit(ctx, int32(code))
	os.Exit(code)
}

// endpointSecurity addresses the caller's own security interface on the
// kernel handle (kernel.EndpointSecurity).
const endpointSecurity = 0xffff

// Security asks the security module a question through this entity's EDL
// security interface: method is the method's number (MID) there, payload
// its in parameters in the IDL wire format. It returns nil when the policy
// grants, an *ipc.Error with status Denied when it denies. The entity
// enforces the answer itself, as in KasperskyOS.
func (rt *Runtime) Security(ctx context.Context, method uint16, payload []byte) error {
	_, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: endpointSecurity, Method: method, Payload: payload})
	return err
}
