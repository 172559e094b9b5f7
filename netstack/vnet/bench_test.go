package vnet

import (
	"fmt"
	"io"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkSwitch measures frames through the switch from one socket-pair
// port to another: a sender writes frames to a learned unicast MAC, a
// reader drains the other port. Frames the switch drops because the
// reader's socket was full are reported as drops/op.
func BenchmarkSwitch(b *testing.B) {
	for _, size := range []int{64, 1514, 65014} {
		b.Run(fmt.Sprintf("frame=%d", size), func(b *testing.B) {
			benchSwitch(b, size)
		})
	}
}

func benchSwitch(b *testing.B, size int) {
	cfg := Config{Segments: []SegmentConfig{{Name: "lan", MTU: max(size-ethHeaderLen, DefaultMTU)}}, RecordCap: -1}
	n := startNet(b, cfg)
	src := addRawPort(b, n, "lan", "src", 1)
	dst := addRawPort(b, n, "lan", "dst", 2)
	dst.send(broadcast, 0, 64) // teach the switch dst's MAC
	src.recv()
	frame := src.frame(dst.mac, 1, size)
	got := make(chan int)
	go func() { got <- drain(dst.fd, size) }()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for range b.N {
		if _, err := unix.Write(src.fd, frame); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, "frames switched", func() bool {
		st := stats(b, n, "lan")
		return st.Delivered+st.Overflow == uint64(b.N)+1
	})
	unix.Shutdown(dst.fd, unix.SHUT_RDWR) // ends drain once it has read everything
	received := <-got
	b.StopTimer()
	st := stats(b, n, "lan")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(st.Overflow)/float64(b.N), "drops/op")
	if uint64(received) != st.Delivered-1 {
		b.Fatalf("received %d, switch delivered %d", received, st.Delivered-1)
	}
}

// drain reads frames from fd until it is shut down and returns the count.
func drain(fd, size int) int {
	buf := make([]byte, size+1)
	count := 0
	for {
		k, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			return count
		}
		count++
	}
}

// BenchmarkSwitchTCP measures bulk TCP between two gVisor stacks (fdbased
// endpoints, as the netstack entities use) joined through the switch; the
// direct case joins the same stacks by one socket pair, with no switch, as
// the reference.
func BenchmarkSwitchTCP(b *testing.B) {
	for _, mtu := range []int{1500, 65000} {
		for _, via := range []string{"switch", "direct"} {
			b.Run(fmt.Sprintf("mtu=%d/%s", mtu, via), func(b *testing.B) {
				a, c := tcpPair(b, mtu, via == "switch")
				benchBulk(b, a, c)
			})
		}
	}
}

// tcpPair makes two stacks, 10.0.0.1 and 10.0.0.2, joined through the
// switch or directly.
func tcpPair(b *testing.B, mtu int, viaSwitch bool) (*simHost, *simHost) {
	if viaSwitch {
		n := startNet(b, Config{Segments: []SegmentConfig{{Name: "lan", MTU: mtu}}, RecordCap: -1})
		return addSimHost(b, n, "lan", "a", "10.0.0.1/24", 1), addSimHost(b, n, "lan", "b", "10.0.0.2/24", 2)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	hosts := make([]*simHost, 2)
	// Destroy both stacks before closing either end: an fdbased RecvMMsg
	// dispatcher whose peer has closed spins and never stops.
	b.Cleanup(func() {
		for _, h := range hosts {
			if h != nil {
				h.st.Destroy()
			}
		}
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	for i, fd := range fds {
		if err := setBuffers(fd, DefaultSocketBuffer); err != nil {
			b.Fatal(err)
		}
		addr := netip.MustParsePrefix(fmt.Sprintf("10.0.0.%d/24", i+1))
		st, err := newStack(stackConfig{fd: fd, mtu: mtu, mac: localMAC(uint64(i + 1)), addrs: []netip.Prefix{addr}})
		if err != nil {
			b.Fatal(err)
		}
		hosts[i] = &simHost{st: st, fd: fd}
	}
	return hosts[0], hosts[1]
}

// benchBulk sends b.N 64 KiB chunks from a to a sink on c.
func benchBulk(b *testing.B, a, c *simHost) {
	l := listenSim(b, c, "10.0.0.2:9")
	done := make(chan int64, 1)
	go func() {
		s, err := l.Accept()
		if err != nil {
			done <- -1
			return
		}
		k, _ := io.Copy(io.Discard, s)
		s.Close()
		done <- k
	}()
	conn := dialSim(b, a, "10.0.0.2:9")
	defer conn.Close()
	chunk := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	conn.CloseWrite()
	if k := <-done; k != int64(b.N*len(chunk)) {
		b.Fatalf("received %d bytes, sent %d", k, b.N*len(chunk))
	}
	b.StopTimer()
}
