package tls

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"capsim/certs"
)

// fixture is a generated certificate set and helpers around it.
type fixture struct {
	t   testing.TB
	set *certs.Set
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	specs := []certs.Spec{
		{Name: "cloud", Hosts: []string{"cloud"}},
		{Name: "old", Hosts: []string{"cloud"}, NotAfter: "-1h"},
		{Name: "early", Hosts: []string{"cloud"}, NotBefore: "+1h"},
		{Name: "rogue", Hosts: []string{"cloud"}, Issuer: "other"},
		{Name: "revoked", Hosts: []string{"cloud"}, Revoked: true},
		{Name: "clientonly", Hosts: []string{"cloud"}, Usage: "client"},
		{Name: "device", Usage: "client"},
	}
	hosts := map[string][]netip.Addr{"cloud": {netip.MustParseAddr("127.0.0.1")}}
	set, err := certs.Generate(t.TempDir(), specs, hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, set: set}
}

func (f *fixture) path(name string) string {
	f.t.Helper()
	p, err := f.set.Path(name)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// config parses capsim:tls flags, with FILE arguments given by base name.
func (f *fixture) config(args ...string) *Config {
	f.t.Helper()
	for i := 1; i < len(args); i++ {
		switch args[i-1] {
		case "--ca", "--cert", "--key", "--crl", "--ocsp":
			args[i] = filepath.Join(f.set.Dir, args[i])
		}
	}
	cfg, err := ParseFlags(args)
	if err != nil {
		f.t.Fatal(err)
	}
	return cfg
}

// serverConfig is the config of a server using leaf name, stapling its
// OCSP response if staple is set.
func (f *fixture) serverConfig(name string, staple bool) *Config {
	args := []string{"--cert", name + ".pem", "--key", name + ".key"}
	if staple {
		args = append(args, "--ocsp", name+".ocsp")
	}
	return f.config(args...)
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// handshakePair runs a server and a client handshake against each other.
func handshakePair(t testing.TB, scfg, ccfg *Config, so, co SessionOptions) (srv, cli *Session, serr, cerr error) {
	t.Helper()
	c, s := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv, serr = scfg.Server(ctx, s, so)
	}()
	cli, cerr = ccfg.Client(ctx, c, co)
	if cerr != nil {
		c.Close() // let the server side fail too
	}
	<-done
	return srv, cli, serr, cerr
}

func mustCert(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
