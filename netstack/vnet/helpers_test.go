package vnet

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// guard bounds how long a test waits for something that should happen; it
// is a hang guard, never a timing assertion.
const guard = 20 * time.Second

// startNet builds and starts a network that the test closes at its end.
func startNet(t testing.TB, cfg Config) *Network {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// simHost is a minimal simulated host: a gVisor stack on a switch port.
type simHost struct {
	st *stack.Stack
	fd int
}

func addSimHost(t testing.TB, n *Network, seg, name, addr string, key uint64) *simHost {
	t.Helper()
	return addSimHostMode(t, n, seg, name, addr, key, false)
}

// addSimHostMode is addSimHost with a choice of fdbased dispatcher: a host
// that must outlive the network's Close needs readv (see stackConfig).
func addSimHostMode(t testing.TB, n *Network, seg, name, addr string, key uint64, readv bool) *simHost {
	t.Helper()
	fd, err := n.AddPort(seg, name)
	if err != nil {
		t.Fatalf("AddPort: %v", err)
	}
	s, err := n.segment(seg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStack(stackConfig{fd: fd, mtu: s.cfg.MTU, mac: localMAC(key), addrs: []netip.Prefix{netip.MustParsePrefix(addr)}, readv: readv})
	if err != nil {
		t.Fatalf("stack for %s: %v", name, err)
	}
	t.Cleanup(func() {
		st.Destroy()
		unix.Close(fd)
	})
	return &simHost{st: st, fd: fd}
}

// rawPort is a port driven by the test with hand-made frames.
type rawPort struct {
	t   testing.TB
	fd  int
	mac mac
}

func addRawPort(t testing.TB, n *Network, seg, name string, key byte) *rawPort {
	t.Helper()
	fd, err := n.AddPort(seg, name)
	if err != nil {
		t.Fatalf("AddPort: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &rawPort{t: t, fd: fd, mac: mac{0x02, 0, 0, 0, 0, key}}
}

var broadcast = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// frame builds an Ethernet frame to dst carrying seq and padding.
func (p *rawPort) frame(dst mac, seq uint32, size int) []byte {
	f := make([]byte, max(size, ethHeaderLen+4))
	copy(f[0:], dst[:])
	copy(f[6:], p.mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x88b5) // local experimental ethertype
	binary.BigEndian.PutUint32(f[14:], seq)
	return f
}

func (p *rawPort) send(dst mac, seq uint32, size int) {
	p.t.Helper()
	if _, err := unix.Write(p.fd, p.frame(dst, seq, size)); err != nil {
		p.t.Fatalf("write frame: %v", err)
	}
}

// recv reads one frame, failing the test if none comes within guard.
func (p *rawPort) recv() []byte {
	p.t.Helper()
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
	for {
		k, err := unix.Poll(fds, int(guard/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			p.t.Fatalf("no frame within %v (err %v)", guard, err)
		}
		break
	}
	buf := make([]byte, 70000)
	k, err := unix.Read(p.fd, buf)
	if err != nil {
		p.t.Fatalf("read frame: %v", err)
	}
	return buf[:k]
}

// pending reports whether a frame is waiting on the port now.
func (p *rawPort) pending() bool {
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
	k, _ := unix.Poll(fds, 0)
	return k > 0
}

func seqOf(f []byte) uint32 { return binary.BigEndian.Uint32(f[14:]) }

// waitFor polls cond until it holds, failing after guard.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", guard, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func stats(t testing.TB, n *Network, seg string) Stats {
	t.Helper()
	s, err := n.Stats(seg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
