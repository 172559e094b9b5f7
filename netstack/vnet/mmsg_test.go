package vnet

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// testPort is a port on one end of a socket pair; the test reads the other.
func testPort(t *testing.T, s *segment, sndbuf int) (*port, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sndbuf > 0 {
		if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "switch-end")
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); unix.Close(fds[1]) })
	return &port{seg: s, file: f, raw: raw}, fds[1]
}

// drainFrames reads the frames waiting on fd, without blocking.
func drainFrames(t *testing.T, fd int) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, slices.Clone(buf[:n]))
	}
}

func frameOf(tag byte, n int) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = tag
	}
	return f
}

// TestOutboxFlush: each port gets its frames in the order they were
// added, one sendmmsg per port; a dead port's frames and those a full
// socket does not take are counted as overflow, the rest as delivered.
func TestOutboxFlush(t *testing.T) {
	tests := []struct {
		name          string
		sends         []int // port index per frame, in order
		size          int   // frame size
		sndbuf        int   // SO_SNDBUF of port 0's end; 0: default
		dead1         bool  // port 1 is dead
		wantDelivered uint64
		wantOverflow  uint64
		wantGot0      int // frames port 0's peer reads; -1: all sent to it
	}{
		{name: "interleaved", sends: []int{0, 1, 0, 0, 1, 1, 0}, size: 64, wantDelivered: 7, wantGot0: -1},
		{name: "one port", sends: []int{1, 1, 1}, size: 1514, wantDelivered: 3, wantGot0: -1},
		{name: "dead port", sends: []int{0, 1, 1, 0}, size: 64, dead1: true, wantDelivered: 2, wantOverflow: 2, wantGot0: -1},
		{name: "full socket", sends: slices.Repeat([]int{0}, 64), size: 1514, sndbuf: 4096,
			wantGot0: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &segment{}
			p0, peer0 := testPort(t, s, tc.sndbuf)
			p1, peer1 := testPort(t, s, 0)
			p1.dead.Store(tc.dead1)
			ports := []*port{p0, p1}
			var out outbox
			var want [2][][]byte
			for i, pi := range tc.sends {
				f := frameOf(byte(i+1), tc.size)
				out.add(ports[pi], f)
				if pi != 1 || !tc.dead1 {
					want[pi] = append(want[pi], f)
				}
			}
			out.flush()
			if len(out.dsts) != 0 || len(out.frames) != 0 {
				t.Fatalf("outbox not empty after flush: %d frames", len(out.frames))
			}
			got0, got1 := drainFrames(t, peer0), drainFrames(t, peer1)
			st := s.stats.snapshot()
			if tc.wantGot0 == 0 { // a full socket: some frames dropped, in order
				if len(got0) == 0 || len(got0) == len(tc.sends) {
					t.Fatalf("port 0 read %d of %d frames; want some dropped", len(got0), len(tc.sends))
				}
				if !slices.EqualFunc(got0, want[0][:len(got0)], slices.Equal) {
					t.Errorf("port 0 frames out of order")
				}
				if st.Delivered != uint64(len(got0)) || st.Overflow != uint64(len(tc.sends)-len(got0)) {
					t.Errorf("delivered %d overflow %d; read %d of %d", st.Delivered, st.Overflow, len(got0), len(tc.sends))
				}
				return
			}
			if !slices.EqualFunc(got0, want[0], slices.Equal) || !slices.EqualFunc(got1, want[1], slices.Equal) {
				t.Errorf("read %d/%d frames, want %d/%d in order", len(got0), len(got1), len(want[0]), len(want[1]))
			}
			if st.Delivered != tc.wantDelivered || st.Overflow != tc.wantOverflow {
				t.Errorf("delivered %d overflow %d, want %d %d", st.Delivered, st.Overflow, tc.wantDelivered, tc.wantOverflow)
			}
		})
	}
}
