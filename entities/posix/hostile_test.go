package posix

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// loopCaller carries calls in process to a handler over the wire format,
// as the kernel would.
type loopCaller struct{ h ipc.Handler }

type chanResponder chan *ipc.Message

func (c chanResponder) Reply(_ *ipc.Request, m *ipc.Message) error { c <- m; return nil }

func (l loopCaller) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	rep := make(chanResponder, 1)
	go l.h.Serve(ctx, &ipc.Request{Message: *m}, rep)
	select {
	case r := <-rep:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err() // as the runtime does
	}
}

// netOver returns the socket API over the server s, in process.
func netOver(s socket.Server) *Net {
	n := &Net{}
	n.once.Do(func() { n.c = &socket.Client{Caller: loopCaller{socket.NewDispatcher(s)}} })
	return n
}

// liar is a backend whose answers are well-typed nonsense; the fields
// choose which.
type liar struct {
	socket.Server // nil: calls not overridden panic, so a test uses only its own
	recvExtra     int
	sendN         func(len int) (uint32, error)
	fd            int32
	pollRev       []uint16
	pollReady     uint32
	opt           []byte
	addrs         []socket.Addr
	hold          bool // Send and Recv answer only when their caller gives up
}

func (l *liar) Socket(context.Context, int32, int32, int32) (int32, error) { return l.fd, nil }
func (l *liar) Accept(context.Context, int32, uint32) (int32, socket.Addr, error) {
	return l.fd, socket.Addr{}, nil
}
func (l *liar) Recv(ctx context.Context, _ int32, size, _ uint32) ([]byte, error) {
	if l.hold {
		<-ctx.Done()
		return nil, syscall.EINTR
	}
	return make([]byte, int(size)+l.recvExtra), nil
}
func (l *liar) Send(ctx context.Context, _ int32, data []byte, _ uint32) (uint32, error) {
	if l.hold {
		<-ctx.Done()
		return 0, syscall.EINTR
	}
	return l.sendN(len(data))
}
func (l *liar) Poll(context.Context, []socket.PollFd, int32) ([]uint16, uint32, error) {
	return l.pollRev, l.pollReady, nil
}
func (l *liar) GetSockOpt(context.Context, int32, int32, int32, uint32) ([]byte, error) {
	return l.opt, nil
}
func (l *liar) GetAddrInfo(context.Context, string) ([]socket.Addr, error) { return l.addrs, nil }

// TestHostileBackend: what a backend answers beyond what was asked reaches
// the program as an error, never as data, and no answer makes a call spin.
func TestHostileBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name string
		be   *liar
		run  func(ctx context.Context, n *Net) error
	}{
		{"socket negative", &liar{fd: -3}, func(ctx context.Context, n *Net) error {
			_, err := n.Socket(ctx, syscall.AF_INET, syscall.SOCK_STREAM, 0)
			return err
		}},
		{"accept negative", &liar{fd: -3}, func(ctx context.Context, n *Net) error {
			_, _, err := n.Accept(ctx, 1)
			return err
		}},
		{"recv more than asked", &liar{recvExtra: 5}, func(ctx context.Context, n *Net) error {
			_, err := n.Recv(ctx, 1, 10, 0)
			return err
		}},
		{"read more than the buffer", &liar{recvExtra: 5}, func(ctx context.Context, n *Net) error {
			_, err := n.newConn(1).Read(make([]byte, 10))
			return err
		}},
		{"send more than given", &liar{sendN: func(l int) (uint32, error) { return uint32(l) + 1, nil }}, func(ctx context.Context, n *Net) error {
			_, err := n.Send(ctx, 1, []byte("hello"), 0)
			return err
		}},
		{"write more than given", &liar{sendN: func(l int) (uint32, error) { return uint32(l) + 1, nil }}, func(ctx context.Context, n *Net) error {
			_, err := n.newConn(1).Write([]byte("hello"))
			return err
		}},
		{"write of nothing", &liar{sendN: func(int) (uint32, error) { return 0, nil }}, func(ctx context.Context, n *Net) error {
			_, err := n.newConn(1).Write([]byte("hello"))
			return err
		}},
		{"write EAGAIN without deadline", &liar{sendN: func(int) (uint32, error) { return 0, syscall.EAGAIN }}, func(ctx context.Context, n *Net) error {
			_, err := n.newConn(1).Write([]byte("hello"))
			return err
		}},
		{"read holding MSG_DONTWAIT past the deadline", &liar{hold: true, pollRev: []uint16{pollIn}, pollReady: 1}, func(ctx context.Context, n *Net) error {
			c := n.newConn(1)
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := c.Read(make([]byte, 10))
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read = %v, want a deadline error", err)
			}
			return err
		}},
		{"write holding MSG_DONTWAIT past the deadline", &liar{hold: true, pollRev: []uint16{pollOut}, pollReady: 1}, func(ctx context.Context, n *Net) error {
			c := n.newConn(1)
			c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := c.Write([]byte("hello"))
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("write = %v, want a deadline error", err)
			}
			return err
		}},
		{"poll answers more", &liar{pollRev: []uint16{1, 1, 1}, pollReady: 3}, func(ctx context.Context, n *Net) error {
			_, _, err := n.Poll(ctx, []socket.PollFd{{Fd: 1, Events: 1}}, 0)
			return err
		}},
		{"poll counts more", &liar{pollRev: []uint16{1}, pollReady: 7}, func(ctx context.Context, n *Net) error {
			_, _, err := n.Poll(ctx, []socket.PollFd{{Fd: 1, Events: 1}}, 0)
			return err
		}},
		{"option past its size", &liar{opt: make([]byte, 64)}, func(ctx context.Context, n *Net) error {
			_, err := n.GetSockOpt(ctx, 1, 1, 4, 4)
			return err
		}},
		{"address of 3 bytes", &liar{addrs: []socket.Addr{{Family: syscall.AF_INET, Ip: []byte{1, 2, 3}}}}, func(ctx context.Context, n *Net) error {
			ips, err := n.LookupHost(ctx, "cloud")
			if err == nil {
				t.Logf("addresses %v", ips)
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tc.run(ctx, netOver(tc.be)) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("nonsense passed as a valid answer")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still running after 5s")
			}
		})
	}

	// A valid address among invalid ones is kept.
	n := netOver(&liar{addrs: []socket.Addr{{Family: syscall.AF_INET, Ip: []byte{1, 2, 3}}, {Family: syscall.AF_INET, Ip: []byte{10, 0, 0, 2}}}})
	ips, err := n.LookupHost(ctx, "cloud")
	if err != nil || len(ips) != 1 || ips[0] != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("LookupHost = %v, %v; want [10.0.0.2]", ips, err)
	}
	if data, err := n.Recv(ctx, 1, 10, 0); err != nil || len(data) != 10 {
		t.Errorf("Recv of the size asked: %d bytes, %v", len(data), err)
	}
}
