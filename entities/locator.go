package entities

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"capsim/ipc"
)

// Kernel endpoint and method numbers (idl/kl/core/Core.edl).
const (
	kernelLocator  = 0
	kernelTasks    = 2
	locatorConnect = 0
	locatorRiid    = 1
	tasksExit      = 0
)

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
	p := binary.LittleEndian.AppendUint32(nil, uint32(len(id)))
	p = append(p, id...)
	r, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: kernelLocator, Method: locatorConnect, Payload: p})
	if err != nil {
		return 0, fmt.Errorf("channel %q: %w", id, err)
	}
	if r.Status == ipc.AppError {
		if len(r.Payload) == 4 && syscall.Errno(le32(r.Payload)) == syscall.ENOENT {
			return 0, fmt.Errorf("channel %q: %w", id, ErrNoChannel)
		}
		return 0, fmt.Errorf("channel %q: kernel error %v", id, r.Payload)
	}
	if len(r.Handles) != 1 {
		return 0, fmt.Errorf("channel %q: kernel sent %d handles", id, len(r.Handles))
	}
	h = r.Handles[0].Handle
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
	p := binary.LittleEndian.AppendUint32(nil, uint32(h))
	p = binary.LittleEndian.AppendUint32(p, uint32(len(name)))
	p = append(p, name...)
	r, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: kernelLocator, Method: locatorRiid, Payload: p})
	if err != nil {
		return 0, 0, fmt.Errorf("channel %q endpoint %q: %w", id, name, err)
	}
	if r.Status != ipc.OK || len(r.Payload) != 2 {
		return 0, 0, fmt.Errorf("channel %q: server has no endpoint %q", id, name)
	}
	riid = binary.LittleEndian.Uint16(r.Payload)
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
	p := binary.LittleEndian.AppendUint32(nil, uint32(int32(code)))
	_, _ = rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: kernelTasks, Method: tasksExit, Payload: p})
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
