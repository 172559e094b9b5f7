package tls

import (
	"crypto/x509"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// VerifyResult is the certificate verification result: a set of error
// flags, 0 when the peer's certificate is good. GetSockOpt(LevelTLS,
// OptVerifyResult) returns it as a little-endian uint32.
type VerifyResult uint32

// The verification error flags.
const (
	// NotTrusted: no chain to a configured CA (unknown authority, bad
	// signature, an issuer not allowed to sign).
	NotTrusted VerifyResult = 1 << iota
	// Expired: the leaf (or a certificate of its chain) is past NotAfter.
	Expired
	// NotYetValid: the leaf is before its NotBefore.
	NotYetValid
	// NameMismatch: the leaf is not valid for the expected server name.
	NameMismatch
	// Revoked: the leaf is listed in a configured CRL of its issuer, or
	// its stapled OCSP response says revoked.
	Revoked
	// BadKeyUsage: the leaf's (extended) key usage does not allow the
	// role (server auth for a server, client auth for a client).
	BadKeyUsage
	// OCSPMissing: OCSP stapling was required and the peer stapled none.
	OCSPMissing
	// OCSPBad: OCSP stapling was required and the staple does not parse,
	// is not signed by the issuer, is stale, or says "unknown".
	OCSPBad
	// NoCertificate: the peer sent no certificate.
	NoCertificate
	// Other: any other verification failure.
	Other
)

var resultNames = []string{
	"not-trusted", "expired", "not-yet-valid", "name-mismatch", "revoked",
	"bad-key-usage", "ocsp-missing", "ocsp-bad", "no-certificate", "other",
}

// String lists the set flags joined by "|", or "ok".
func (r VerifyResult) String() string {
	if r == 0 {
		return "ok"
	}
	var parts []string
	for i, n := range resultNames {
		if r&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := r &^ (1<<len(resultNames) - 1); rest != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "|")
}

// peerCheck is one verification of a peer's certificate chain.
type peerCheck struct {
	roots   *x509.CertPool
	crls    []*x509.RevocationList
	usage   x509.ExtKeyUsage // ServerAuth for a server's certificate
	name    string           // expected name; "" skips the name check
	staple  []byte
	require bool // OCSP stapling required
	now     time.Time
}

// verify computes every applicable flag, not only the first failure.
func (p *peerCheck) verify(certs []*x509.Certificate) VerifyResult {
	if len(certs) == 0 {
		return NoCertificate
	}
	leaf := certs[0]
	var r VerifyResult
	if p.now.Before(leaf.NotBefore) {
		r |= NotYetValid
	}
	if p.now.After(leaf.NotAfter) {
		r |= Expired
	}
	issuer, chainRes := p.chain(certs, r&(Expired|NotYetValid) != 0)
	r |= chainRes
	if !usageAllows(leaf, p.usage) {
		r |= BadKeyUsage
	}
	if p.name != "" && leaf.VerifyHostname(p.name) != nil {
		r |= NameMismatch
	}
	if issuer != nil && p.inCRL(leaf, issuer) {
		r |= Revoked
	}
	return r | p.ocspResult(leaf, issuer)
}

// chain verifies the path to a root and returns the leaf's issuer. When
// the leaf's own validity already failed, the chain is checked at a time
// inside the leaf's validity, so that the leaf's dates are not reported
// as a trust failure too.
func (p *peerCheck) chain(certs []*x509.Certificate, leafTimeBad bool) (*x509.Certificate, VerifyResult) {
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	at := p.now
	if leafTimeBad {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	roots := p.roots
	if roots == nil {
		roots = x509.NewCertPool()
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		if len(chains[0]) > 1 {
			return chains[0][1], 0
		}
		return chains[0][0], 0
	}
	var fallback *x509.Certificate
	if len(certs) > 1 {
		fallback = certs[1]
	}
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &unknown):
		return fallback, NotTrusted
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fallback, Expired
	case errors.As(err, &invalid):
		return fallback, NotTrusted
	}
	return fallback, Other
}

func usageAllows(leaf *x509.Certificate, want x509.ExtKeyUsage) bool {
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment) == 0 {
		return false
	}
	if len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == want || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// inCRL reports whether a CRL signed by the leaf's issuer lists the leaf.
func (p *peerCheck) inCRL(leaf, issuer *x509.Certificate) bool {
	for _, crl := range p.crls {
		if crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// ocspSkew is how far in the future a staple's ThisUpdate may lie.
const ocspSkew = 5 * time.Minute

// ocspResult checks the stapled response. A valid staple saying revoked
// sets Revoked whether or not stapling is required; a missing or bad
// staple counts only when it is required.
func (p *peerCheck) ocspResult(leaf, issuer *x509.Certificate) VerifyResult {
	if len(p.staple) == 0 {
		if p.require {
			return OCSPMissing
		}
		return 0
	}
	bad := OCSPBad
	if !p.require {
		bad = 0
	}
	if issuer == nil {
		return bad
	}
	resp, err := ocsp.ParseResponseForCert(p.staple, leaf, issuer)
	switch {
	case err != nil:
		return bad
	case resp.Status == ocsp.Revoked:
		return Revoked
	case resp.Status != ocsp.Good:
		return bad
	case !resp.NextUpdate.IsZero() && p.now.After(resp.NextUpdate):
		return bad
	case resp.ThisUpdate.After(p.now.Add(ocspSkew)):
		return bad
	}
	return 0
}
