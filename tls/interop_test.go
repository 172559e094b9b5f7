package tls

// The interoperability matrix with real OpenSSL peers: the terminator in
// the server role against `openssl s_client`, in the client role against
// `openssl s_server`, over the machine's own sockets (osBackend).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"capsim/api/capsim/socket"
)

// opensslPKI makes, with openssl, a root CA, an intermediate CA and three
// server leaves for "cloud" and 127.0.0.1: rsa (RSA 2048, by the root),
// ec (P-256, by the root) and sub (P-256, by the intermediate), into dir.
func opensslPKI(t *testing.T, dir string) {
	t.Helper()
	openssl := needOpenSSL(t)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
	write("rsa.ext", "subjectAltName=DNS:cloud,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
	write("ec.ext", "subjectAltName=DNS:cloud,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n")
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}
	run := func(args ...string) {
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run(append(append([]string{"req", "-x509"}, ec...), "-nodes", "-keyout", "root.key", "-out", "root.pem",
		"-days", "2", "-subj", "/CN=interop root", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")...)
	sign := func(name, newkey []string, ca, ext string) {
		run(append(append([]string{"req"}, newkey...), "-nodes", "-keyout", name[0]+".key", "-out", name[0]+".csr", "-subj", "/CN="+name[1])...)
		run("x509", "-req", "-in", name[0]+".csr", "-CA", ca+".pem", "-CAkey", ca+".key", "-CAcreateserial",
			"-days", "2", "-out", name[0]+".pem", "-extfile", ext)
	}
	sign([]string{"int", "interop intermediate"}, ec, "root", "ca.ext")
	sign([]string{"rsa", "cloud"}, []string{"-newkey", "rsa:2048"}, "root", "rsa.ext")
	sign([]string{"ec", "cloud"}, ec, "root", "ec.ext")
	sign([]string{"sub", "cloud"}, ec, "int", "ec.ext")
}

// sServerRaw is an `openssl s_server -quiet` for one connection, in dir,
// on a free port: what it receives goes to out, what stdin gives it to
// the client (and stdin's end closes the session with close_notify).
type sServerRaw struct {
	port  uint16
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	done  chan struct{}
}

func (s *sServerRaw) received() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.out.Bytes()...)
}

func (s *sServerRaw) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func startSServerRaw(t *testing.T, dir string, args ...string) *sServerRaw {
	t.Helper()
	for try := 0; ; try++ {
		s, stderr := trySServerRaw(t, dir, args...)
		if s != nil {
			return s
		}
		// The free port was taken meanwhile: another one.
		if try == 3 || !strings.Contains(stderr, "Address already in use") {
			t.Fatalf("openssl s_server did not start: %s", stderr)
		}
	}
}

func trySServerRaw(t *testing.T, dir string, args ...string) (*sServerRaw, string) {
	t.Helper()
	port := freeTCPPort(t)
	s := &sServerRaw{port: port, done: make(chan struct{})}
	args = append([]string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port), "-naccept", "1", "-quiet"}, args...)
	s.cmd = exec.Command(needOpenSSL(t), args...)
	s.cmd.Dir = dir
	var stderr bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = s, &stderr
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	// Ready when the port is taken (a probe connection would use up
	// -naccept 1).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			time.Sleep(50 * time.Millisecond) // bound; listening a moment later
			select {
			case <-s.done:
				return nil, stderr.String()
			default:
			}
			t.Cleanup(func() { s.cmd.Process.Kill(); <-s.done })
			return s, ""
		}
		ln.Close()
		select {
		case <-s.done:
			return nil, stderr.String()
		default:
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-s.done
			t.Fatal("openssl s_server did not start")
		}
	}
}

func freeTCPPort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// echoOnce sends line through fd and reads the reversed line of s_server -rev.
func echoOnce(t *testing.T, ctx context.Context, app *socket.Client, fd int32) {
	t.Helper()
	if _, err := app.Send(ctx, fd, []byte("hello capsim\n"), 0); err != nil {
		t.Fatalf("send: %v", err)
	}
	var got []byte
	for !bytes.HasSuffix(got, []byte("\n")) {
		data, err := app.Recv(ctx, fd, 1024, 0)
		if err != nil || len(data) == 0 {
			t.Fatalf("recv after %q: %q, %v", got, data, err)
		}
		got = append(got, data...)
	}
	if string(got) != "mispac olleh\n" {
		t.Errorf("s_server -rev answered %q", got)
	}
}

