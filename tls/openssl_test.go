package tls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	return p
}

// sServer starts `openssl s_server -rev` for one connection in the
// fixture's folder and returns its address.
func (f *fixture) sServer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args = append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev"}, args...)
	cmd := exec.CommandContext(ctx, needOpenSSL(t), args...)
	cmd.Dir = f.set.Dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
			go io.Copy(io.Discard, out)
			return addr
		}
	}
	t.Fatalf("openssl s_server did not start: %s", stderr.String())
	return ""
}

func TestOpenSSLServer(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		server []string
		client []string
		opts   SessionOptions
		want   VerifyResult
	}{
		{"good", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud"}, 0},
		{"good TLS 1.2", []string{"-cert", "cloud.pem", "-key", "cloud.key", "-tls1_2"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud"}, 0},
		{"good staple required", []string{"-cert", "cloud.pem", "-key", "cloud.key", "-status_file", "cloud.ocsp"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud", RequireOCSP: true}, 0},
		{"wrong CA", []string{"-cert", "rogue.pem", "-key", "rogue.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud"}, NotTrusted},
		{"wrong name", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "device"}, NameMismatch},
		{"expired", []string{"-cert", "old.pem", "-key", "old.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud"}, Expired},
		{"not yet valid", []string{"-cert", "early.pem", "-key", "early.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud"}, NotYetValid},
		{"revoked by CRL", []string{"-cert", "revoked.pem", "-key", "revoked.key"}, []string{"--ca", "ca.pem", "--crl", "crl.pem"}, SessionOptions{ServerName: "cloud"}, Revoked},
		{"revoked by OCSP", []string{"-cert", "revoked.pem", "-key", "revoked.key", "-status_file", "revoked.ocsp"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud", RequireOCSP: true}, Revoked},
		{"missing staple", []string{"-cert", "cloud.pem", "-key", "cloud.key"}, []string{"--ca", "ca.pem"}, SessionOptions{ServerName: "cloud", RequireOCSP: true}, OCSPMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := f.sServer(t, tt.server...)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := f.config(tt.client...).Client(ctx, conn, tt.opts)
			if tt.want != 0 {
				var he *HandshakeError
				if !errors.As(err, &he) || he.Result != tt.want || Errno(err) != syscall.EACCES {
					t.Fatalf("err = %v, want result %v and EACCES", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Write([]byte("hello capsim\n")); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(s).ReadString('\n')
			if err != nil || line != "mispac olleh\n" {
				t.Errorf("s_server -rev answered %q, %v", line, err)
			}
		})
	}
}

// TestOpenSSLClient runs openssl s_client against a capsim server session
// that staples its OCSP response and sends a greeting.
func TestOpenSSLClient(t *testing.T) {
	f := newFixture(t)
	openssl := needOpenSSL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	scfg := f.serverConfig("cloud", true)
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		s, err := scfg.Server(context.Background(), c, SessionOptions{})
		if err != nil {
			errc <- err
			return
		}
		_, err = s.Write([]byte("greetings from capsim\n"))
		s.CloseWrite()
		s.Close()
		errc <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", ln.Addr().String(),
		"-servername", "cloud", "-verify_hostname", "cloud", "-CAfile", "ca.pem",
		"-verify_return_error", "-status", "-ign_eof")
	cmd.Dir = f.set.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("s_client: %v\n%s", err, out)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Verify return code: 0 (ok)", "OCSP Response Status: successful", "Cert Status: good", "greetings from capsim"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("s_client output lacks %q:\n%s", want, out)
		}
	}
}
