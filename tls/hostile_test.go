package tls

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gotls "crypto/tls"

	"capsim/api/capsim/socket"
)

// liarBackend answers every call well-typed but wrong: more bytes than
// asked, counts past the bytes given, a poll answer of another length or
// with every event, an error of errno 0, a negative descriptor when fd
// says so.
type liarBackend struct {
	socket.Server // nil: a call not overridden panics
	fd            int32
	pollRev       []uint16
}

func (l *liarBackend) Socket(context.Context, int32, int32, int32) (int32, error) { return l.fd, nil }
func (l *liarBackend) Listen(context.Context, int32, int32) error                 { return nil }
func (l *liarBackend) Accept(context.Context, int32, uint32) (int32, socket.Addr, error) {
	return -1, socket.Addr{}, nil
}
func (l *liarBackend) Connect(context.Context, int32, socket.Addr) error {
	return &socket.ConnectError{Errno: 0}
}
func (l *liarBackend) Send(_ context.Context, _ int32, data []byte, _ uint32) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (l *liarBackend) Recv(_ context.Context, _ int32, size, _ uint32) ([]byte, error) {
	return make([]byte, size+16), nil
}
func (l *liarBackend) SendTo(_ context.Context, _ int32, data []byte, _ uint32, _ socket.Addr) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (l *liarBackend) RecvFrom(_ context.Context, _ int32, size, _ uint32) ([]byte, socket.Addr, error) {
	return make([]byte, size+16), socket.Addr{}, nil
}
func (l *liarBackend) SendMsg(_ context.Context, _ int32, data []byte, _ []socket.Cmsg, _ uint32) (uint32, error) {
	return uint32(len(data)) + 100, nil
}
func (l *liarBackend) RecvMsg(_ context.Context, _ int32, size, _ uint32) ([]byte, []socket.Cmsg, uint32, error) {
	return make([]byte, size+16), nil, 0, nil
}
func (l *liarBackend) Poll(context.Context, []socket.PollFd, int32) ([]uint16, uint32, error) {
	return l.pollRev, 99, nil
}
func (l *liarBackend) GetSockOpt(context.Context, int32, int32, int32, uint32) ([]byte, error) {
	return make([]byte, 64), nil
}

// TestTerminatorHostileBackendPassThrough: on a socket that passes through
// (not a stream) the backend's nonsense reaches the client as EIO, never
// as data, counts or readiness.
func TestTerminatorHostileBackendPassThrough(t *testing.T) {
	ctx := testCtx(t)
	cfg := &Config{}
	tests := []struct {
		name string
		be   *liarBackend
		run  func(app *socket.Client, fd int32) error
	}{
		{"recv", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, err := app.Recv(ctx, fd, 10, 0)
			return err
		}},
		{"recvfrom", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, _, err := app.RecvFrom(ctx, fd, 10, 0)
			return err
		}},
		{"recvmsg", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, _, _, err := app.RecvMsg(ctx, fd, 10, 0)
			return err
		}},
		{"send", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, err := app.Send(ctx, fd, []byte("hello"), 0)
			return err
		}},
		{"sendto", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, err := app.SendTo(ctx, fd, []byte("hello"), 0, socket.Addr{})
			return err
		}},
		{"sendmsg", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, err := app.SendMsg(ctx, fd, []byte("hello"), nil, 0)
			return err
		}},
		{"getsockopt", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, err := app.GetSockOpt(ctx, fd, 1, 4, 4)
			return err
		}},
		{"connect errno 0", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			err := app.Connect(ctx, fd, sockAddr(netip.MustParseAddrPort("10.0.0.2:53")))
			var en syscall.Errno
			if errors.As(err, &en) && en == 0 {
				return nil // an error that says success
			}
			return err
		}},
		{"poll answers more", &liarBackend{fd: 3, pollRev: []uint16{1, 1, 1}}, func(app *socket.Client, fd int32) error {
			_, _, err := app.Poll(ctx, []socket.PollFd{{Fd: fd, Events: pollOut}}, 0)
			return err
		}},
		{"accept negative", &liarBackend{fd: 3}, func(app *socket.Client, fd int32) error {
			_, _, err := app.Accept(ctx, fd, 0)
			return err
		}},
		{"socket negative", &liarBackend{fd: -1}, func(app *socket.Client, fd int32) error {
			if fd < 0 {
				return errors.New("no socket")
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := socketClient(NewTerminator(cfg, socketClient(tc.be, 100, "tls"), nil), 1, "app")
			fd, err := app.Socket(ctx, afInet, 2 /* SOCK_DGRAM: passes through */, 0)
			if err != nil {
				if tc.be.fd < 0 && errors.Is(err, syscall.EIO) {
					return
				}
				t.Fatalf("socket: %v", err)
			}
			if err := tc.run(app, fd); !errors.Is(err, syscall.EIO) {
				t.Errorf("got %v, want EIO", err)
			}
		})
	}

	// Events not asked for are not reported.
	app := socketClient(NewTerminator(cfg, socketClient(&liarBackend{fd: 3, pollRev: []uint16{0xffff}}, 100, "tls"), nil), 1, "app")
	fd, err := app.Socket(ctx, afInet, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	rev, n, err := app.Poll(ctx, []socket.PollFd{{Fd: fd, Events: pollOut}}, 0)
	if err != nil || n != 1 || len(rev) != 1 || rev[0] != pollOut|pollErr|pollHup|pollNval {
		t.Errorf("poll = %x, %d, %v; want only POLLOUT and the conditions always reported", rev, n, err)
	}
}

