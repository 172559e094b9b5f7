package netstack

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// loop hands every call to a dispatcher with the caller's badge in the
// context, as the entity runtime does after the kernel delivered it.
type loop struct {
	h     ipc.Handler
	badge *ipc.Badge
}

type capture struct{ m *ipc.Message }

func (r *capture) Reply(_ *ipc.Request, m *ipc.Message) error { r.m = m; return nil }

func (l loop) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	var r capture
	l.h.Serve(ipc.WithBadge(ctx, l.badge), &ipc.Request{Message: *m}, &r)
	if r.m.Status > ipc.AppError {
		return nil, &ipc.Error{Status: r.m.Status, Reason: string(r.m.Payload)}
	}
	return r.m, nil
}

func clientFor(s *Sockets, id uint32) *socket.Client {
	return &socket.Client{Caller: loop{h: socket.NewDispatcher(NewServer(s)), badge: &ipc.Badge{ID: id, Task: "t"}}}
}

func wireAddr(ap netip.AddrPort) socket.Addr { return toAddr(ap) }

func TestServerOverWire(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	srvC, cliC, other := clientFor(p.sb, 1), clientFor(p.sa, 1), clientFor(p.sa, 2)

	l := must(srvC.Socket(ctx, AF_INET6, SOCK_STREAM, 0))(t)
	check(t, srvC.Bind(ctx, l, socket.Addr{Family: AF_INET6, Port: 80, Ip: make([]byte, 16)}))
	check(t, srvC.Listen(ctx, l, 8))

	addrs := must(cliC.GetAddrInfo(ctx, "b"))(t)
	if len(addrs) != 2 || addrs[0].Family != AF_INET || addrs[1].Family != AF_INET6 {
		t.Fatalf("GetAddrInfo(b) = %+v", addrs)
	}
	dst := addrs[0]
	dst.Port = 80
	c := must(cliC.Socket(ctx, AF_INET, SOCK_STREAM, 0))(t)
	check(t, cliC.Connect(ctx, c, dst))
	conn, peer, err := srvC.Accept(ctx, l, 0)
	check(t, err)
	if peer.Family != AF_INET6 || netip.AddrFrom16([16]byte(peer.Ip)).Unmap() != addrA {
		t.Errorf("accept peer %+v, want v4-mapped %v", peer, addrA)
	}
	must(cliC.Send(ctx, c, []byte("over the wire"), 0))(t)
	if got := must(srvC.Recv(ctx, conn, 13, MSG_WAITALL))(t); string(got) != "over the wire" {
		t.Errorf("recv = %q", got)
	}
	name := must(cliC.GetSockName(ctx, c))(t)
	if name.Family != AF_INET || netip.AddrFrom4([4]byte(name.Ip)) != addrA {
		t.Errorf("sockname %+v", name)
	}
	// Client 2 on the same server has its own table: its fd 3 is not client 1's.
	if _, err := other.Send(ctx, c, []byte("x"), 0); !errors.Is(err, syscall.EBADF) {
		t.Errorf("client 2 using client 1's fd: %v, want EBADF", err)
	}
	c2 := must(other.Socket(ctx, AF_INET, SOCK_STREAM, 0))(t)
	if err := other.Connect(ctx, c2, wireAddr(netip.AddrPortFrom(addrB, 81))); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect to a closed port over the wire: %v, want ECONNREFUSED", err)
	}
	if err := other.Connect(ctx, c2, socket.Addr{Family: 77}); !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("bad family: %v, want EAFNOSUPPORT", err)
	}
	rev, n, err := cliC.Poll(ctx, []socket.PollFd{{Fd: c, Events: POLLOUT}, {Fd: 99, Events: POLLIN}}, 0)
	check(t, err)
	if n != 2 || rev[0] != POLLOUT || rev[1] != POLLNVAL {
		t.Errorf("poll = %d %#x", n, rev)
	}
	check(t, cliC.SetSockOpt(ctx, c, IPPROTO_TCP, TCP_NODELAY, le32(1)))
	if v := must(cliC.GetSockOpt(ctx, c, IPPROTO_TCP, TCP_NODELAY, 4))(t); v[0] != 1 {
		t.Errorf("TCP_NODELAY = %v", v)
	}
	if _, err := cliC.SendMsg(ctx, c, []byte("x"), []socket.Cmsg{{Level: 282, Type: 1, Data: []byte{21}}}, 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SendMsg with a control message: %v, want EINVAL", err)
	}
}
