package mmsg

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func seqpacketPair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func hdrsFor(frames ...[]byte) []Hdr {
	iovs := make([]unix.Iovec, len(frames))
	hdrs := make([]Hdr, len(frames))
	for i, f := range frames {
		iovs[i].Base = &f[0]
		iovs[i].SetLen(len(f))
		hdrs[i].SetIovec(&iovs[i])
	}
	return hdrs
}

func TestSendAndRecvBatches(t *testing.T) {
	a, b := seqpacketPair(t)
	frames := [][]byte{[]byte("one"), []byte("two-two"), bytes.Repeat([]byte("x"), 20)}
	n, err := Send(a, hdrsFor(frames...))
	if err != nil || n != 3 {
		t.Fatalf("Send = %d, %v; want 3, nil", n, err)
	}
	batch := NewBatch(2, 10) // fewer buffers than frames; the third is too long
	got, err := batch.Recv(b)
	if err != nil || got != 2 {
		t.Fatalf("first Recv = %d, %v; want 2, nil", got, err)
	}
	for i, want := range frames[:2] {
		if f := batch.Frame(i); !bytes.Equal(f, want) || batch.Truncated(i) {
			t.Errorf("frame %d = %q (truncated %v), want %q", i, f, batch.Truncated(i), want)
		}
	}
	if got, err = batch.Recv(b); err != nil || got != 1 {
		t.Fatalf("second Recv = %d, %v; want 1, nil", got, err)
	}
	if f := batch.Frame(0); len(f) != 10 || !batch.Truncated(0) {
		t.Errorf("long frame: %d bytes, truncated %v; want 10, true", len(f), batch.Truncated(0))
	}
	if _, err := batch.Recv(b); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("Recv on an empty socket: %v, want EAGAIN", err)
	}
}

func TestWaitSeesPeerClose(t *testing.T) {
	a, b := seqpacketPair(t)
	if err := unix.SetNonblock(b, true); err != nil {
		t.Fatal(err)
	}
	dup, err := unix.Dup(b)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "b")
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Send(a, hdrsFor([]byte("last"))); err != nil {
		t.Fatal(err)
	}
	unix.Shutdown(a, unix.SHUT_WR)
	batch := NewBatch(4, 16)
	n, err := batch.Wait(raw)
	if err != nil || n < 1 || string(batch.Frame(0)) != "last" {
		t.Fatalf("Wait = %d, %v, first %q; want the frame", n, err, batch.Frame(0))
	}
	if n == 1 { // the end may come in the same batch or the next
		if n, err = batch.Wait(raw); err != nil || n < 1 || len(batch.Frame(0)) != 0 {
			t.Fatalf("Wait after close = %d, %v; want an empty frame", n, err)
		}
	} else if len(batch.Frame(1)) != 0 {
		t.Fatalf("second frame %q, want the empty end-of-link frame", batch.Frame(1))
	}
}

func TestSendToFullSocket(t *testing.T) {
	a, _ := seqpacketPair(t)
	if err := unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 1024)
	total := 0
	for range 1000 {
		n, err := Send(a, hdrsFor(frame, frame, frame, frame))
		total += n
		if errors.Is(err, unix.EAGAIN) {
			if total == 0 {
				t.Fatal("nothing sent before EAGAIN")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("a socket nobody reads never filled")
}

func TestHungUp(t *testing.T) {
	a, b := seqpacketPair(t)
	f := os.NewFile(uintptr(must(unix.Dup(b))), "b")
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendmsg(a, nil, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if HungUp(raw) {
		t.Error("an empty message taken for a hang-up")
	}
	if err := unix.Shutdown(a, unix.SHUT_RDWR); err != nil { // as a close does, without closing a twice
		t.Fatal(err)
	}
	if !HungUp(raw) {
		t.Error("the peer's close not seen")
	}
}

func must(fd int, err error) int {
	if err != nil {
		panic(err)
	}
	return fd
}
