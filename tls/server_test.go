package tls

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// terminatorApp is an application calling a terminator over the
// capsim.Socket wire format, the terminator's downstream being the OS.
func terminatorApp(t *testing.T, cfg *Config, id uint32) (*socket.Client, *Terminator) {
	t.Helper()
	term := NewTerminator(cfg, socketClient(newOSBackend(t), 100, "tls"), nil)
	// As when the client goes: its listeners' acceptors stop, so none
	// outlives the test and takes another test's connections from a
	// reused descriptor number of the OS backend.
	t.Cleanup(func() { term.Forget(context.Background(), id) })
	return socketClient(term, id, "app"), term
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialVia resolves host through the app's backend and connects to port;
// opts are LevelTLS options set before the connect.
func dialVia(ctx context.Context, app *socket.Client, host string, port uint16, opts map[int32][]byte) (int32, error) {
	addrs, err := app.GetAddrInfo(ctx, host)
	if err != nil {
		return -1, err
	}
	fd, err := app.Socket(ctx, afInet, sockStream, 0)
	if err != nil {
		return -1, err
	}
	for name, v := range opts {
		if err := app.SetSockOpt(ctx, fd, LevelTLS, name, v); err != nil {
			return fd, err
		}
	}
	a := addrs[0]
	a.Port = port
	return fd, app.Connect(ctx, fd, a)
}

func portOf(t *testing.T, addr string) uint16 {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return uint16(n)
}

func verifyResultOf(t *testing.T, ctx context.Context, app *socket.Client, fd int32) VerifyResult {
	t.Helper()
	v, err := app.GetSockOpt(ctx, fd, LevelTLS, OptVerifyResult, 4)
	if err != nil || len(v) != 4 {
		t.Fatalf("get verify result: %x, %v", v, err)
	}
	return VerifyResult(binary.LittleEndian.Uint32(v))
}

func TestTerminatorClientOpenSSL(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	on := []byte{1, 0, 0, 0}
	tests := []struct {
		name   string
		server []string
		host   string
		opts   map[int32][]byte
		want   VerifyResult
	}{
		{"good by resolved name", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, "cloud", nil, 0},
		{"good by address", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, "127.0.0.1", nil, 0},
		{"good staple required", []string{"-cert", "cloud.pem", "-key", "cloud.key", "-status_file", "cloud.ocsp"}, "cloud", map[int32][]byte{OptRequireOCSP: on}, 0},
		{"wrong CA", []string{"-cert", "rogue.pem", "-key", "rogue.key"}, "cloud", nil, NotTrusted},
		{"wrong name by option", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, "cloud", map[int32][]byte{OptServerName: []byte("www.example")}, NameMismatch},
		{"expired", []string{"-cert", "old.pem", "-key", "old.key"}, "cloud", nil, Expired},
		{"not yet valid", []string{"-cert", "early.pem", "-key", "early.key"}, "cloud", nil, NotYetValid},
		{"revoked by CRL", []string{"-cert", "revoked.pem", "-key", "revoked.key"}, "cloud", nil, Revoked},
		{"revoked by OCSP", []string{"-cert", "revoked.pem", "-key", "revoked.key", "-status_file", "revoked.ocsp"}, "cloud", map[int32][]byte{OptRequireOCSP: on}, Revoked},
		{"missing staple", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, "cloud", map[int32][]byte{OptRequireOCSP: on}, OCSPMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _ := terminatorApp(t, f.config("--ca", "ca.pem", "--crl", "crl.pem"), 1)
			port := portOf(t, f.sServer(t, tt.server...))
			fd, err := dialVia(ctx, app, tt.host, port, tt.opts)
			if tt.want != 0 {
				if !errors.Is(err, syscall.EACCES) {
					t.Fatalf("connect = %v, want EACCES", err)
				}
				if got := verifyResultOf(t, ctx, app, fd); got != tt.want {
					t.Errorf("verify result %v, want %v", got, tt.want)
				}
				if err := app.Close(ctx, fd); err != nil {
					t.Errorf("close after a failed connect: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			if _, err := app.Send(ctx, fd, []byte("hello capsim\n"), 0); err != nil {
				t.Fatal(err)
			}
			rev, n, err := app.Poll(ctx, []socket.PollFd{{Fd: fd, Events: pollIn}}, -1)
			if err != nil || n != 1 || rev[0]&pollIn == 0 {
				t.Fatalf("poll = %v, %d, %v", rev, n, err)
			}
			var got []byte
			for len(got) < 13 {
				data, err := app.Recv(ctx, fd, 1024, 0)
				if err != nil || len(data) == 0 {
					t.Fatalf("recv: %q, %v", data, err)
				}
				got = append(got, data...)
			}
			if string(got) != "mispac olleh\n" {
				t.Errorf("got %q", got)
			}
			if id, err := app.GetSockOpt(ctx, fd, LevelTLS, OptSessionID, 64); err != nil || len(id) != SessionIDSize {
				t.Errorf("session id %x, %v", id, err)
			}
			if name, _ := app.GetSockOpt(ctx, fd, LevelTLS, OptServerName, 255); string(name) != tt.host {
				t.Errorf("server name %q, want %q", name, tt.host)
			}
			if got := verifyResultOf(t, ctx, app, fd); got != 0 {
				t.Errorf("verify result %v after success", got)
			}
			if err := app.SetSockOpt(ctx, fd, LevelTLS, OptServerName, []byte("x")); !errors.Is(err, syscall.EISCONN) {
				t.Errorf("set server name after connect: %v, want EISCONN", err)
			}
			if err := app.Shutdown(ctx, fd, shutWr); err != nil {
				t.Error(err)
			}
			if err := app.Close(ctx, fd); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestTerminatorPair runs an application server behind a terminator in the
// server role and a client behind a terminator in the client role.
func TestTerminatorPair(t *testing.T) {
	ctx, srvApp, cliApp := terminatorPair(t, true)

	lfd, port := listenVia(t, ctx, srvApp, sockStream)
	type accepted struct {
		fd  int32
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		fd, _, err := srvApp.Accept(ctx, lfd, 0)
		acc <- accepted{fd, err}
	}()
	cfd, err := dialVia(ctx, cliApp, "cloud", port, map[int32][]byte{OptRequireOCSP: {1}})
	if err != nil {
		t.Fatal(err)
	}
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	// The server's poll sees nothing yet, then the client's data.
	if _, n, err := srvApp.Poll(ctx, []socket.PollFd{{Fd: a.fd, Events: pollIn}}, 0); err != nil || n != 0 {
		t.Errorf("idle poll: %d, %v", n, err)
	}
	if _, err := srvApp.Recv(ctx, a.fd, 10, msgDontWait); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("recv MSG_DONTWAIT on idle: %v, want EAGAIN", err)
	}
	// A poll mixing the listening socket (polled downstream) and the
	// session waits for the session's data.
	go cliApp.Send(ctx, cfd, []byte("GET / HTTP/1.0\r\n\r\n"), 0)
	rev, n, err := srvApp.Poll(ctx, []socket.PollFd{{Fd: lfd, Events: pollIn}, {Fd: a.fd, Events: pollIn}}, -1)
	if err != nil || n != 1 || rev[0] != 0 || rev[1] != pollIn {
		t.Fatalf("mixed poll = %v, %d, %v; want the session readable", rev, n, err)
	}
	if err := cliApp.Shutdown(ctx, cfd, shutWr); err != nil { // close_notify
		t.Fatal(err)
	}
	got := recvAll(t, ctx, srvApp, a.fd)
	if got != "GET / HTTP/1.0\r\n\r\n" {
		t.Errorf("server got %q", got)
	}
	cid, _ := cliApp.GetSockOpt(ctx, cfd, LevelTLS, OptSessionID, 32)
	sid, _ := srvApp.GetSockOpt(ctx, a.fd, LevelTLS, OptSessionID, 32)
	if len(cid) != 32 || string(cid) != string(sid) {
		t.Errorf("session ids differ: %x %x", cid, sid)
	}
	if name, _ := srvApp.GetSockOpt(ctx, a.fd, LevelTLS, OptServerName, 255); string(name) != "cloud" {
		t.Errorf("server saw SNI %q", name)
	}
	if _, err := srvApp.Send(ctx, a.fd, []byte("HTTP/1.0 200 OK\r\n\r\nhi"), 0); err != nil {
		t.Fatal(err)
	}
	if err := srvApp.Close(ctx, a.fd); err != nil {
		t.Fatal(err)
	}
	if got := recvAll(t, ctx, cliApp, cfd); got != "HTTP/1.0 200 OK\r\n\r\nhi" {
		t.Errorf("client got %q", got)
	}
	if _, err := cliApp.Send(ctx, cfd, []byte("x"), 0); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("send after shutdown: %v, want EPIPE", err)
	}
}

// recvAll reads until the peer's close_notify (an empty Recv).
func recvAll(t *testing.T, ctx context.Context, app *socket.Client, fd int32) string {
	t.Helper()
	var got []byte
	for {
		data, err := app.Recv(ctx, fd, 4096, 0)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if len(data) == 0 {
			return string(got)
		}
		got = append(got, data...)
	}
}

func TestTerminatorHandshakeTimeout(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never answers
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.Read(make([]byte, 1<<16))
			<-ctx.Done()
		}
	}()
	app, _ := terminatorApp(t, f.config("--ca", "ca.pem", "--handshake-timeout", "200ms"), 1)
	fd, err := dialVia(ctx, app, "cloud", portOf(t, ln.Addr().String()), nil)
	if !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("connect = %v, want ETIMEDOUT", err)
	}
	if got := verifyResultOf(t, ctx, app, fd); got != 0 {
		t.Errorf("verify result %v after a timeout, want 0", got)
	}
}

func TestTerminatorClientsApart(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	term := NewTerminator(f.config("--ca", "ca.pem"), socketClient(newOSBackend(t), 100, "tls"), nil)
	a, b := socketClient(term, 1, "a"), socketClient(term, 2, "b")
	fa, err := a.Socket(ctx, afInet, sockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := b.Socket(ctx, afInet, sockStream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fa != 0 || fb != 0 {
		t.Errorf("descriptors %d, %d: want each client's lowest (0)", fa, fb)
	}
	fa2, _ := a.Socket(ctx, afInet, sockStream, 0)
	if err := b.Close(ctx, fa2); !errors.Is(err, syscall.EBADF) {
		t.Errorf("b closing a's descriptor: %v, want EBADF", err)
	}
	if err := a.SetSockOpt(ctx, fa, LevelTLS, 99, nil); !errors.Is(err, syscall.ENOPROTOOPT) {
		t.Errorf("unknown TLS option: %v", err)
	}
	if _, err := a.Send(ctx, fa, []byte("x"), 0); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("send before connect: %v, want EPIPE (as Linux on a stream socket)", err)
	}
	if err := a.Shutdown(ctx, fa, 5); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("shutdown how=5: %v, want EINVAL", err)
	}
	rev, n, err := a.Poll(ctx, []socket.PollFd{{Fd: 42, Events: pollIn}}, 0)
	if err != nil || n != 1 || rev[0] != pollNval {
		t.Errorf("poll of a bad descriptor: %v %d %v", rev, n, err)
	}
	term.Forget(ctx, 1)
	if err := a.Close(ctx, fa); !errors.Is(err, syscall.EBADF) {
		t.Errorf("close after Forget: %v, want EBADF", err)
	}
	if err := b.Close(ctx, fb); err != nil {
		t.Errorf("other client's socket after Forget: %v", err)
	}
}

// denyHooks denies connects to one name and records what it saw.
type denyHooks struct {
	deny     string
	sawChain int
	sentData []byte
}

func (h *denyHooks) BeforeConnect(_ context.Context, _ uint32, _ int32, host string, _ netip.AddrPort) error {
	if host == h.deny {
		return syscall.EPERM
	}
	return nil
}

func (h *denyHooks) AfterHandshake(_ context.Context, _ uint32, _ int32, _ bool, _ string, chain []*x509.Certificate, _ VerifyResult) error {
	h.sawChain = len(chain)
	return nil
}

func (h *denyHooks) BeforeSend(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	h.sentData = append(h.sentData, data...)
	return bytes.ToUpper(data), nil
}

func (h *denyHooks) AfterRecv(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	return data, nil
}

func TestTerminatorHooks(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	hooks := &denyHooks{deny: "127.0.0.1"}
	term := NewTerminator(f.config("--ca", "ca.pem"), socketClient(newOSBackend(t), 100, "tls"), hooks)
	app := socketClient(term, 1, "app")
	port := portOf(t, f.sServer(t, "-cert", "cloud.pem", "-key", "cloud.key"))
	if _, err := dialVia(ctx, app, "127.0.0.1", port, nil); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("connect to a denied name: %v, want the hook's EPERM", err)
	}
	fd, err := dialVia(ctx, app, "cloud", port, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hooks.sawChain != 1 {
		t.Errorf("AfterHandshake saw %d certificates, want 1", hooks.sawChain)
	}
	if _, err := app.Send(ctx, fd, []byte("abc\n"), 0); err != nil {
		t.Fatal(err)
	}
	data, err := app.Recv(ctx, fd, 100, 0)
	if err != nil || string(data) != "CBA\n" { // s_server -rev of the hook's upper-cased data
		t.Errorf("recv %q, %v; want CBA", data, err)
	}
}

// terminatorPair is an application server behind a terminator in the
// server role for "cloud" (with an OCSP staple if staple) and a client
// application behind a terminator in the client role trusting the CA.
func terminatorPair(t *testing.T, staple bool) (context.Context, *socket.Client, *socket.Client) {
	f := newFixture(t)
	srvApp, _ := terminatorApp(t, f.serverConfig("cloud", staple), 7)
	cliApp, _ := terminatorApp(t, f.config("--ca", "ca.pem"), 1)
	return testCtx(t), srvApp, cliApp
}

// listenVia opens a listening TLS socket on 127.0.0.1 through app;
// socktype may add SOCK_NONBLOCK.
func listenVia(t *testing.T, ctx context.Context, app *socket.Client, socktype int32) (int32, uint16) {
	t.Helper()
	lfd, err := app.Socket(ctx, afInet, socktype, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Bind(ctx, lfd, sockAddr(netip.MustParseAddrPort("127.0.0.1:0"))); err != nil {
		t.Fatal(err)
	}
	if err := app.Listen(ctx, lfd, 8); err != nil {
		t.Fatal(err)
	}
	la, err := app.GetSockName(ctx, lfd)
	if err != nil {
		t.Fatal(err)
	}
	return lfd, la.Port
}

// TestTerminatorSilentPeerDoesNotHoldAccept: peers that connect and never
// say a word hold only their own handshakes; a real client behind them is
// accepted at once.
func TestTerminatorSilentPeerDoesNotHoldAccept(t *testing.T) {
	ctx, srvApp, cliApp := terminatorPair(t, false)
	lfd, port := listenVia(t, ctx, srvApp, sockStream)
	for range 3 {
		silent, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
	}
	accepted := make(chan error, 1)
	go func() {
		fd, _, err := srvApp.Accept(ctx, lfd, 0)
		if err == nil {
			_, err = srvApp.Send(ctx, fd, []byte("hello"), 0)
		}
		accepted <- err
	}()
	cfd, err := dialVia(ctx, cliApp, "cloud", port, nil)
	if err != nil {
		t.Fatalf("connect behind silent peers: %v", err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("accept behind silent peers: %v", err)
	}
	if got, err := cliApp.Recv(ctx, cfd, 16, 0); err != nil || string(got) != "hello" {
		t.Errorf("client got %q, %v", got, err)
	}
}

// TestTerminatorListenerReadiness: a non-blocking listener says EAGAIN
// until a handshake is done, poll reports the established session, and
// closing the listener ends a blocked Accept with EBADF.
func TestTerminatorListenerReadiness(t *testing.T) {
	ctx, srvApp, cliApp := terminatorPair(t, false)
	lfd, port := listenVia(t, ctx, srvApp, sockStream|sockNonblock)
	if _, _, err := srvApp.Accept(ctx, lfd, 0); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("accept on an idle non-blocking listener: %v, want EAGAIN", err)
	}
	if _, n, err := srvApp.Poll(ctx, []socket.PollFd{{Fd: lfd, Events: pollIn}}, 0); err != nil || n != 0 {
		t.Fatalf("idle listener poll: %d, %v", n, err)
	}
	if _, err := dialVia(ctx, cliApp, "cloud", port, nil); err != nil {
		t.Fatal(err)
	}
	rev, n, err := srvApp.Poll(ctx, []socket.PollFd{{Fd: lfd, Events: pollIn}}, 10_000)
	if err != nil || n != 1 || rev[0] != pollIn {
		t.Fatalf("listener poll after a handshake = %v, %d, %v; want POLLIN", rev, n, err)
	}
	if _, _, err := srvApp.Accept(ctx, lfd, 0); err != nil {
		t.Fatalf("accept after POLLIN: %v", err)
	}

	blocking, _ := listenVia(t, ctx, srvApp, sockStream)
	ended := make(chan error, 1)
	go func() {
		_, _, err := srvApp.Accept(ctx, blocking, 0)
		ended <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Accept block; the result holds either way
	if err := srvApp.Close(ctx, blocking); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; !errors.Is(err, syscall.EBADF) {
		t.Errorf("accept on a closed listener: %v, want EBADF", err)
	}

	// A terminator without a certificate cannot be a server.
	nokey, _ := listenVia(t, ctx, cliApp, sockStream)
	if _, _, err := cliApp.Accept(ctx, nokey, 0); !errors.Is(err, syscall.ENOKEY) {
		t.Errorf("accept without --cert: %v, want ENOKEY", err)
	}
}

// abortingBackend fails the first downstream Accept with ECONNABORTED,
// as a kernel does when a peer resets before it is accepted.
type abortingBackend struct {
	*osBackend
	aborted atomic.Bool
}

func (b *abortingBackend) Accept(ctx context.Context, fd int32, flags uint32) (int32, socket.Addr, error) {
	if b.aborted.CompareAndSwap(false, true) {
		return -1, socket.Addr{}, syscall.ECONNABORTED
	}
	return b.osBackend.Accept(ctx, fd, flags)
}

// TestTerminatorAcceptAfterAbortedPeer: a transient accept error is not
// the listener's end; the next peer is accepted.
func TestTerminatorAcceptAfterAbortedPeer(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	down := &abortingBackend{osBackend: newOSBackend(t)}
	term := NewTerminator(f.serverConfig("cloud", false), socketClient(down, 100, "tls"), nil)
	t.Cleanup(func() { term.Forget(context.Background(), 7) })
	srvApp := socketClient(term, 7, "app")
	cliApp, _ := terminatorApp(t, f.config("--ca", "ca.pem"), 1)
	lfd, port := listenVia(t, ctx, srvApp, sockStream)
	if _, err := dialVia(ctx, cliApp, "cloud", port, nil); err != nil {
		t.Fatalf("connect after an aborted accept: %v", err)
	}
	if _, _, err := srvApp.Accept(ctx, lfd, 0); err != nil {
		t.Fatalf("accept after an aborted accept: %v", err)
	}
	if !down.aborted.Load() {
		t.Error("the downstream never reported the abort: the test tested nothing")
	}
}

// TestTerminatorVerifyClient: a server with --verify-client accepts only
// clients whose certificate verifies; the others' connect fails with
// EACCES (the server rejected them), and its accept goes on to the next.
func TestTerminatorVerifyClient(t *testing.T) {
	f := newFixture(t)
	srvApp, _ := terminatorApp(t, f.config("--cert", "cloud.pem", "--key", "cloud.key", "--ca", "ca.pem", "--verify-client"), 7)
	anon, _ := terminatorApp(t, f.config("--ca", "ca.pem"), 1)
	device, _ := terminatorApp(t, f.config("--ca", "ca.pem", "--cert", "device.pem", "--key", "device.key"), 2)
	ctx := testCtx(t)
	lfd, port := listenVia(t, ctx, srvApp, sockStream)
	acc := make(chan error, 1)
	go func() {
		fd, _, err := srvApp.Accept(ctx, lfd, 0)
		if err == nil {
			_, err = srvApp.Send(ctx, fd, []byte("hello"), 0)
		}
		acc <- err
	}()
	fd, err := dialVia(ctx, anon, "cloud", port, nil)
	if err == nil { // TLS 1.3: the client learns of the rejection on its first read
		_, err = anon.Recv(ctx, fd, 16, 0)
	}
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("a client without a certificate: %v, want EACCES", err)
	}
	fd, err = dialVia(ctx, device, "cloud", port, nil)
	if err != nil {
		t.Fatalf("a client with a certificate: %v", err)
	}
	if err := <-acc; err != nil {
		t.Fatalf("accept: %v", err)
	}
	if got, err := device.Recv(ctx, fd, 16, 0); err != nil || string(got) != "hello" {
		t.Errorf("recv = %q, %v", got, err)
	}
	if _, err := ParseFlags([]string{"--verify-client"}); err == nil {
		t.Error("--verify-client without --ca was accepted")
	}
}

// TestTransientAccept: a downstream accept refused for a limit of the
// entity (its calls in flight, filled by silent peers' handshakes) is
// retried, never the end of the listener.
func TestTransientAccept(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&ipc.Error{Status: ipc.Limit, Reason: "limit: inflight"}, true},
		{fmt.Errorf("accept: %w", syscall.EMFILE), true},
		{syscall.ECONNABORTED, true},
		{syscall.EBADF, false},
		{&ipc.Error{Status: ipc.PeerGone}, false},
	} {
		if got := transientAccept(tt.err); got != tt.want {
			t.Errorf("transientAccept(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestTerminatorPollSkipsNegativeFds: as poll(2), a negative descriptor is
// skipped (revents 0, and it does not end the wait), an unknown one gets
// POLLNVAL in its own entry.
func TestTerminatorPollSkipsNegativeFds(t *testing.T) {
	ctx, srvApp, _ := terminatorPair(t, false)
	lfd, _ := listenVia(t, ctx, srvApp, sockStream|sockNonblock)
	start := time.Now()
	rev, n, err := srvApp.Poll(ctx, []socket.PollFd{{Fd: -1, Events: pollIn}}, 200)
	if err != nil || n != 0 || rev[0] != 0 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("poll of only -1 = %v, %d, %v after %v; want a wait of the whole timeout with nothing", rev, n, err, time.Since(start))
	}
	rev, n, err = srvApp.Poll(ctx, []socket.PollFd{{Fd: -1, Events: pollIn}, {Fd: lfd, Events: pollIn}, {Fd: 999, Events: pollIn}}, 0)
	if err != nil || n != 1 || rev[0] != 0 || rev[1] != 0 || rev[2] != pollNval {
		t.Errorf("poll [-1, idle listener, 999] = %v, %d, %v; want [0 0 POLLNVAL], 1", rev, n, err)
	}
}

// TestTerminatorPerClientLimits: one client's sockets and listeners are
// bounded (EMFILE, ENOBUFS), and another client still gets its own.
func TestTerminatorPerClientLimits(t *testing.T) {
	f := newFixture(t)
	term := NewTerminator(f.serverConfig("cloud", false), socketClient(newOSBackend(t), 100, "tls"), nil)
	t.Cleanup(func() { term.Forget(context.Background(), 1); term.Forget(context.Background(), 2) })
	hog, other := socketClient(term, 1, "hog"), socketClient(term, 2, "other")
	ctx := testCtx(t)
	var fds []int32
	for range MaxSocketsPerClient {
		fd, err := hog.Socket(ctx, afInet, sockStream, 0)
		if err != nil {
			t.Fatalf("socket %d: %v", len(fds), err)
		}
		fds = append(fds, fd)
	}
	if _, err := hog.Socket(ctx, afInet, sockStream, 0); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("socket past the limit: %v, want EMFILE", err)
	}
	if _, err := other.Socket(ctx, afInet, sockStream, 0); err != nil {
		t.Errorf("another client's socket: %v", err)
	}
	for _, fd := range fds[MaxListenersPerClient+1:] {
		if err := hog.Close(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	for i, fd := range fds[:MaxListenersPerClient+1] {
		if err := hog.Bind(ctx, fd, sockAddr(netip.MustParseAddrPort("127.0.0.1:0"))); err != nil {
			t.Fatal(err)
		}
		err := hog.Listen(ctx, fd, 4)
		switch {
		case i < MaxListenersPerClient && err != nil:
			t.Fatalf("listener %d: %v", i, err)
		case i == MaxListenersPerClient && !errors.Is(err, syscall.ENOBUFS):
			t.Errorf("listener past the limit: %v, want ENOBUFS", err)
		}
	}
	if err := hog.Listen(ctx, fds[0], 16); err != nil { // a listener listening again
		t.Errorf("listen again on a listener at the limit: %v", err)
	}
}
