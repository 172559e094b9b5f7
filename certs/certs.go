package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Authority is a CA: its certificate and (in memory only) its key.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// File is the path of its certificate (ca.pem or other-ca.pem).
	File string
}

// Leaf is one generated entry.
type Leaf struct {
	Spec Spec
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// CertFile, KeyFile and OCSPFile are NAME.pem, NAME.key and NAME.ocsp
	// in the set's folder.
	CertFile, KeyFile, OCSPFile string
	// OCSP is the DER OCSP response written to OCSPFile.
	OCSP []byte
}

// Set is the result of Generate: every file written, by name.
type Set struct {
	Dir     string
	CA      *Authority
	Other   *Authority // nil unless an entry has issuer "other"
	CRLFile string
	Leaves  map[string]*Leaf
}

// Files lists the base names of every file written, sorted.
func (s *Set) Files() []string {
	names := []string{"ca.pem", "crl.pem"}
	if s.Other != nil {
		names = append(names, "other-ca.pem")
	}
	for n := range s.Leaves {
		names = append(names, n+".pem", n+".key", n+".ocsp")
	}
	sort.Strings(names)
	return names
}

// Path returns the full path of a file of the set given its base name as
// written after $CERTS/ ("cloud.pem", "ca.pem"), or an error naming the
// files that exist.
func (s *Set) Path(file string) (string, error) {
	for _, f := range s.Files() {
		if f == file {
			return filepath.Join(s.Dir, f), nil
		}
	}
	return "", fmt.Errorf("no certificate file %q (have %v)", file, s.Files())
}

// Generate makes the CA, the second CA if any entry needs it, every leaf,
// the CRL and the OCSP responses, and writes them to dir (created if
// needed). hosts gives the addresses of each simulated host; an entry's
// host that is not in hosts is taken as a DNS name, or as an address if it
// parses as one. now anchors every relative time.
func Generate(dir string, specs []Spec, hosts map[string][]netip.Addr, now time.Time) (*Set, error) {
	if err := checkSpecs(specs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	set := &Set{Dir: dir, Leaves: make(map[string]*Leaf, len(specs))}
	var err error
	if set.CA, err = newAuthority(dir, "ca", "capsim scenario CA", now); err != nil {
		return nil, err
	}
	for _, sp := range specs {
		if sp.Issuer == "other" && set.Other == nil {
			if set.Other, err = newAuthority(dir, "other-ca", "capsim other CA", now); err != nil {
				return nil, err
			}
		}
	}
	var revoked []x509.RevocationListEntry
	for _, sp := range specs {
		issuer := set.CA
		if sp.Issuer == "other" {
			issuer = set.Other
		}
		leaf, err := newLeaf(dir, sp, issuer, hosts, now)
		if err != nil {
			return nil, err
		}
		set.Leaves[sp.Name] = leaf
		if sp.Revoked && issuer == set.CA {
			revoked = append(revoked, x509.RevocationListEntry{
				SerialNumber:   leaf.Cert.SerialNumber,
				RevocationTime: now.Add(-time.Minute),
				ReasonCode:     ocsp.KeyCompromise,
			})
		}
	}
	if set.CRLFile, err = writeCRL(dir, set.CA, revoked, now); err != nil {
		return nil, err
	}
	return set, nil
}

func checkSpecs(specs []Spec) error {
	seen := make(map[string]bool, len(specs))
	for i := range specs {
		if err := specs[i].Validate(); err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		if seen[specs[i].Name] {
			return fmt.Errorf("certs: certificate %q defined twice", specs[i].Name)
		}
		seen[specs[i].Name] = true
	}
	return nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func newAuthority(dir, name, cn string, now time.Time) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: %s key: %w", name, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"capsim"}},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, err := sign(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", name, err)
	}
	file := filepath.Join(dir, name+".pem")
	if err := writePEM(file, "CERTIFICATE", cert.Raw, 0o644); err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key, File: file}, nil
}

func sign(tmpl, parent *x509.Certificate, pub any, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// sans returns the DNS names and addresses a leaf for hostNames carries.
func sans(hostNames []string, hosts map[string][]netip.Addr) (dns []string, ips []netip.Addr) {
	for _, h := range hostNames {
		if a, err := netip.ParseAddr(h); err == nil {
			ips = append(ips, a)
			continue
		}
		dns = append(dns, h)
		ips = append(ips, hosts[h]...)
	}
	return dns, ips
}

func extUsage(usage string) []x509.ExtKeyUsage {
	switch usage {
	case "server":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case "client":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
}

func newLeaf(dir string, sp Spec, ca *Authority, hosts map[string][]netip.Addr, now time.Time) (*Leaf, error) {
	nb, na, err := sp.validity(now)
	if err != nil {
		return nil, fmt.Errorf("certs: certificate %q: %w", sp.Name, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: %s key: %w", sp.Name, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	dns, ips := sans(sp.Hosts, hosts)
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: sp.Name, Organization: []string{"capsim"}},
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  extUsage(sp.Usage),
		DNSNames:     dns,
	}
	for _, a := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
	}
	cert, err := sign(tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: certificate %q: %w", sp.Name, err)
	}
	leaf := &Leaf{
		Spec: sp, Cert: cert, Key: key,
		CertFile: filepath.Join(dir, sp.Name+".pem"),
		KeyFile:  filepath.Join(dir, sp.Name+".key"),
		OCSPFile: filepath.Join(dir, sp.Name+".ocsp"),
	}
	if leaf.OCSP, err = ocspResponse(leaf, ca, now); err != nil {
		return nil, err
	}
	return leaf, leaf.write()
}

func (l *Leaf) write() error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		return fmt.Errorf("certs: %s key: %w", l.Spec.Name, err)
	}
	if err := writePEM(l.CertFile, "CERTIFICATE", l.Cert.Raw, 0o644); err != nil {
		return err
	}
	if err := writePEM(l.KeyFile, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(l.OCSPFile, l.OCSP, 0o644); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// ocspResponse makes the leaf's OCSP answer, signed by its issuer directly.
func ocspResponse(l *Leaf, ca *Authority, now time.Time) ([]byte, error) {
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: l.Cert.SerialNumber,
		ThisUpdate:   now.Add(-time.Hour),
		NextUpdate:   now.Add(7 * 24 * time.Hour),
	}
	if l.Spec.Revoked {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = now.Add(-time.Minute)
		tmpl.RevocationReason = ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: OCSP response for %q: %w", l.Spec.Name, err)
	}
	return der, nil
}

func writeCRL(dir string, ca *Authority, revoked []x509.RevocationListEntry, now time.Time) (string, error) {
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(1),
		ThisUpdate:                now.Add(-time.Hour),
		NextUpdate:                now.Add(7 * 24 * time.Hour),
		RevokedCertificateEntries: revoked,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return "", fmt.Errorf("certs: CRL: %w", err)
	}
	file := filepath.Join(dir, "crl.pem")
	return file, writePEM(file, "X509 CRL", der, 0o644)
}

func writePEM(file, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(file, data, mode); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}
