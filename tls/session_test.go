package tls

import (
	"bytes"
	"context"
	gotls "crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestClientVerification(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		leaf    string // the server's certificate
		staple  bool   // the server staples its OCSP response
		staple2 string // staple this file instead (a wrong staple)
		client  []string
		opts    SessionOptions
		want    VerifyResult
	}{
		{name: "good", leaf: "cloud", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}},
		{name: "good by address", leaf: "cloud", client: []string{"--ca", "ca.pem"}},
		{name: "good with CRL", leaf: "cloud", client: []string{"--ca", "ca.pem", "--crl", "crl.pem"}, opts: SessionOptions{ServerName: "cloud"}},
		{name: "good staple required", leaf: "cloud", staple: true, client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud", RequireOCSP: true}},
		{name: "wrong CA", leaf: "rogue", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: NotTrusted},
		{name: "no CA configured", leaf: "cloud", client: nil, opts: SessionOptions{ServerName: "cloud"}, want: NotTrusted},
		{name: "wrong name", leaf: "cloud", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "www.example"}, want: NameMismatch},
		{name: "expired", leaf: "old", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: Expired},
		{name: "expired and wrong name", leaf: "old", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "x"}, want: Expired | NameMismatch},
		{name: "not yet valid", leaf: "early", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: NotYetValid},
		{name: "revoked by CRL", leaf: "revoked", client: []string{"--ca", "ca.pem", "--crl", "crl.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: Revoked},
		{name: "revoked not checked without CRL", leaf: "revoked", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}},
		{name: "revoked by OCSP staple", leaf: "revoked", staple: true, client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud", RequireOCSP: true}, want: Revoked},
		{name: "revoked staple counts unrequired", leaf: "revoked", staple: true, client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: Revoked},
		{name: "missing staple", leaf: "cloud", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud", RequireOCSP: true}, want: OCSPMissing},
		{name: "staple of another cert", leaf: "cloud", staple2: "old.ocsp", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud", RequireOCSP: true}, want: OCSPBad},
		{name: "bad staple unrequired", leaf: "cloud", staple2: "old.ocsp", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}},
		{name: "bad key usage", leaf: "clientonly", client: []string{"--ca", "ca.pem"}, opts: SessionOptions{ServerName: "cloud"}, want: BadKeyUsage},
		{name: "trust other CA", leaf: "rogue", client: []string{"--ca", "other-ca.pem"}, opts: SessionOptions{ServerName: "cloud"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scfg := f.serverConfig(tt.leaf, tt.staple)
			if tt.staple2 != "" {
				if err := scfg.LoadOCSP(f.path(tt.staple2)); err != nil {
					t.Fatal(err)
				}
			}
			ccfg := f.config(tt.client...)
			srv, cli, _, cerr := handshakePair(t, scfg, ccfg, SessionOptions{}, tt.opts)
			if tt.want == 0 {
				if cerr != nil {
					t.Fatalf("client: %v", cerr)
				}
				defer srv.Close()
				defer cli.Close()
				if !bytes.Equal(cli.ID(), srv.ID()) || len(cli.ID()) != SessionIDSize {
					t.Errorf("session ids differ: %x vs %x", cli.ID(), srv.ID())
				}
				return
			}
			var he *HandshakeError
			if !errors.As(cerr, &he) {
				t.Fatalf("client err = %v, want a HandshakeError", cerr)
			}
			if he.Result != tt.want || he.Errno != syscall.EACCES || Errno(cerr) != syscall.EACCES {
				t.Errorf("result %v errno %v, want %v EACCES (%v)", he.Result, he.Errno, tt.want, cerr)
			}
		})
	}
}

func TestSessionIO(t *testing.T) {
	f := newFixture(t)
	srv, cli, serr, cerr := handshakePair(t, f.serverConfig("cloud", false), f.config("--ca", "ca.pem"), SessionOptions{}, SessionOptions{ServerName: "cloud"})
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	defer srv.Close()
	defer cli.Close()
	if srv.ServerName() != "cloud" {
		t.Errorf("server saw SNI %q, want cloud", srv.ServerName())
	}
	if n, err := srv.Recv(context.Background(), make([]byte, 4), false, true); n != 0 || err != syscall.EAGAIN {
		t.Errorf("non-blocking Recv on empty = %d, %v; want EAGAIN", n, err)
	}
	ch := srv.Changed()
	msg := bytes.Repeat([]byte("capsim "), 10000) // several records
	go func() {
		cli.Write(msg)
		cli.CloseWrite()
	}()
	<-ch // readiness changes when data arrives
	if !srv.Readable() {
		t.Error("not readable after a change")
	}
	peek := make([]byte, 6)
	if n, err := srv.Recv(context.Background(), peek, true, false); err != nil || string(peek[:n]) != "capsim"[:n] {
		t.Errorf("peek = %q, %v", peek[:n], err)
	}
	got, err := io.ReadAll(srv)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(msg))
	}
	if !srv.Readable() {
		t.Error("not readable at end of stream (poll must report it)")
	}
	if n, err := srv.Recv(context.Background(), peek, false, true); n != 0 || err != io.EOF {
		t.Errorf("Recv after close_notify = %d, %v; want EOF", n, err)
	}
	// The other direction still works after the client's close_notify.
	if _, err := srv.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(cli, buf); err != nil || string(buf) != "bye" {
		t.Errorf("client read %q, %v", buf, err)
	}
}

