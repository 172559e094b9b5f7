package netstack

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestHostUnreachable waits for neighbour resolution to give up (seconds),
// so it runs only with CAPSIM_LONG=1.
func TestHostUnreachable(t *testing.T) {
	if os.Getenv("CAPSIM_LONG") != "1" {
		t.Skip("set CAPSIM_LONG=1")
	}
	p := newPair(t, 1500)
	ctx := testCtx(t)
	fd := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0))(t)
	if err := p.sa.Connect(ctx, 1, fd, netip.MustParseAddrPort("10.0.0.60:80")); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("connect to a silent neighbour: %v, want EHOSTUNREACH", err)
	}
}

// TestPeerClosedLinkStops: when the switch's end of the NIC socket closes,
// the host notices, and Close does not hang.
func TestPeerClosedLinkStops(t *testing.T) {
	p := newPair(t, 1500)
	check(t, p.b.Close())
	<-p.a.link.lost // the reader saw the hang-up
	closed := make(chan error, 1)
	go func() { closed <- p.a.Close() }()
	select {
	case err := <-closed:
		check(t, err)
	case <-time.After(20 * time.Second): // a hang detector, not a timing assertion
		t.Fatal("Close hung after the NIC's peer closed")
	}
}