// stallBackend is the OS backend whose Sends, once stall is set, never
// complete: it answers only when its caller gives up, and says so on
// gaveUp. With overclaim set a Send sends nothing and claims more; with
// failOnce the next Send fails (ENOBUFS).
type stallBackend struct {
	*osBackend
	stall, overclaim, failOnce atomic.Bool
	gaveUp                     chan struct{}
}

func (b *stallBackend) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	switch {
	case b.failOnce.Swap(false):
		return 0, syscall.ENOBUFS
	case b.overclaim.Load():
		return uint32(len(data)) + 100, nil
	case b.stall.Load():
		<-ctx.Done()
		select {
		case b.gaveUp <- struct{}{}:
		default:
		}
		return 0, syscall.ECANCELED
	}
	return b.osBackend.Send(ctx, fd, data, flags)
}

// tlsEcho is a TLS server (certificate "cloud") on 127.0.0.1 echoing
// what it reads; it returns the port.
func tlsEcho(t *testing.T, f *fixture) uint16 {
	t.Helper()
	cfg := f.serverConfig("cloud", false)
	ln, err := gotls.Listen("tcp", "127.0.0.1:0", &gotls.Config{Certificates: []gotls.Certificate{*cfg.Certificate}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			}()
		}
	}()
	return portOf(t, ln.Addr().String())
}

// TestTerminatorHostileBackendSession: on a TLS session, a backend Send
// that never completes ends when the client's Send gives up (its deadline),
// and one that claims more than it was given is EIO, not a silent loss.
func TestTerminatorHostileBackendSession(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	port := tlsEcho(t, f)
	t.Run("send past the deadline", func(t *testing.T) {
		be := &stallBackend{osBackend: newOSBackend(t), gaveUp: make(chan struct{}, 1)}
		app := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(be, 100, "tls"), nil), 1, "app")
		fd, err := dialVia(ctx, app, "cloud", port, nil)
		if err != nil {
			t.Fatal(err)
		}
		be.stall.Store(true)
		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := app.Send(sctx, fd, []byte("hello"), 0); err == nil {
			t.Fatal("send succeeded on a stalled backend")
		}
		select {
		case <-be.gaveUp:
		case <-time.After(3 * time.Second):
			t.Fatal("the terminator still waits on the backend's Send 3s after its client gave up")
		}
		// The session can write no more (a record may be cut), and says so.
		be.stall.Store(false)
		if _, err := app.Send(ctx, fd, []byte("again"), 0); err == nil {
			t.Error("send after a cut record succeeded")
		}
		if err := app.Close(ctx, fd); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	t.Run("a failed send is not followed by records", func(t *testing.T) {
		be := &stallBackend{osBackend: newOSBackend(t), gaveUp: make(chan struct{}, 1)}
		app := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(be, 100, "tls"), nil), 1, "app")
		fd, err := dialVia(ctx, app, "cloud", port, nil)
		if err != nil {
			t.Fatal(err)
		}
		be.failOnce.Store(true)
		if _, err := app.Send(ctx, fd, []byte("lost"), 0); err == nil {
			t.Fatal("send succeeded while the backend failed it")
		}
		// The records of "lost" never left: a record after them would be
		// a gap in the stream the peer takes for an attack.
		if _, err := app.Send(ctx, fd, []byte("after"), 0); err == nil {
			t.Error("send after a lost record succeeded")
		}
	})
	t.Run("send claims more", func(t *testing.T) {
		be := &stallBackend{osBackend: newOSBackend(t), gaveUp: make(chan struct{}, 1)}
		app := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(be, 100, "tls"), nil), 1, "app")
		fd, err := dialVia(ctx, app, "cloud", port, nil)
		if err != nil {
			t.Fatal(err)
		}
		be.overclaim.Store(true)
		if _, err := app.Send(ctx, fd, []byte("hello"), 0); !errors.Is(err, syscall.EIO) {
			t.Errorf("send = %v, want EIO", err)
		}
	})
}

