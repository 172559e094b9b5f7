package entity_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"capsim/api/capsim/socket"
	"capsim/entities"
	"capsim/entities/posix"
	"capsim/run"
	"capsim/scenario"
)

// hostileNet is a netstack whose answers are well-typed but wrong: every
// stream socket is descriptor 7 (so a second one takes a descriptor
// already given out), an IPv6 socket is a negative descriptor, reads
// return more than asked, writes claim more than given, polls answer
// for descriptors not asked, options overflow the size asked, a connect
// fails with errno 0 and the resolver answers an address of 3 bytes.
type hostileNet struct{}

var _ socket.Server = hostileNet{}

func (hostileNet) Socket(_ context.Context, domain, _, _ int32) (int32, error) {
	if domain == syscall.AF_INET6 {
		return -5, nil
	}
	return 7, nil
}
func (hostileNet) Bind(context.Context, int32, socket.Addr) error { return nil }
func (hostileNet) Listen(context.Context, int32, int32) error     { return nil }
func (hostileNet) Accept(context.Context, int32, uint32) (int32, socket.Addr, error) {
	return 7, socket.Addr{Family: syscall.AF_INET, Port: 1, Ip: []byte{10, 0, 0, 9}}, nil
}
func (hostileNet) Connect(context.Context, int32, socket.Addr) error {
	return &socket.ConnectError{Errno: 0}
}
func (hostileNet) Send(_ context.Context, _ int32, data []byte, _ uint32) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (hostileNet) Recv(_ context.Context, _ int32, size, _ uint32) ([]byte, error) {
	return make([]byte, size+16), nil
}
func (hostileNet) SendTo(_ context.Context, _ int32, data []byte, _ uint32, _ socket.Addr) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (hostileNet) RecvFrom(_ context.Context, _ int32, size, _ uint32) ([]byte, socket.Addr, error) {
	return make([]byte, size+16), socket.Addr{}, nil
}
func (hostileNet) SendMsg(_ context.Context, _ int32, data []byte, _ []socket.Cmsg, _ uint32) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (hostileNet) RecvMsg(_ context.Context, _ int32, size, _ uint32) ([]byte, []socket.Cmsg, uint32, error) {
	return make([]byte, size+16), nil, 0, nil
}
func (hostileNet) Shutdown(context.Context, int32, int32) error { return nil }
func (hostileNet) Close(context.Context, int32) error           { return nil }
func (hostileNet) Poll(_ context.Context, fds []socket.PollFd, _ int32) ([]uint16, uint32, error) {
	rev := make([]uint16, len(fds)+2)
	for i := range rev {
		rev[i] = 0xffff
	}
	return rev, 1000, nil
}
func (hostileNet) GetSockOpt(context.Context, int32, int32, int32, uint32) ([]byte, error) {
	return make([]byte, 64), nil
}
func (hostileNet) SetSockOpt(context.Context, int32, int32, int32, []byte) error { return nil }
func (hostileNet) GetSockName(context.Context, int32) (socket.Addr, error) {
	return socket.Addr{Family: syscall.AF_INET, Port: 1, Ip: []byte{10, 0, 0, 1}}, nil
}
func (hostileNet) GetPeerName(context.Context, int32) (socket.Addr, error) {
	return socket.Addr{Family: syscall.AF_INET, Port: 2, Ip: []byte{10, 0, 0, 2}}, nil
}
func (hostileNet) GetAddrInfo(context.Context, string) ([]socket.Addr, error) {
	return []socket.Addr{{Family: syscall.AF_INET, Ip: []byte{1, 2, 3}}, {Family: syscall.AF_INET, Ip: []byte{10, 0, 0, 9}}}, nil
}

func runHostileNet(ctx context.Context, rt *entities.Runtime, _ []string) int {
	rt.Handle("socket", socket.NewDispatcher(hostileNet{}))
	_ = rt.Serve(ctx)
	return 0
}