// TestInteropClientRole: the terminator as a client of openssl s_server.
func TestInteropClientRole(t *testing.T) {
	f := newFixture(t)
	opensslPKI(t, f.set.Dir)
	ctx := testCtx(t)
	tests := []struct {
		name     string
		client   []string // the terminator's flags; fixture files by base name
		server   []string // s_server's, in the fixture's folder
		wantConn syscall.Errno
		wantRecv syscall.Errno // after a connect that succeeded
		want     VerifyResult
	}{
		{name: "TLS 1.2 only", client: []string{"--ca", "ca.pem"}, server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-tls1_2"}},
		{name: "TLS 1.3 only", client: []string{"--ca", "ca.pem"}, server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-tls1_3"}},
		{name: "RSA certificate", client: []string{"--ca", "root.pem"}, server: []string{"-cert", "rsa.pem", "-key", "rsa.key"}},
		{name: "RSA certificate TLS 1.2", client: []string{"--ca", "root.pem"}, server: []string{"-cert", "rsa.pem", "-key", "rsa.key", "-tls1_2"}},
		{name: "ECDSA certificate", client: []string{"--ca", "root.pem"}, server: []string{"-cert", "ec.pem", "-key", "ec.key"}},
		{name: "full chain", client: []string{"--ca", "root.pem"}, server: []string{"-cert", "sub.pem", "-key", "sub.key", "-cert_chain", "int.pem"}},
		{name: "incomplete chain", client: []string{"--ca", "root.pem"}, server: []string{"-cert", "sub.pem", "-key", "sub.key"},
			wantConn: syscall.EACCES, want: NotTrusted},
		{name: "client certificate asked, given, TLS 1.2", client: []string{"--ca", "ca.pem", "--cert", "device.pem", "--key", "device.key"},
			server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-Verify", "1", "-CAfile", "ca.pem", "-tls1_2"}},
		{name: "client certificate asked, given, TLS 1.3", client: []string{"--ca", "ca.pem", "--cert", "device.pem", "--key", "device.key"},
			server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-Verify", "1", "-CAfile", "ca.pem", "-tls1_3"}},
		// OpenSSL ends a TLS 1.2 handshake without the required client
		// certificate with handshake_failure: still EACCES.
		{name: "client certificate required, none, TLS 1.2", client: []string{"--ca", "ca.pem"},
			server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-Verify", "1", "-CAfile", "ca.pem", "-tls1_2"}, wantConn: syscall.EACCES},
		{name: "client certificate required, none, TLS 1.3", client: []string{"--ca", "ca.pem"},
			server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-Verify", "1", "-CAfile", "ca.pem", "-tls1_3"}, wantRecv: syscall.EACCES},
		{name: "client certificate asked, optional, none", client: []string{"--ca", "ca.pem"},
			server: []string{"-cert", "cloud.pem", "-key", "cloud.key", "-verify", "1", "-CAfile", "ca.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _ := terminatorApp(t, f.config(tt.client...), 1)
			port := portOf(t, f.sServer(t, tt.server...))
			fd, err := dialVia(ctx, app, "cloud", port, nil)
			defer app.Close(ctx, fd)
			if tt.wantConn != 0 {
				if !errors.Is(err, tt.wantConn) {
					t.Fatalf("connect = %v, want %v", err, tt.wantConn)
				}
				if got := verifyResultOf(t, ctx, app, fd); got != tt.want {
					t.Errorf("verify result %v, want %v", got, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			if tt.wantRecv != 0 {
				app.Send(ctx, fd, []byte("hello\n"), 0)
				if _, err := app.Recv(ctx, fd, 100, 0); !errors.Is(err, tt.wantRecv) {
					t.Fatalf("recv = %v, want %v", err, tt.wantRecv)
				}
				return
			}
			echoOnce(t, ctx, app, fd)
		})
	}
}

// TestInteropClientRoleEnd: a server's close_notify is the end of the
// stream (an empty recv); a server that just closes the connection
// (killed: the kernel sends FIN, no close_notify) is a truncation, an
// error (ECONNRESET), never a clean end.
func TestInteropClientRoleEnd(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	for _, notify := range []bool{true, false} {
		for _, ver := range []string{"-tls1_2", "-tls1_3"} {
			t.Run(fmt.Sprintf("close_notify=%v %s", notify, ver), func(t *testing.T) {
				app, _ := terminatorApp(t, f.config("--ca", "ca.pem"), 1)
				srv := startSServerRaw(t, f.set.Dir, "-cert", "cloud.pem", "-key", "cloud.key", ver)
				fd, err := dialVia(ctx, app, "cloud", srv.port, nil)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer app.Close(ctx, fd)
				if _, err := srv.stdin.Write([]byte("partial\n")); err != nil {
					t.Fatal(err)
				}
				var got []byte
				for len(got) < len("partial\n") {
					data, err := app.Recv(ctx, fd, 100, 0)
					if err != nil || len(data) == 0 {
						t.Fatalf("recv: %q, %v", data, err)
					}
					got = append(got, data...)
				}
				if notify {
					srv.stdin.Close()
				} else {
					srv.cmd.Process.Kill()
				}
				<-srv.done
				data, err := app.Recv(ctx, fd, 100, 0)
				switch {
				case notify && (err != nil || len(data) != 0):
					t.Errorf("after close_notify: recv = %q, %v; want the end (empty)", data, err)
				case !notify && !errors.Is(err, syscall.ECONNRESET):
					t.Errorf("after a close without close_notify: recv = %q, %v; want ECONNRESET", data, err)
				}
			})
		}
	}
}

// TestInteropClientRoleLarge sends 16 MiB each way at once between the
// terminator and openssl s_server.
func TestInteropClientRoleLarge(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	const size = 16 << 20
	up, down := make([]byte, size), make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(up)
	rng.Read(down)
	app, _ := terminatorApp(t, f.config("--ca", "ca.pem"), 1)
	srv := startSServerRaw(t, f.set.Dir, "-cert", "cloud.pem", "-key", "cloud.key")
	fd, err := dialVia(ctx, app, "cloud", srv.port, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer app.Close(ctx, fd)
	go srv.stdin.Write(down)
	sendErr := make(chan error, 1)
	go func() {
		for off := 0; off < size; {
			n, err := app.Send(ctx, fd, up[off:min(off+socket.MaxData, size)], 0)
			if err != nil {
				sendErr <- err
				return
			}
			off += int(n)
		}
		sendErr <- nil
	}()
	h := sha256.New()
	got := 0
	for got < size {
		data, err := app.Recv(ctx, fd, socket.MaxData, 0)
		if err != nil || len(data) == 0 {
			t.Fatalf("recv after %d bytes: %v", got, err)
		}
		h.Write(data)
		got += len(data)
	}
	if err := <-sendErr; err != nil {
		t.Fatalf("send: %v", err)
	}
	for len(srv.received()) < size && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	srv.stdin.Close() // close_notify
	if data, err := app.Recv(ctx, fd, 100, 0); err != nil || len(data) != 0 {
		t.Errorf("after the download: %q, %v; want the end", data, err)
	}
	if sha256.Sum256(down) != [32]byte(h.Sum(nil)) {
		t.Error("downloaded data differ")
	}
	if sum := sha256.Sum256(srv.received()); sum != sha256.Sum256(up) {
		t.Errorf("uploaded data differ (%d bytes received)", len(srv.received()))
	}
}

// serverApp is an application server behind a terminator in the server
// role: for each session it sends a greeting and reads to the end; with
// shut, once it has read a line it sends close_notify (shutdown SHUT_WR),
// which ends s_client -ign_eof.
type serverApp struct {
	app      *socket.Client
	port     uint16
	sessions chan sessionEnd
}

type sessionEnd struct {
	sni  string
	data string
	err  error // how the reading ended: nil for the peer's close_notify
}

func startServerApp(t *testing.T, ctx context.Context, cfg *Config, shut bool) *serverApp {
	t.Helper()
	app, _ := terminatorApp(t, cfg, 7)
	lfd, port := listenVia(t, ctx, app, sockStream)
	s := &serverApp{app: app, port: port, sessions: make(chan sessionEnd, 16)}
	go func() {
		for {
			fd, _, err := app.Accept(ctx, lfd, 0)
			if err != nil {
				return
			}
			go func(shut bool) {
				defer app.Close(ctx, fd)
				name, _ := app.GetSockOpt(ctx, fd, LevelTLS, OptServerName, 255)
				end := sessionEnd{sni: string(name)}
				if _, err := app.Send(ctx, fd, []byte("greetings\n"), 0); err != nil {
					end.err = err
					s.sessions <- end
					return
				}
				for {
					data, err := app.Recv(ctx, fd, 4096, 0)
					if err != nil || len(data) == 0 {
						end.err = err
						break
					}
					end.data += string(data)
					if shut && strings.Contains(end.data, "\n") {
						shut = false
						if err := app.Shutdown(ctx, fd, shutWr); err != nil {
							end.err = err
							break
						}
					}
				}
				s.sessions <- end
			}(shut)
		}
	}()
	return s
}

// next returns the end of the next session, or fails after a while.
func (s *serverApp) next(t *testing.T) sessionEnd {
	t.Helper()
	select {
	case e := <-s.sessions:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no session ended")
	}
	return sessionEnd{}
}

// sClient runs openssl s_client against port with stdin and returns its
// output.
func sClient(t *testing.T, dir string, port uint16, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args = append([]string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port)}, args...)
	cmd := exec.CommandContext(ctx, needOpenSSL(t), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// TestInteropServerRole: openssl s_client against the terminator as a
// server (an ECDSA certificate).
func TestInteropServerRole(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	srv := startServerApp(t, ctx, f.config("--cert", "cloud.pem", "--key", "cloud.key"), true)
	dir := f.set.Dir
	common := []string{"-CAfile", "ca.pem", "-verify_return_error", "-ign_eof"}

	t.Run("versions and ciphers", func(t *testing.T) {
		for _, c := range []struct{ ver, flag, suite string }{
			{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"},
			{"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"},
			{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"},
			{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"},
			{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"},
			{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"},
		} {
			out := sClient(t, dir, srv.port, "x\n", append([]string{c.ver, c.flag, c.suite, "-servername", "cloud"}, common...)...)
			if !strings.Contains(out, "Cipher is "+c.suite) || !strings.Contains(out, "greetings") {
				t.Errorf("%s %s: not negotiated:\n%s", c.ver, c.suite, out)
			}
			if e := srv.next(t); e.err != nil {
				t.Errorf("%s %s: the server's session ended with %v", c.ver, c.suite, e.err)
			}
		}
		// Below TLS 1.2, and a suite Go does not offer: refused.
		for _, args := range [][]string{{"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"}} {
			if out := sClient(t, dir, srv.port, "x\n", args...); !strings.Contains(out, "alert") || strings.Contains(out, "greetings") {
				t.Errorf("%v: not refused with an alert:\n%s", args, out)
			}
		}
	})

	t.Run("SNI", func(t *testing.T) {
		// The one certificate is served whatever the name; the server
		// reads the name the client sent with TLS_SERVER_NAME.
		for _, c := range []struct {
			args []string
			sni  string
		}{
			{[]string{"-servername", "cloud"}, "cloud"},
			{[]string{"-noservername"}, ""},
			{[]string{"-servername", "wrong.example"}, "wrong.example"},
		} {
			out := sClient(t, dir, srv.port, "x\n", append(c.args, "-CAfile", "ca.pem", "-ign_eof")...)
			if !strings.Contains(out, "greetings") || !strings.Contains(out, "CN = cloud") {
				t.Errorf("%v: no session:\n%s", c.args, out)
			}
			if e := srv.next(t); e.sni != c.sni {
				t.Errorf("%v: the server read SNI %q, want %q", c.args, e.sni, c.sni)
			}
		}
	})

	t.Run("ALPN", func(t *testing.T) {
		// The terminator does not know the protocol of the server behind
		// it: it selects none, and the client falls back to its default.
		out := sClient(t, dir, srv.port, "x\n", append([]string{"-alpn", "h2,http/1.1", "-servername", "cloud"}, common...)...)
		if !strings.Contains(out, "No ALPN negotiated") || !strings.Contains(out, "greetings") {
			t.Errorf("ALPN:\n%s", out)
		}
		srv.next(t)
	})

	t.Run("resumption", func(t *testing.T) {
		for _, ver := range []string{"-tls1_2", "-tls1_3"} {
			sess := filepath.Join(t.TempDir(), "sess.pem")
			out := sClient(t, dir, srv.port, "x\n", append([]string{ver, "-servername", "cloud", "-sess_out", sess}, common...)...)
			if !strings.Contains(out, "New, TLS") {
				t.Fatalf("%s first session:\n%s", ver, out)
			}
			srv.next(t)
			out = sClient(t, dir, srv.port, "x\n", append([]string{ver, "-servername", "cloud", "-sess_in", sess}, common...)...)
			if !strings.Contains(out, "Reused, TLS") || !strings.Contains(out, "greetings") {
				t.Errorf("%s: the session was not resumed:\n%s", ver, out)
			}
			srv.next(t)
		}
	})

	t.Run("close_notify", func(t *testing.T) {
		// s_client sends close_notify at the end of its input.
		sClient(t, dir, srv.port, "bye\n", "-servername", "cloud", "-CAfile", "ca.pem", "-quiet")
		if e := srv.next(t); e.err != nil || e.data != "bye\n" {
			t.Errorf("the server read %q, %v; want bye and the end", e.data, e.err)
		}
	})

	t.Run("close without close_notify", func(t *testing.T) {
		srv := startServerApp(t, ctx, f.config("--cert", "cloud.pem", "--key", "cloud.key"), false)
		for _, ver := range []string{"-tls1_2", "-tls1_3"} {
			cmd := exec.Command(needOpenSSL(t), "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", srv.port),
				"-servername", "cloud", "-quiet", ver)
			cmd.Dir = dir
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdin.Write([]byte("bye\n"))
			buf := make([]byte, 10) // "greetings\n": the handshake is done
			if _, err := io.ReadFull(stdout, buf); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // "bye" on its way
			cmd.Process.Kill()
			cmd.Wait()
			if e := srv.next(t); !errors.Is(e.err, syscall.ECONNRESET) || e.data != "bye\n" {
				t.Errorf("%s: the server read %q, %v; want bye, then ECONNRESET", ver, e.data, e.err)
			}
		}
	})

	t.Run("renegotiation refused", func(t *testing.T) {
		// s_client's "R" asks for a renegotiation: crypto/tls refuses it
		// with a fatal unexpected_message alert and the session ends
		// with an error for the server behind (EIO).
		srv := startServerApp(t, ctx, f.config("--cert", "cloud.pem", "--key", "cloud.key"), false)
		out := sClient(t, dir, srv.port, "R\n", "-tls1_2", "-servername", "cloud", "-CAfile", "ca.pem")
		if !strings.Contains(out, "RENEGOTIATING") {
			t.Errorf("s_client:\n%s", out)
		}
		if e := srv.next(t); !errors.Is(e.err, syscall.EIO) {
			t.Errorf("after a renegotiation attempt the server's session ended with %v, want EIO", e.err)
		}
	})
}

// TestInteropServerRoleVerifyClient: --verify-client against s_client
// with a good certificate, none, and one of another CA.
func TestInteropServerRoleVerifyClient(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	srv := startServerApp(t, ctx, f.config("--cert", "cloud.pem", "--key", "cloud.key", "--ca", "ca.pem", "--verify-client"), true)
	for _, ver := range []string{"-tls1_2", "-tls1_3"} {
		for _, c := range []struct {
			name string
			args []string
			ok   bool
		}{
			{"good", []string{"-cert", "device.pem", "-key", "device.key"}, true},
			{"missing", nil, false},
			{"wrong CA", []string{"-cert", "rogue.pem", "-key", "rogue.key"}, false},
		} {
			out := sClient(t, f.set.Dir, srv.port, "hi\n", append([]string{ver, "-servername", "cloud", "-CAfile", "ca.pem", "-quiet"}, c.args...)...)
			if c.ok {
				if e := srv.next(t); !strings.Contains(out, "greetings") || e.data != "hi\n" {
					t.Errorf("%s %s: %q\n%s", ver, c.name, e.data, out)
				}
				continue
			}
			if !strings.Contains(out, "alert bad certificate") || strings.Contains(out, "greetings") {
				t.Errorf("%s %s: not refused with bad_certificate:\n%s", ver, c.name, out)
			}
		}
	}
	select {
	case e := <-srv.sessions:
		t.Errorf("a refused client reached the server: %+v", e)
	default:
	}
}

// TestInteropServerRoleStall: a client that stops in the middle of its
// ClientHello is dropped after the handshake timeout; the listener serves
// others meanwhile.
func TestInteropServerRoleStall(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	srv := startServerApp(t, ctx, f.config("--cert", "cloud.pem", "--key", "cloud.key", "--handshake-timeout", "500ms"), true)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a record header and a byte of ClientHello
	start := time.Now()
	if out := sClient(t, f.set.Dir, srv.port, "x\n", "-servername", "cloud", "-CAfile", "ca.pem", "-ign_eof"); !strings.Contains(out, "greetings") {
		t.Errorf("a client behind the stalled one:\n%s", out)
	}
	srv.next(t)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 64)); err != io.EOF {
		t.Errorf("the stalled client: read %d, %v; want the connection closed", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the stalled client was dropped after %v", d)
	}
}
