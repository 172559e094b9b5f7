package netstack

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
)

func TestSeparateDescriptorTables(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	fd1 := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	fd2 := must(p.sa.Socket(ctx, 2, AF_INET, SOCK_DGRAM, 0))(t)
	if fd1 != 3 || fd2 != 3 {
		t.Fatalf("first descriptors: client 1 got %d, client 2 got %d; want 3 each", fd1, fd2)
	}
	if v := must(p.sa.GetSockOpt(ctx, 2, fd2, SOL_SOCKET, SO_TYPE, 4))(t); v[0] != SOCK_DGRAM {
		t.Errorf("client 2's fd 3 has SO_TYPE %d", v[0])
	}
	check(t, p.sa.Close(ctx, 2, fd2))
	if v := must(p.sa.GetSockOpt(ctx, 1, fd1, SOL_SOCKET, SO_TYPE, 4))(t); v[0] != SOCK_STREAM {
		t.Errorf("client 1's fd 3 changed: SO_TYPE %d", v[0])
	}
	if err := p.sa.Close(ctx, 2, fd2); !errors.Is(err, syscall.EBADF) {
		t.Errorf("double close: %v, want EBADF", err)
	}
	if fd := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t); fd != 4 {
		t.Errorf("client 1's second descriptor = %d, want 4", fd)
	}
}

func TestMaxFDs(t *testing.T) {
	p := newPair(t, 1500)
	s := NewSockets(p.a, SocketsConfig{MaxFDs: 2})
	ctx := testCtx(t)
	for range 2 {
		must(s.Socket(ctx, 1, AF_INET, SOCK_DGRAM, 0))(t)
	}
	if _, err := s.Socket(ctx, 1, AF_INET, SOCK_DGRAM, 0); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("third socket: %v, want EMFILE", err)
	}
	must(s.Socket(ctx, 2, AF_INET, SOCK_DGRAM, 0))(t) // another client is not affected
}

// A recv blocked for one client must not stall another client's calls,
// and it ends when its context is cancelled.
func TestBlockedRecvDoesNotStallOthers(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c, srv := p.connected(t, 8400)
	blockedCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := p.sb.Recv(blockedCtx, 2, srv, 100, 0)
		done <- err
	}()
	// Meanwhile client 3 on the same Sockets does a whole exchange.
	l := listen(t, p.sb, 3, AF_INET, 8401)
	c2 := must(p.sa.Socket(ctx, 4, AF_INET, SOCK_STREAM, 0))(t)
	check(t, p.sa.Connect(ctx, 4, c2, netip.AddrPortFrom(addrB, 8401)))
	s2, _, err := p.sb.Accept(ctx, 3, l, 0)
	check(t, err)
	must(p.sa.Send(ctx, 4, c2, []byte("ping"), 0))(t)
	if got := recvN(t, p.sb, 3, s2, 4); string(got) != "ping" {
		t.Errorf("other client's recv = %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("blocked recv returned early: %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, syscall.EINTR) {
		t.Errorf("cancelled recv: %v, want EINTR", err)
	}
	_ = c
}

func TestCloseWakesBlockedCall(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	_, srv := p.connected(t, 8500)
	done := make(chan error, 1)
	go func() {
		_, err := p.sb.Recv(ctx, 2, srv, 100, 0)
		done <- err
	}()
	check(t, p.sb.Close(ctx, 2, srv))
	if err := <-done; err == nil {
		t.Errorf("recv on a closed socket returned no error")
	}
}

func TestDrop(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	l := listen(t, p.sb, 5, AF_INET, 8600)
	must(p.sb.Socket(ctx, 5, AF_INET, SOCK_DGRAM, 0))(t)
	keep := listen(t, p.sb, 6, AF_INET, 8601)
	accepted := make(chan error, 1)
	go func() {
		_, _, err := p.sb.Accept(ctx, 5, l, 0)
		accepted <- err
	}()
	p.sb.Drop(5)
	if err := <-accepted; !errors.Is(err, syscall.EBADF) {
		t.Errorf("accept blocked across Drop: %v, want EBADF", err)
	}
	if n := p.sb.Count(5); n != 0 {
		t.Errorf("client 5 still has %d descriptors", n)
	}
	c := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	if err := p.sa.Connect(ctx, 1, c, netip.AddrPortFrom(addrB, 8600)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect to a dropped listener: %v, want ECONNREFUSED", err)
	}
	c = must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	check(t, p.sa.Connect(ctx, 1, c, netip.AddrPortFrom(addrB, 8601)))
	if _, _, err := p.sb.Accept(ctx, 6, keep, 0); err != nil {
		t.Errorf("another client's listener after Drop: %v", err)
	}
}

func TestPoll(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	l := listen(t, p.sb, 2, AF_INET, 8700)
	rev, n, err := p.sb.Poll(ctx, 2, []PollFd{{Fd: l, Events: POLLIN}, {Fd: 42, Events: POLLIN}, {Fd: -1, Events: POLLIN}}, 0)
	check(t, err)
	if n != 1 || rev[0] != 0 || rev[1] != POLLNVAL || rev[2] != 0 {
		t.Fatalf("idle poll: n=%d revents=%#x", n, rev)
	}
	c := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	check(t, p.sa.Connect(ctx, 1, c, netip.AddrPortFrom(addrB, 8700)))
	rev, n, err = p.sb.Poll(ctx, 2, []PollFd{{Fd: l, Events: POLLIN}}, -1)
	check(t, err)
	if n != 1 || rev[0]&POLLIN == 0 {
		t.Fatalf("pending connection: n=%d revents=%#x", n, rev)
	}
	srv, _, err := p.sb.Accept(ctx, 2, l, 0)
	check(t, err)
	rev, _, err = p.sb.Poll(ctx, 2, []PollFd{{Fd: srv, Events: POLLIN | POLLOUT}}, 0)
	check(t, err)
	if rev[0] != POLLOUT {
		t.Errorf("connected, no data: revents=%#x, want POLLOUT", rev[0])
	}
	go p.sa.Send(ctx, 1, c, []byte("x"), 0)
	rev, _, err = p.sb.Poll(ctx, 2, []PollFd{{Fd: srv, Events: POLLIN}}, -1)
	check(t, err)
	if rev[0]&POLLIN == 0 {
		t.Errorf("data arrived: revents=%#x", rev[0])
	}
	check(t, p.sa.Close(ctx, 1, c))
	recvN(t, p.sb, 2, srv, 1)
	for {
		rev, _, err = p.sb.Poll(ctx, 2, []PollFd{{Fd: srv, Events: POLLIN}}, -1)
		check(t, err)
		if b, _ := p.sb.Recv(ctx, 2, srv, 10, MSG_DONTWAIT); len(b) == 0 {
			break // EOF
		}
	}
	if rev[0]&(POLLIN|POLLRDHUP) == 0 {
		t.Errorf("peer closed: revents=%#x", rev[0])
	}
	timeoutCtx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := p.sb.Poll(timeoutCtx, 2, []PollFd{{Fd: l, Events: POLLIN}}, -1); !errors.Is(err, syscall.EINTR) {
		t.Errorf("poll with a cancelled context: %v, want EINTR", err)
	}
	if _, n, err := p.sb.Poll(ctx, 2, []PollFd{{Fd: l, Events: POLLIN}}, 10); err != nil || n != 0 {
		t.Errorf("poll timeout: n=%d err=%v", n, err)
	}
	if _, _, err := p.sb.Poll(ctx, 2, make([]PollFd, MaxPoll+1), 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("too many fds: %v", err)
	}
}
