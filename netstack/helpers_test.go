package netstack

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair is two hosts, a (10.0.0.1, fd00::1) and b (10.0.0.2, fd00::2),
// joined by a SOCK_SEQPACKET socket pair, one end each.
type pair struct {
	a, b   *Host
	sa, sb *Sockets
}

var (
	addrA  = netip.MustParseAddr("10.0.0.1")
	addrB  = netip.MustParseAddr("10.0.0.2")
	addrA6 = netip.MustParseAddr("fd00::1")
	addrB6 = netip.MustParseAddr("fd00::2")
)

func newPair(tb testing.TB, mtu int) *pair { return newSeededPair(tb, mtu, 0) }

// newSeededPair is newPair with both hosts' random choices fixed by seed.
func newSeededPair(tb testing.TB, mtu int, seed int64) *pair {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	table := map[string][]netip.Addr{"a": {addrA, addrA6}, "b": {addrB, addrB6}}
	mk := func(name string, fd int, v4, v6 netip.Addr) *Host {
		h, err := NewHost(HostConfig{Name: name, NICFD: fd, MTU: mtu, Seed: seed, Hosts: table, Logger: slog.New(slog.DiscardHandler),
			Addresses: []netip.Prefix{netip.PrefixFrom(v4, 24), netip.PrefixFrom(v6, 64)}})
		if err != nil {
			tb.Fatalf("NewHost %s: %v", name, err)
		}
		tb.Cleanup(func() { h.Close() })
		return h
	}
	p := &pair{a: mk("a", fds[0], addrA, addrA6), b: mk("b", fds[1], addrB, addrB6)}
	p.sa = NewSockets(p.a, SocketsConfig{})
	p.sb = NewSockets(p.b, SocketsConfig{})
	return p
}

// testCtx bounds a test's blocking calls so a bug fails instead of hanging.
func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// must(f())(t) is f's value, failing t when f returned an error.
func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// listen opens a listening TCP socket of client on s at port.
func listen(tb testing.TB, s *Sockets, client uint32, domain int32, port uint16) int32 {
	tb.Helper()
	return listenBacklog(tb, s, client, domain, port, 16)
}

// listenBacklog is listen with a chosen backlog.
func listenBacklog(tb testing.TB, s *Sockets, client uint32, domain int32, port uint16, backlog int32) int32 {
	tb.Helper()
	ctx := testCtx(tb)
	fd := must(s.Socket(ctx, client, domain, SOCK_STREAM, 0))(tb)
	check(tb, s.Bind(ctx, client, fd, netip.AddrPortFrom(netip.Addr{}, port)))
	check(tb, s.Listen(ctx, client, fd, backlog))
	return fd
}

// connected returns a connected pair of TCP descriptors: c on p.sa (client
// 1), srv on p.sb (client 2).
func (p *pair) connected(tb testing.TB, port uint16) (c, srv int32) {
	tb.Helper()
	ctx := testCtx(tb)
	l := listen(tb, p.sb, 2, AF_INET, port)
	c = must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(tb)
	check(tb, p.sa.Connect(ctx, 1, c, netip.AddrPortFrom(addrB, port)))
	srv, _, err := p.sb.Accept(ctx, 2, l, 0)
	check(tb, err)
	return c, srv
}

// recvN reads exactly n bytes.
func recvN(tb testing.TB, s *Sockets, client uint32, fd int32, n int) []byte {
	tb.Helper()
	ctx := testCtx(tb)
	var out []byte
	for len(out) < n {
		b, err := s.Recv(ctx, client, fd, uint32(n-len(out)), 0)
		if err != nil {
			tb.Fatalf("recv after %d bytes: %v", len(out), err)
		}
		if len(b) == 0 {
			tb.Fatalf("EOF after %d of %d bytes", len(out), n)
		}
		out = append(out, b...)
	}
	return out
}

func addrPort(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }
