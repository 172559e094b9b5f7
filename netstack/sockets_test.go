package netstack

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

func TestTCPEcho(t *testing.T) {
	for _, tc := range []struct {
		name   string
		domain int32
		dst    netip.Addr
	}{
		{"ipv4", AF_INET, addrB},
		{"ipv6", AF_INET6, addrB6},
		{"v4-mapped", AF_INET6, addrB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, 1500)
			ctx := testCtx(t)
			l := listen(t, p.sb, 7, tc.domain, 7000)
			c := must(p.sa.Socket(ctx, 9, tc.domain, SOCK_STREAM, 0))(t)
			check(t, p.sa.Connect(ctx, 9, c, netip.AddrPortFrom(tc.dst, 7000)))
			srv, peer, err := p.sb.Accept(ctx, 7, l, 0)
			check(t, err)
			local := must(p.sa.GetSockName(ctx, 9, c))(t)
			if peer != local {
				t.Errorf("accept peer %v, client's sockname %v", peer, local)
			}
			remote := must(p.sa.GetPeerName(ctx, 9, c))(t)
			if remote.Port() != 7000 || remote.Addr().Unmap() != tc.dst.Unmap() {
				t.Errorf("peername %v, want %v:7000", remote, tc.dst)
			}
			msg := []byte("hello, capsim")
			if n := must(p.sa.Send(ctx, 9, c, msg, 0))(t); n != uint32(len(msg)) {
				t.Fatalf("send = %d", n)
			}
			got := recvN(t, p.sb, 7, srv, len(msg))
			must(p.sb.Send(ctx, 7, srv, bytes.ToUpper(got), 0))(t)
			if back := recvN(t, p.sa, 9, c, len(msg)); string(back) != "HELLO, CAPSIM" {
				t.Errorf("echo = %q", back)
			}
		})
	}
}

func TestBulkTransferIntegrity(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c, srv := p.connected(t, 8000)
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	errc := make(chan error, 1)
	go func() {
		for off := 0; off < len(data); off += MaxData {
			if _, err := p.sa.Send(ctx, 1, c, data[off:min(off+MaxData, len(data))], 0); err != nil {
				errc <- err
				return
			}
		}
		errc <- p.sa.Close(ctx, 1, c)
	}()
	var got []byte
	for {
		b, err := p.sb.Recv(ctx, 2, srv, 65536, 0)
		check(t, err)
		if len(b) == 0 {
			break
		}
		got = append(got, b...)
	}
	check(t, <-errc)
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes, differing from the %d sent", len(got), len(data))
	}
}

func TestErrnos(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	tcp := func() int32 { return must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t) }
	for _, tc := range []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"refused", func() error { return p.sa.Connect(ctx, 1, tcp(), netip.MustParseAddrPort("10.0.0.2:1")) }, syscall.ECONNREFUSED},
		{"no route", func() error { return p.sa.Connect(ctx, 1, tcp(), netip.MustParseAddrPort("192.168.7.7:80")) }, syscall.ENETUNREACH},
		{"v6 on v4 socket", func() error { return p.sa.Connect(ctx, 1, tcp(), netip.MustParseAddrPort("[fd00::2]:80")) }, syscall.EAFNOSUPPORT},
		{"bad family", func() error { _, err := p.sa.Socket(ctx, 1, 1, SOCK_STREAM, 0); return err }, syscall.EAFNOSUPPORT},
		{"bad protocol", func() error { _, err := p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, IPPROTO_UDP); return err }, syscall.EPROTONOSUPPORT},
		{"bad type", func() error { _, err := p.sa.Socket(ctx, 1, AF_INET, 5, 0); return err }, syscall.ESOCKTNOSUPPORT},
		{"bad fd", func() error { _, err := p.sa.Recv(ctx, 1, 99, 10, 0); return err }, syscall.EBADF},
		{"recv unconnected", func() error { _, err := p.sa.Recv(ctx, 1, tcp(), 10, 0); return err }, syscall.ENOTCONN},
		{"peername unconnected", func() error { _, err := p.sa.GetPeerName(ctx, 1, tcp()); return err }, syscall.ENOTCONN},
		{"send unconnected", func() error { _, err := p.sa.Send(ctx, 1, tcp(), []byte("x"), 0); return err }, syscall.EPIPE},
		{"bind foreign address", func() error { return p.sa.Bind(ctx, 1, tcp(), netip.MustParseAddrPort("10.0.0.9:80")) }, syscall.EADDRNOTAVAIL},
		{"bad shutdown", func() error { return p.sa.Shutdown(ctx, 1, tcp(), 7) }, syscall.EINVAL},
		{"accept not listening", func() error { _, _, err := p.sa.Accept(ctx, 1, tcp(), 0); return err }, syscall.EINVAL},
		{"listen udp", func() error {
			return p.sa.Listen(ctx, 1, must(p.sa.Socket(ctx, 1, AF_INET, SOCK_DGRAM, 0))(t), 1)
		}, syscall.EOPNOTSUPP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAddrInUse(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	listen(t, p.sa, 1, AF_INET, 9000)
	fd := must(p.sa.Socket(ctx, 2, AF_INET, SOCK_STREAM, 0))(t)
	if err := p.sa.Bind(ctx, 2, fd, netip.MustParseAddrPort("10.0.0.1:9000")); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second bind: %v, want EADDRINUSE", err)
	}
}

