package entity

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"capsim/netstack"
	"capsim/netstack/vnet"
)

// TestLossyTransfer moves 2 MiB between two hosts built as the entity
// builds them (parseArgs with a --nic fd:N from the switch) over a link
// that loses 5% of frames (seeded) and delays each by 5 ms, collecting
// garbage as it goes: before nicFD, the first collection closed a host's
// NIC and the transfer stalled for good (scenarios/net-loss).
func TestLossyTransfer(t *testing.T) {
	lossyTransfer(t, 5*time.Millisecond, 2<<20, time.Minute)
}

// TestLongLossyTransfer is scenarios/net-loss's link and transfer: 4 MiB
// at 5% loss and 50 ms delay (about a minute). Run with CAPSIM_LONG=1.
func TestLongLossyTransfer(t *testing.T) {
	if os.Getenv("CAPSIM_LONG") != "1" {
		t.Skip("set CAPSIM_LONG=1 to run")
	}
	lossyTransfer(t, 50*time.Millisecond, 4<<20, 5*time.Minute)
}

// lossyTransfer fails rather than hangs after guard.
func lossyTransfer(t *testing.T, delay time.Duration, size int, guard time.Duration) {
	n, err := vnet.New(vnet.Config{Seed: 7, Logger: discard(), Segments: []vnet.SegmentConfig{{Name: "wan",
		Impair: vnet.Impairments{Loss: 0.05, Delay: delay}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the hosts close before the switch.
	t.Cleanup(func() { n.Close() })
	device := startHost(t, n, "device", "10.0.0.1/24")
	cloud := startHost(t, n, "cloud", "10.0.0.2/24")
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()

	l := must(cloud.Socket(ctx, 1, netstack.AF_INET, netstack.SOCK_STREAM, 0))(t)
	check(t, cloud.Bind(ctx, 1, l, netip.MustParseAddrPort("0.0.0.0:80")))
	check(t, cloud.Listen(ctx, 1, l, 4))
	c := must(device.Socket(ctx, 1, netstack.AF_INET, netstack.SOCK_STREAM, 0))(t)
	check(t, device.Connect(ctx, 1, c, netip.MustParseAddrPort("10.0.0.2:80")))
	srv, _, err := cloud.Accept(ctx, 1, l, 0)
	check(t, err)

	want := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(want) // deterministic payload
	sent := make(chan error, 1)
	go func() { sent <- sendAll(ctx, cloud, srv, want) }()
	got := make([]byte, 0, size)
	for nextGC := 0; len(got) < size; {
		if len(got) >= nextGC { // what the 4 MiB transfer did on its own
			runtime.GC()
			nextGC += 256 << 10
		}
		b, err := device.Recv(ctx, 1, c, netstack.MaxData, 0)
		if err == nil && len(b) == 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			st, _ := n.Stats("wan")
			t.Fatalf("recv after %d of %d bytes: %v; link %+v", len(got), size, err, st)
		}
		got = append(got, b...)
	}
	check(t, <-sent)
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes received differ from those sent")
	}
	st, err := n.Stats("wan")
	check(t, err)
	if st.Lost == 0 || st.Overflow != 0 {
		t.Errorf("link stats %+v: want losses and no overflow", st)
	}
}

// startHost builds a host on a new port of n's "wan" through parseArgs,
// as the netstack entity does.
func startHost(t *testing.T, n *vnet.Network, name, addr string) *netstack.Sockets {
	t.Helper()
	fd, err := n.AddPort("wan", name)
	check(t, err)
	cfg, err := parseArgs([]string{"--nic", fmt.Sprintf("fd:%d", fd), "--address", addr}, name, io.Discard, discard())
	check(t, err)
	h, err := netstack.NewHost(*cfg)
	check(t, err)
	t.Cleanup(func() { h.Close() })
	return netstack.NewSockets(h, netstack.SocketsConfig{})
}

func sendAll(ctx context.Context, s *netstack.Sockets, fd int32, data []byte) error {
	for len(data) > 0 {
		k, err := s.Send(ctx, 1, fd, data[:min(len(data), 64<<10)], 0)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		data = data[k:]
	}
	return nil
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		check(tb, err)
		return v
	}
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