// greedyHooks is a plug-in that answers AfterRecv with more than it was
// given, and whose AfterHandshake (server role) never answers: it waits
// for its caller to give up and says so on gaveUp.
type greedyHooks struct{ gaveUp chan struct{} }

func (h *greedyHooks) BeforeConnect(context.Context, uint32, int32, string, netip.AddrPort) error {
	return nil
}
func (h *greedyHooks) AfterHandshake(ctx context.Context, _ uint32, _ int32, server bool, _ string, _ []*x509.Certificate, _ VerifyResult) error {
	if !server {
		return nil
	}
	<-ctx.Done()
	h.gaveUp <- struct{}{}
	return syscall.ETIMEDOUT
}
func (h *greedyHooks) BeforeSend(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	return data, nil
}
func (h *greedyHooks) AfterRecv(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	return append(data, make([]byte, 100)...), nil
}

// TestTerminatorHostilePlugin: a plug-in's AfterRecv answer longer than
// the Recv asked for is EIO; an AfterHandshake of the server role that
// never answers is given up after the handshake timeout.
func TestTerminatorHostilePlugin(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	hooks := &greedyHooks{gaveUp: make(chan struct{}, 1)}

	t.Run("AfterRecv past the size", func(t *testing.T) {
		port := tlsEcho(t, f)
		app := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(newOSBackend(t), 100, "tls"), hooks), 1, "app")
		fd, err := dialVia(ctx, app, "cloud", port, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Send(ctx, fd, []byte("hello"), 0); err != nil {
			t.Fatal(err)
		}
		data, err := app.Recv(ctx, fd, 4, 0)
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("recv of 4 = %d bytes, %v; want EIO", len(data), err)
		}
	})

	t.Run("AfterHandshake never answers", func(t *testing.T) {
		cfg := f.serverConfig("cloud", false)
		cfg.HandshakeTimeout = 300 * time.Millisecond
		term := NewTerminator(cfg, socketClient(newOSBackend(t), 100, "tls"), hooks)
		app := socketClient(term, 7, "server")
		t.Cleanup(func() { term.Forget(context.Background(), 7) })
		_, port := listenVia(t, ctx, app, sockStream)
		c, err := gotls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), &gotls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		select {
		case <-hooks.gaveUp:
		case <-time.After(5 * time.Second):
			t.Fatal("the acceptor still waits on the plug-in 5s after the handshake")
		}
	})
}

// onceVeto is a plug-in whose first AfterRecv fails (as a slow one whose
// caller gave up would), then allows everything.
type onceVeto struct {
	greedyHooks
	vetoed atomic.Bool
}

func (h *onceVeto) AfterHandshake(context.Context, uint32, int32, bool, string, []*x509.Certificate, VerifyResult) error {
	return nil
}

func (h *onceVeto) AfterRecv(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	if !h.vetoed.Swap(true) {
		return nil, syscall.EPERM
	}
	return data, nil
}

// TestTerminatorAfterRecvFailureIsSticky: data taken for a Recv whose
// AfterRecv failed is lost, so the stream cannot go on as if whole.
func TestTerminatorAfterRecvFailureIsSticky(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	port := tlsEcho(t, f)
	app := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(newOSBackend(t), 100, "tls"), &onceVeto{}), 1, "app")
	fd, err := dialVia(ctx, app, "cloud", port, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Send(ctx, fd, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Recv(ctx, fd, 100, 0); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("recv = %v, want the plug-in's EPERM", err)
	}
	if _, err := app.Send(ctx, fd, []byte("world"), 0); err != nil {
		t.Fatal(err)
	}
	if data, err := app.Recv(ctx, fd, 100, 0); err == nil {
		t.Errorf("recv after lost data = %q: a gap in the stream, unseen", data)
	}
}