// runHostileProbe calls the VFS (channels a and b: two clients of it) and
// prints "ok NAME" or "FAIL NAME: why" for each check.
func runHostileProbe(ctx context.Context, rt *entities.Runtime, _ []string) int {
	out := rt.Stdout()
	check := func(name string, bad string) {
		if bad != "" {
			fmt.Fprintf(out, "FAIL %s: %s\n", name, bad)
			return
		}
		fmt.Fprintf(out, "ok %s\n", name)
	}
	a, err := posix.NetOn(rt, "a").Client(ctx)
	if err != nil {
		fmt.Fprintln(out, "lookup a:", err)
		return 1
	}
	b, err := posix.NetOn(rt, "b").Client(ctx)
	if err != nil {
		fmt.Fprintln(out, "lookup b:", err)
		return 1
	}
	fd, err := a.Socket(ctx, syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		fmt.Fprintln(out, "socket a:", err)
		return 1
	}
	data, err := a.Recv(ctx, fd, 10, 0)
	check("recv-size", sizeErr(len(data), 10, err))
	data, _, err = a.RecvFrom(ctx, fd, 10, 0)
	check("recvfrom-size", sizeErr(len(data), 10, err))
	data, _, _, err = a.RecvMsg(ctx, fd, 10, 0)
	check("recvmsg-size", sizeErr(len(data), 10, err))
	n, err := a.Send(ctx, fd, []byte("hello"), 0)
	check("send-count", sizeErr(int(n), 5, err))
	n, err = a.SendTo(ctx, fd, []byte("hello"), 0, socket.Addr{})
	check("sendto-count", sizeErr(int(n), 5, err))
	n, err = a.SendMsg(ctx, fd, []byte("hello"), nil, 0)
	check("sendmsg-count", sizeErr(int(n), 5, err))
	v, err := a.GetSockOpt(ctx, fd, syscall.SOL_SOCKET, syscall.SO_ERROR, 4)
	check("getsockopt-size", sizeErr(len(v), 4, err))

	rev, ready, err := a.Poll(ctx, []socket.PollFd{{Fd: fd, Events: 1}, {Fd: -1, Events: 1}}, 0)
	switch {
	case err != nil:
		check("poll", "")
	case len(rev) != 2 || ready > 1 || rev[1] != 0 || rev[0]&^(1|0x8|0x10|0x20) != 0:
		check("poll", fmt.Sprintf("revents %x, ready %d", rev, ready))
	default:
		check("poll", "")
	}

	err = a.Connect(ctx, fd, socket.Addr{Family: syscall.AF_INET, Port: 1, Ip: []byte{10, 0, 0, 9}})
	var en syscall.Errno
	check("connect-errno0", map[bool]string{true: "", false: fmt.Sprintf("%v", err)}[errors.As(err, &en) && en != 0])

	// b is given the descriptor a holds: the VFS must not hand a's socket
	// over to b, nor lose track of it.
	_, err = b.Socket(ctx, syscall.AF_INET, syscall.SOCK_STREAM, 0)
	check("socket-dup", map[bool]string{true: "", false: fmt.Sprintf("b got a's descriptor: %v", err)}[errors.Is(err, syscall.EIO)])
	_, err = a.GetSockName(ctx, fd)
	check("socket-dup-owner", errString(err))
	_, _, err = b.Accept(ctx, fd, 0)
	check("accept-other", map[bool]string{true: "", false: fmt.Sprintf("b accepted on a's socket: %v", err)}[errors.Is(err, syscall.EBADF)])
	_, _, err = a.Accept(ctx, fd, 0)
	check("accept-dup", map[bool]string{true: "", false: fmt.Sprintf("accept gave a descriptor in use: %v", err)}[errors.Is(err, syscall.EIO)])
	neg, err := a.Socket(ctx, syscall.AF_INET6, syscall.SOCK_STREAM, 0)
	check("socket-negative", map[bool]string{true: "", false: fmt.Sprintf("fd %d, %v", neg, err)}[errors.Is(err, syscall.EIO)])

	return 0
}

func errString(err error) string {
	if err != nil {
		return err.Error()
	}
	return ""
}

// sizeErr accepts an error, or a count of at most max.
func sizeErr(n, max int, err error) string {
	if err == nil && n > max {
		return fmt.Sprintf("%d bytes, asked for at most %d", n, max)
	}
	return ""
}

const hostileScenario = `
name    = "hostile-netstack"
timeout = "30s"

[[host]]
name      = "device"
addresses = ["10.0.0.1/24"]

[[entity]]
task    = "evil-net"
class   = "capsim.Netstack"
program = "capsim:hostile-net"
host    = "device"

[[entity]]
task  = "vfs"
class = "kl.VfsNet"
env   = { NETSTACK_BACKEND = "client:netstack" }
connections = [ { target = "evil-net", id = "netstack" } ]

[[entity]]
task    = "probe"
class   = "demo.HttpClient"
program = "capsim:hostile-probe"
connections = [ { target = "vfs", id = "a" }, { target = "vfs", id = "b" } ]
main    = true

[[expect]]
task = "probe"
exit = 0
`

// TestHostileNetstack runs the VFS network backend over a netstack whose
// answers are nonsense: none of it may reach the VFS's clients as if it
// were valid, nor let one client take another's socket.
func TestHostileNetstack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(hostileScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	rep, err := run.Run(context.Background(), sc, run.Options{Registry: registry(), Output: out, Stderr: out})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	if !rep.OK() {
		t.Fatalf("failures:\n%s\noutput:\n%s", strings.Join(rep.Failures, "\n"), text)
	}
	for _, name := range []string{"socket-dup", "socket-dup-owner", "accept-other", "accept-dup", "socket-negative",
		"recv-size", "recvfrom-size", "recvmsg-size", "send-count", "sendto-count", "sendmsg-count",
		"getsockopt-size", "poll", "connect-errno0"} {
		if !strings.Contains(text, "ok "+name+"\n") {
			t.Errorf("%s: not ok", name)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", text)
	}
}