func TestConnectDeadline(t *testing.T) {
	p := newPair(t, 1500)
	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	fd := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	// 10.0.0.50 is on the link but nobody answers ARP.
	if err := p.sa.Connect(ctx, 1, fd, netip.MustParseAddrPort("10.0.0.50:80")); !errors.Is(err, syscall.ETIMEDOUT) {
		t.Errorf("connect: %v, want ETIMEDOUT", err)
	}
}

func TestPeekAndDontWait(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c, srv := p.connected(t, 8100)
	if _, err := p.sb.Recv(ctx, 2, srv, 10, MSG_DONTWAIT); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("empty MSG_DONTWAIT recv: %v, want EAGAIN", err)
	}
	must(p.sa.Send(ctx, 1, c, []byte("abcdef"), 0))(t)
	peek := must(p.sb.Recv(ctx, 2, srv, 3, MSG_PEEK))(t)
	if string(peek) != "abc" {
		t.Errorf("peek = %q", peek)
	}
	all := must(p.sb.Recv(ctx, 2, srv, 6, MSG_WAITALL))(t)
	if string(all) != "abcdef" {
		t.Errorf("recv after peek = %q", all)
	}
}

func TestNonBlocking(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	l := listen(t, p.sb, 2, AF_INET, 8200)
	if _, _, err := p.sb.Accept(ctx, 2, must(p.sb.Socket(ctx, 2, AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0))(t), 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("accept on unbound socket: %v", err)
	}
	nl := listen(t, p.sb, 3, AF_INET, 8201)
	_ = nl
	c := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0))(t)
	if err := p.sa.Connect(ctx, 1, c, netip.AddrPortFrom(addrB, 8200)); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("non-blocking connect: %v, want EINPROGRESS", err)
	}
	rev, n, err := p.sa.Poll(ctx, 1, []PollFd{{Fd: c, Events: POLLOUT}}, -1)
	check(t, err)
	if n != 1 || rev[0]&POLLOUT == 0 {
		t.Fatalf("poll after connect: n=%d revents=%#x", n, rev[0])
	}
	if v := must(p.sa.GetSockOpt(ctx, 1, c, SOL_SOCKET, SO_ERROR, 4))(t); !bytes.Equal(v, []byte{0, 0, 0, 0}) {
		t.Errorf("SO_ERROR = %v", v)
	}
	srv, _, err := p.sb.Accept(ctx, 2, l, SOCK_NONBLOCK)
	check(t, err)
	if _, err := p.sb.Recv(ctx, 2, srv, 10, 0); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("recv on accepted SOCK_NONBLOCK socket: %v, want EAGAIN", err)
	}
	if _, _, err := p.sb.Accept(ctx, 2, must(p.sb.Socket(ctx, 2, AF_INET, SOCK_STREAM, 0))(t), 0x1); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("accept with bad flags: %v, want EINVAL", err)
	}
}