func TestRecvCancel(t *testing.T) {
	f := newFixture(t)
	srv, cli, serr, cerr := handshakePair(t, f.serverConfig("cloud", false), f.config("--ca", "ca.pem"), SessionOptions{}, SessionOptions{ServerName: "cloud"})
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	defer srv.Close()
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := srv.Recv(ctx, make([]byte, 1), false, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv = %v, want context.Canceled", err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a peer that accepts and never answers
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config("--ca", "ca.pem")
	cfg.HandshakeTimeout = 100 * time.Millisecond
	_, err = cfg.Client(context.Background(), conn, SessionOptions{ServerName: "cloud"})
	if Errno(err) != syscall.ETIMEDOUT {
		t.Fatalf("err = %v (errno %v), want ETIMEDOUT", err, Errno(err))
	}
}

func TestServerErrors(t *testing.T) {
	f := newFixture(t)
	t.Run("no certificate", func(t *testing.T) {
		_, s := tcpPair(t)
		_, err := f.config().Server(context.Background(), s, SessionOptions{})
		if Errno(err) != syscall.ENOKEY {
			t.Errorf("err = %v, want ENOKEY", err)
		}
	})
	t.Run("client cert required and verified", func(t *testing.T) {
		scfg := f.config("--cert", "cloud.pem", "--key", "cloud.key", "--ca", "ca.pem")
		ccfg := f.config("--ca", "ca.pem", "--cert", "device.pem", "--key", "device.key")
		srv, cli, serr, cerr := handshakePair(t, scfg, ccfg, SessionOptions{VerifyClient: true}, SessionOptions{ServerName: "cloud"})
		if serr != nil || cerr != nil {
			t.Fatal(serr, cerr)
		}
		defer cli.Close()
		defer srv.Close()
		if got := srv.PeerCertificates()[0].Subject.CommonName; got != "device" {
			t.Errorf("client certificate %q, want device", got)
		}
	})
	t.Run("certificate request names the CAs", func(t *testing.T) {
		scfg := f.config("--cert", "cloud.pem", "--key", "cloud.key", "--ca", "ca.pem")
		c, s := tcpPair(t)
		go func() {
			if srv, err := scfg.Server(context.Background(), s, SessionOptions{VerifyClient: true}); err == nil {
				srv.Close()
			}
		}()
		var named [][]byte
		cli := gotls.Client(c, &gotls.Config{InsecureSkipVerify: true, MaxVersion: gotls.VersionTLS12,
			GetClientCertificate: func(cri *gotls.CertificateRequestInfo) (*gotls.Certificate, error) {
				named = cri.AcceptableCAs
				return &gotls.Certificate{}, nil
			}})
		defer cli.Close()
		_ = cli.Handshake() // fails: no certificate
		if len(named) != 1 {
			t.Fatalf("the certificate request named %d CAs, want the one of --ca", len(named))
		}
	})
	t.Run("client cert missing", func(t *testing.T) {
		scfg := f.config("--cert", "cloud.pem", "--key", "cloud.key", "--ca", "ca.pem")
		_, _, serr, cerr := handshakePair(t, scfg, f.config("--ca", "ca.pem"), SessionOptions{VerifyClient: true}, SessionOptions{ServerName: "cloud"})
		var he *HandshakeError
		if !errors.As(serr, &he) || he.Errno != syscall.EACCES || he.Result != NoCertificate {
			t.Errorf("server err = %v, want EACCES", serr)
		}
		if cerr == nil {
			// TLS 1.3: the client learns of the rejection on its first read.
			t.Log("client handshake completed before the server's alert (TLS 1.3)")
		}
	})
}
