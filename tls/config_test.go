package tls

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inheritFD returns "fd:N" for a fresh descriptor of file, as the kernel
// hands one to an entity.
func inheritFD(t *testing.T, file string) string {
	t.Helper()
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("fd:%d", fd)
}

func TestParseFlags(t *testing.T) {
	f := newFixture(t)
	p := f.path
	caDir := t.TempDir()
	for _, n := range []string{"ca.pem", "other-ca.pem"} {
		data, _ := os.ReadFile(p(n))
		os.WriteFile(filepath.Join(caDir, n), data, 0o644)
	}
	os.WriteFile(filepath.Join(caDir, "README"), []byte("not a certificate"), 0o644)
	tests := []struct {
		name  string
		args  []string
		check func(*Config) string
		err   string
	}{
		{"defaults", nil, func(c *Config) string {
			if c.HandshakeTimeout != DefaultHandshakeTimeout || c.LogLevel != slog.LevelInfo || c.Certificate != nil || len(c.CACerts) != 0 {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}, ""},
		{"all by path", []string{"--ca", p("ca.pem"), "--cert", p("cloud.pem"), "--key", p("cloud.key"), "--crl", p("crl.pem"),
			"--ocsp", p("cloud.ocsp"), "--handshake-timeout", "3s", "--log-level", "debug", "--plugin", "pin", "--plugin", "sni"},
			func(c *Config) string {
				switch {
				case len(c.CACerts) != 1, c.Certificate == nil, len(c.CRLs) != 1, len(c.OCSPStaple) == 0,
					len(c.Certificate.OCSPStaple) == 0, c.HandshakeTimeout != 3*time.Second,
					c.LogLevel != slog.LevelDebug, !slices.Equal(c.Plugins, []string{"pin", "sni"}):
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}, ""},
		{"all by fd", []string{"--ca", inheritFD(t, p("ca.pem")), "--cert", inheritFD(t, p("cloud.pem")), "--key", inheritFD(t, p("cloud.key")),
			"--crl", inheritFD(t, p("crl.pem")), "--ocsp", inheritFD(t, p("cloud.ocsp"))},
			func(c *Config) string {
				if len(c.CACerts) != 1 || c.Certificate == nil || len(c.CRLs) != 1 || len(c.Certificate.OCSPStaple) == 0 {
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}, ""},
		{"CA folder by path", []string{"--ca", caDir}, func(c *Config) string {
			if len(c.CACerts) != 2 {
				return fmt.Sprintf("%d CAs, want 2", len(c.CACerts))
			}
			return ""
		}, ""},
		{"CA folder by fd", []string{"--ca", inheritFD(t, caDir)}, func(c *Config) string {
			if len(c.CACerts) != 2 {
				return fmt.Sprintf("%d CAs, want 2", len(c.CACerts))
			}
			return ""
		}, ""},
		{"cert without key", []string{"--cert", p("cloud.pem")}, nil, "--cert and --key go together"},
		{"mismatched key", []string{"--cert", p("cloud.pem"), "--key", p("old.key")}, nil, "private key does not match"},
		{"missing file", []string{"--ca", "/nonexistent/ca.pem"}, nil, "no such file"},
		{"bad fd", []string{"--ca", "fd:9999"}, nil, "bad file descriptor"},
		{"bad fd syntax", []string{"--ca", "fd:x"}, nil, "bad descriptor"},
		{"no PEM in CA", []string{"--ca", p("cloud.ocsp")}, nil, "no PEM certificate"},
		{"CRL folder", []string{"--crl", caDir}, nil, "is a folder"},
		{"bad CRL", []string{"--crl", p("ca.pem")}, nil, "--crl"},
		{"bad timeout", []string{"--handshake-timeout", "0s"}, nil, "must be positive"},
		{"bad level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"unknown flag", []string{"--cafile", "x"}, nil, "flag provided but not defined"},
		{"positional", []string{"extra"}, nil, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseFlags(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(cfg); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"", "--handshake-timeout 1s", "--log-level warn --plugin x", "--ca fd:x", "--ca", "-h", "--cert a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		for _, a := range args {
			if strings.HasPrefix(a, "fd:") || strings.Contains(a, "/") || !strings.HasPrefix(a, "-") {
				return // keep the fuzzer off the file system and descriptors
			}
		}
		cfg, err := ParseFlags(args)
		if err == nil && (cfg.Roots == nil || cfg.HandshakeTimeout <= 0) {
			t.Fatalf("ParseFlags(%q) gave %+v", args, cfg)
		}
	})
}
