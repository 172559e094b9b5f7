package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCerts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // files expected in stdout
		stderr string
	}{
		{"ok", []string{"cloud:host=cloud", "-o", dir, "--host", "cloud=10.0.0.2,fd00::2", "rogue:issuer=other"},
			0, []string{"ca.pem", "cloud.pem", "cloud.key", "cloud.ocsp", "crl.pem", "other-ca.pem", "rogue.pem"}, ""},
		{"help", []string{"-h"}, 0, nil, "Example:"},
		{"no out", []string{"cloud"}, 2, nil, "missing -o"},
		{"no names", []string{"-o", dir}, 2, nil, "no certificate named"},
		{"reserved", []string{"-o", dir, "crl"}, 2, nil, "reserved"},
		{"bad host", []string{"-o", dir, "--host", "cloud=10.0.0.300", "cloud"}, 2, nil, "host cloud"},
		{"bad flag", []string{"-o", dir, "--bogus", "cloud"}, 2, nil, "usage: capsim certs"},
		{"unwritable", []string{"-o", "/proc/capsim-no", "cloud"}, 1, nil, "capsim: certs:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runCerts(context.Background(), tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, errb.String())
			}
			for _, f := range tt.stdout {
				if !strings.Contains(out.String(), filepath.Join(dir, f)) {
					t.Errorf("stdout lacks %s:\n%s", f, out.String())
				}
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.stderr)
			}
		})
	}
}
