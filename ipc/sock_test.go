package ipc

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFrameSocket: SendFrame gathers head and body into one message;
// RecvFrame reads messages whole, reports truncation, EAGAIN when none
// waits, and an empty read once the peer closed.
func TestFrameSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	buf := make([]byte, 16)
	if _, _, err := RecvFrame(fds[1], buf, 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("recv on an empty socket: %v, want EAGAIN", err)
	}
	for _, m := range []struct{ head, body string }{{"head", "body"}, {"just a head", ""}, {"", "just a body"}} {
		if err := SendFrame(fds[0], []byte(m.head), []byte(m.body)); err != nil {
			t.Fatalf("send %q+%q: %v", m.head, m.body, err)
		}
		n, trunc, err := RecvFrame(fds[1], buf, 0)
		if err != nil || trunc || string(buf[:n]) != m.head+m.body {
			t.Errorf("recv = %q, trunc %v, %v; want %q", buf[:n], trunc, err, m.head+m.body)
		}
	}
	if err := SendFrame(fds[0], []byte("a message longer than"), []byte(" the buffer")); err != nil {
		t.Fatal(err)
	}
	n, trunc, err := RecvFrame(fds[1], buf, 0)
	if err != nil || !trunc || n != len(buf) {
		t.Errorf("oversize recv = %d, trunc %v, %v; want %d, true", n, trunc, err, len(buf))
	}
	unix.Close(fds[0])
	if n, _, err := RecvFrame(fds[1], buf, 0); n != 0 || err != nil {
		t.Errorf("recv after the peer closed = %d, %v; want 0, nil", n, err)
	}
	if err := SendFrame(fds[1], []byte("x"), nil); !errors.Is(err, unix.EPIPE) {
		t.Errorf("send to a closed peer: %v, want EPIPE (and no SIGPIPE)", err)
	}
}
