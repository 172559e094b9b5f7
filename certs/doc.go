// Package certs makes the certificates of a scenario at run time: one
// scenario CA (ca.pem), and per entry a leaf key pair signed by it (NAME.pem,
// NAME.key), a DER OCSP response for the leaf (NAME.ocsp, "good" or
// "revoked", signed by the leaf's issuer) and one CRL (crl.pem) listing the
// revoked leaves of the scenario CA. An entry with issuer "other" is signed
// by a second CA written as other-ca.pem, which nothing trusts by default.
//
// Keys are ECDSA P-256, so a full set takes milliseconds. Nothing here is a
// real service's key: every run makes fresh keys and the CA keys never touch
// the disk.
//
// The entries follow SCENARIO.md "Certificates": name, hosts, not_after and
// not_before (durations relative to now: "-1h" is expired, "+1h" not yet
// valid), issuer, revoked. A leaf made for a host carries the host's name and
// each of its addresses as subject alternative names. The names ca, other-ca
// and crl are reserved.
package certs
