package tls

import (
	gotls "crypto/tls"
	"io"
	"testing"
)

func BenchmarkExpRawTLS(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	scfg := f.serverConfig("cloud", false)
	c, s := tcpPair(t)
	srv := gotls.Server(s, &gotls.Config{Certificates: []gotls.Certificate{*scfg.Certificate}})
	cli := gotls.Client(c, &gotls.Config{InsecureSkipVerify: true})
	go io.Copy(io.Discard, srv)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := cli.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

type onlyReader struct{ io.Reader }

func BenchmarkExpCoreBulk64K(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	srv, cli, serr, cerr := handshakePair(t, f.serverConfig("cloud", false), f.config("--ca", "ca.pem"), SessionOptions{}, SessionOptions{ServerName: "cloud"})
	if serr != nil || cerr != nil {
		b.Fatal(serr, cerr)
	}
	defer srv.Close()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	go io.CopyBuffer(io.Discard, onlyReader{srv}, make([]byte, 256<<10))
	for b.Loop() {
		if _, err := cli.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	cli.Close()
}
