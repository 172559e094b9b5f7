package certs

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var testHosts = map[string][]netip.Addr{
	"cloud": {netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")},
}

func readPEM(t *testing.T, file, typ string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, rest := pem.Decode(data)
	if b == nil || b.Type != typ || len(rest) != 0 {
		t.Fatalf("%s: want one PEM block %q", file, typ)
	}
	return b.Bytes
}

func TestGenerate(t *testing.T) {
	now := time.Now()
	specs := []Spec{
		{Name: "cloud", Hosts: []string{"cloud"}},
		{Name: "old", Hosts: []string{"cloud"}, NotAfter: "-1h"},
		{Name: "early", Hosts: []string{"cloud"}, NotBefore: "+1h"},
		{Name: "rogue", Hosts: []string{"cloud"}, Issuer: "other"},
		{Name: "revoked", Hosts: []string{"cloud"}, Revoked: true},
		{Name: "lit", Hosts: []string{"192.0.2.7", "www.example"}, Usage: "client"},
	}
	dir := t.TempDir()
	set, err := Generate(dir, specs, testHosts, now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(readPEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := x509.ParseCertificate(readPEM(t, filepath.Join(dir, "other-ca.pem"), "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(readPEM(t, filepath.Join(dir, "crl.pem"), "X509 CRL"))
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("CRL not signed by the CA: %v", err)
	}
	tests := []struct {
		name      string
		issuer    *x509.Certificate
		valid     bool // valid at now
		revoked   bool
		dns       []string
		ips       []string
		serverUse bool
	}{
		{"cloud", ca, true, false, []string{"cloud"}, []string{"10.0.0.2", "fd00::2"}, true},
		{"old", ca, false, false, []string{"cloud"}, []string{"10.0.0.2", "fd00::2"}, true},
		{"early", ca, false, false, []string{"cloud"}, []string{"10.0.0.2", "fd00::2"}, true},
		{"rogue", other, true, false, []string{"cloud"}, []string{"10.0.0.2", "fd00::2"}, true},
		{"revoked", ca, true, true, []string{"cloud"}, []string{"10.0.0.2", "fd00::2"}, true},
		{"lit", ca, true, false, []string{"www.example"}, []string{"192.0.2.7"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := x509.ParseCertificate(readPEM(t, filepath.Join(dir, tt.name+".pem"), "CERTIFICATE"))
			if err != nil {
				t.Fatal(err)
			}
			keyDER := readPEM(t, filepath.Join(dir, tt.name+".key"), "PRIVATE KEY")
			if _, err := x509.ParsePKCS8PrivateKey(keyDER); err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(filepath.Join(dir, tt.name+".key")); fi.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
			}
			if err := cert.CheckSignatureFrom(tt.issuer); err != nil {
				t.Errorf("not signed by its issuer: %v", err)
			}
			valid := now.After(cert.NotBefore) && now.Before(cert.NotAfter)
			if valid != tt.valid {
				t.Errorf("valid at now = %v, want %v (%v .. %v)", valid, tt.valid, cert.NotBefore, cert.NotAfter)
			}
			if !slices.Equal(cert.DNSNames, tt.dns) {
				t.Errorf("DNS SANs %v, want %v", cert.DNSNames, tt.dns)
			}
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.ips) {
				t.Errorf("IP SANs %v, want %v", ips, tt.ips)
			}
			if got := slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth); got != tt.serverUse {
				t.Errorf("server auth usage %v, want %v", got, tt.serverUse)
			}
			inCRL := slices.ContainsFunc(crl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
				return e.SerialNumber.Cmp(cert.SerialNumber) == 0
			})
			if inCRL != tt.revoked {
				t.Errorf("in CRL = %v, want %v", inCRL, tt.revoked)
			}
			der, err := os.ReadFile(filepath.Join(dir, tt.name+".ocsp"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ocsp.ParseResponseForCert(der, cert, tt.issuer)
			if err != nil {
				t.Fatalf("OCSP response: %v", err)
			}
			want := ocsp.Good
			if tt.revoked {
				want = ocsp.Revoked
			}
			if resp.Status != want {
				t.Errorf("OCSP status %d, want %d", resp.Status, want)
			}
			if set.Leaves[tt.name].Cert.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				t.Error("Set.Leaves does not match the file")
			}
		})
	}
	if p, err := set.Path("cloud.key"); err != nil || p != filepath.Join(dir, "cloud.key") {
		t.Errorf("Path(cloud.key) = %q, %v", p, err)
	}
	if _, err := set.Path("nope.pem"); err == nil {
		t.Error("Path(nope.pem): want an error")
	}
}

func TestGenerateNoOtherCA(t *testing.T) {
	dir := t.TempDir()
	set, err := Generate(dir, []Spec{{Name: "a"}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if set.Other != nil {
		t.Error("other CA made without an entry needing it")
	}
	if _, err := os.Stat(filepath.Join(dir, "other-ca.pem")); !os.IsNotExist(err) {
		t.Errorf("other-ca.pem written: %v", err)
	}
	want := []string{"a.key", "a.ocsp", "a.pem", "ca.pem", "crl.pem"}
	if got := set.Files(); !slices.Equal(got, want) {
		t.Errorf("Files() = %v, want %v", got, want)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name  string
		specs []Spec
		want  string
	}{
		{"reserved ca", []Spec{{Name: "ca"}}, "reserved"},
		{"reserved other-ca", []Spec{{Name: "other-ca"}}, "reserved"},
		{"reserved crl", []Spec{{Name: "crl"}}, "reserved"},
		{"bad name", []Spec{{Name: "../x"}}, "bad certificate name"},
		{"empty name", []Spec{{Name: ""}}, "bad certificate name"},
		{"duplicate", []Spec{{Name: "a"}, {Name: "a"}}, "defined twice"},
		{"issuer", []Spec{{Name: "a", Issuer: "mars"}}, "unknown issuer"},
		{"usage", []Spec{{Name: "a", Usage: "email"}}, "unknown usage"},
		{"duration", []Spec{{Name: "a", NotAfter: "yesterday"}}, "bad duration"},
		{"inverted", []Spec{{Name: "a", NotBefore: "+2h", NotAfter: "+1h"}}, "is not before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(t.TempDir(), tt.specs, nil, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidity(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		spec   Spec
		nb, na time.Time
	}{
		{Spec{}, now.Add(-time.Hour), now.Add(defaultLife)},
		{Spec{NotAfter: "-1h"}, now.Add(-25 * time.Hour), now.Add(-time.Hour)},
		{Spec{NotBefore: "+1h"}, now.Add(time.Hour), now.Add(time.Hour + defaultLife)},
		{Spec{NotBefore: "-3h", NotAfter: "-2h"}, now.Add(-3 * time.Hour), now.Add(-2 * time.Hour)},
	}
	for _, tt := range tests {
		nb, na, err := tt.spec.validity(now)
		if err != nil || !nb.Equal(tt.nb) || !na.Equal(tt.na) {
			t.Errorf("%+v: got %v .. %v (%v), want %v .. %v", tt.spec, nb, na, err, tt.nb, tt.na)
		}
	}
}
