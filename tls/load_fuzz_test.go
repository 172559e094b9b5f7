package tls

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoadFiles writes arbitrary bytes to a file and loads it as each kind
// of file the capsim:tls flags name: a CA file, a CA folder, a CRL, an
// OCSP staple, the own certificate chain and the own key. Loading must not
// panic, an error must name its flag, and what loads must be usable.
func FuzzLoadFiles(f *testing.F) {
	fx := newFixture(f)
	for _, name := range []string{"ca.pem", "crl.pem", "cloud.pem", "cloud.key", "cloud.ocsp"} {
		b, err := os.ReadFile(fx.path(name))
		if err != nil {
			f.Fatal(err)
		}
		for kind := range uint8(6) {
			f.Add(kind, b)
		}
	}
	f.Add(uint8(0), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add(uint8(2), []byte("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"))
	dir := f.TempDir()
	cadir := filepath.Join(dir, "cas")
	if err := os.Mkdir(cadir, 0o700); err != nil {
		f.Fatal(err)
	}
	file, dirFile := filepath.Join(dir, "input"), filepath.Join(cadir, "input")
	cert, key := fx.path("cloud.pem"), fx.path("cloud.key")
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		for _, p := range []string{file, dirFile} {
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := &Config{Roots: x509.NewCertPool(), Now: time.Now}
		var err error
		var flag string
		switch kind % 6 {
		case 0, 1:
			arg := file
			if kind%6 == 1 {
				arg = cadir
			}
			flag, err = "--ca", c.AddCAs(arg)
			if err == nil && len(c.CACerts) == 0 {
				t.Fatal("AddCAs succeeded without a certificate")
			}
		case 2:
			flag, err = "--crl", c.AddCRL(file)
			if err == nil && (len(c.CRLs) != 1 || c.CRLs[0] == nil) {
				t.Fatal("AddCRL succeeded without a CRL")
			}
		case 3:
			flag, err = "--ocsp", c.LoadOCSP(file)
		case 4:
			flag, err = "--cert", c.LoadKeyPair(file, key)
		case 5:
			flag, err = "--", c.LoadKeyPair(cert, file)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), flag) {
				t.Fatalf("error %q does not name its flag %s", err, flag)
			}
			return
		}
		if kind%6 >= 4 && (c.Certificate == nil || len(c.Certificate.Certificate) == 0) {
			t.Fatal("LoadKeyPair succeeded without a certificate")
		}
	})
}

// FuzzPeerCheck verifies a real chain with an arbitrary OCSP staple (what a
// server sends, unchecked, in its handshake) and an arbitrary extra
// certificate: verification must not panic, and the OCSP flags must follow
// the rules: OCSPMissing only without a staple, OCSPBad only when stapling
// is required.
func FuzzPeerCheck(f *testing.F) {
	fx := newFixture(f)
	var staples [][]byte
	for _, name := range []string{"cloud.ocsp", "revoked.ocsp", "rogue.ocsp"} {
		b, err := os.ReadFile(fx.path(name))
		if err != nil {
			f.Fatal(err)
		}
		staples = append(staples, b)
	}
	for i, s := range staples {
		f.Add(s, []byte(nil), true, uint8(i))
		f.Add(s[:len(s)/2], []byte(nil), false, uint8(i))
	}
	f.Add([]byte{}, fx.set.CA.Cert.Raw, true, uint8(1))
	leaves := []*x509.Certificate{fx.set.Leaves["cloud"].Cert, fx.set.Leaves["revoked"].Cert, fx.set.Leaves["rogue"].Cert, fx.set.Leaves["old"].Cert}
	cfg := fx.config("--ca", "ca.pem", "--crl", "crl.pem")
	f.Fuzz(func(t *testing.T, staple, extra []byte, require bool, sel uint8) {
		chain := []*x509.Certificate{leaves[int(sel)%len(leaves)]}
		if c, err := x509.ParseCertificate(extra); err == nil {
			if sel&0x80 != 0 {
				chain = append([]*x509.Certificate{c}, chain...)
			} else {
				chain = append(chain, c)
			}
		}
		r := cfg.check(x509.ExtKeyUsageServerAuth, "cloud", staple, require).verify(chain)
		if r&OCSPMissing != 0 && len(staple) > 0 {
			t.Fatalf("staple of %d bytes reported missing (%v)", len(staple), r)
		}
		if !require && r&(OCSPMissing|OCSPBad) != 0 {
			t.Fatalf("OCSP not required, yet %v", r)
		}
		_ = r.String()
	})
}
