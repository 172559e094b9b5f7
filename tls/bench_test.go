package tls

import (
	"context"
	"io"
	"testing"
)

// BenchmarkCoreHandshake: one full client+server handshake with
// verification (ECDSA P-256, TLS 1.3) over loopback TCP, no IPC.
func BenchmarkCoreHandshake(b *testing.B) {
	f := newFixture(b)
	scfg, ccfg := f.serverConfig("cloud", true), f.config("--ca", "ca.pem", "--crl", "crl.pem")
	for b.Loop() {
		c, s := tcpPair(b)
		done := make(chan error, 1)
		go func() {
			sess, err := scfg.Server(context.Background(), s, SessionOptions{})
			if err == nil {
				sess.Close()
			}
			done <- err
		}()
		sess, err := ccfg.Client(context.Background(), c, SessionOptions{ServerName: "cloud", RequireOCSP: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		sess.Close()
		c.Close()
		s.Close()
	}
}

// BenchmarkCoreBulk: bulk plaintext through one session (encrypt, TCP
// loopback, decrypt through the read-ahead pump).
func BenchmarkCoreBulk(b *testing.B) {
	f := newFixture(b)
	srv, cli, serr, cerr := handshakePair(b, f.serverConfig("cloud", false), f.config("--ca", "ca.pem"), SessionOptions{}, SessionOptions{ServerName: "cloud"})
	if serr != nil || cerr != nil {
		b.Fatal(serr, cerr)
	}
	defer srv.Close()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	go io.Copy(io.Discard, srv)
	for b.Loop() {
		if _, err := cli.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	cli.Close()
}