func TestShutdown(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c, srv := p.connected(t, 8300)
	check(t, p.sa.Shutdown(ctx, 1, c, SHUT_WR))
	if b, err := p.sb.Recv(ctx, 2, srv, 10, 0); err != nil || len(b) != 0 {
		t.Errorf("recv after peer's SHUT_WR = %q, %v; want EOF", b, err)
	}
	if _, err := p.sa.Send(ctx, 1, c, []byte("late"), 0); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("send after SHUT_WR: %v, want EPIPE", err)
	}
	must(p.sb.Send(ctx, 2, srv, []byte("still open"), 0))(t)
	if got := recvN(t, p.sa, 1, c, 10); string(got) != "still open" {
		t.Errorf("half-closed read = %q", got)
	}
}

func TestUDP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		domain   int32
		src, dst netip.Addr
	}{{"ipv4", AF_INET, addrA, addrB}, {"ipv6", AF_INET6, addrA6, addrB6}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, 1500)
			ctx := testCtx(t)
			srv := must(p.sb.Socket(ctx, 1, tc.domain, SOCK_DGRAM, 0))(t)
			check(t, p.sb.Bind(ctx, 1, srv, netip.AddrPortFrom(netip.Addr{}, 5353)))
			c := must(p.sa.Socket(ctx, 1, tc.domain, SOCK_DGRAM, 0))(t)
			check(t, p.sa.Bind(ctx, 1, c, netip.AddrPortFrom(tc.src, 4000)))
			must(p.sa.SendTo(ctx, 1, c, []byte("datagram one"), 0, netip.AddrPortFrom(tc.dst, 5353)))(t)
			data, from, err := p.sb.RecvFrom(ctx, 1, srv, 100, 0)
			check(t, err)
			if string(data) != "datagram one" || from != netip.AddrPortFrom(tc.src, 4000) {
				t.Errorf("recvfrom = %q from %v", data, from)
			}
			must(p.sb.SendTo(ctx, 1, srv, []byte("reply that is long"), 0, from))(t)
			short, _, flags, err := p.sa.RecvMsg(ctx, 1, c, 5, 0)
			check(t, err)
			if string(short) != "reply" || flags&MSG_TRUNC == 0 {
				t.Errorf("truncated recvmsg = %q flags %#x", short, flags)
			}
			if _, err := p.sa.Recv(ctx, 1, c, 100, MSG_DONTWAIT); !errors.Is(err, syscall.EAGAIN) {
				t.Errorf("datagram rest was not discarded: %v", err)
			}
		})
	}
}

func TestPing(t *testing.T) {
	p := newPair(t, 1500)
	for _, dst := range []netip.Addr{addrB, addrB6, netip.MustParseAddr("127.0.0.1")} {
		ctx, cancel := context.WithTimeout(testCtx(t), 10*time.Second)
		if _, err := p.a.Ping(ctx, dst); err != nil {
			t.Errorf("ping %v: %v", dst, err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	if _, err := p.a.Ping(ctx, netip.MustParseAddr("10.0.0.77")); !errors.Is(err, syscall.ETIMEDOUT) {
		t.Errorf("ping of a silent address: %v, want ETIMEDOUT", err)
	}
}

func TestPingSocket(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	fd := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_DGRAM, IPPROTO_ICMP))(t)
	echo := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}
	must(p.sa.SendTo(ctx, 1, fd, echo, 0, netip.AddrPortFrom(addrB, 0)))(t)
	reply, from, err := p.sa.RecvFrom(ctx, 1, fd, 100, 0)
	check(t, err)
	if len(reply) != len(echo) || reply[0] != 0 || string(reply[8:]) != "hi" || from.Addr() != addrB {
		t.Errorf("echo reply %v from %v", reply, from)
	}
}
