package plugin

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"syscall"
)

// Pin is the SHA-256 of a certificate's SubjectPublicKeyInfo.
type Pin [sha256.Size]byte

// SPKIPin returns the pin of cert.
func SPKIPin(cert *x509.Certificate) Pin {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

// String is the HPKP/curl spelling "sha256//BASE64".
func (p Pin) String() string { return "sha256//" + base64.StdEncoding.EncodeToString(p[:]) }

// ParsePin reads "sha256//BASE64" (also "sha256/BASE64") or 64 hex digits.
func ParsePin(s string) (Pin, error) {
	var p Pin
	var b []byte
	var err error
	if rest, ok := strings.CutPrefix(s, "sha256/"); ok {
		b, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(rest, "/"))
	} else {
		b, err = hex.DecodeString(s)
	}
	if err != nil || len(b) != len(p) {
		return p, fmt.Errorf("bad pin %q (want sha256//BASE64 or 64 hex digits)", s)
	}
	copy(p[:], b)
	return p, nil
}

// Decision is a hook's answer; Errno is set when Allow is false.
type Decision struct {
	Allow  bool
	Errno  syscall.Errno
	Reason string
}

var allow = Decision{Allow: true}

func deny(format string, args ...any) Decision {
	return Decision{Errno: syscall.EACCES, Reason: fmt.Sprintf(format, args...)}
}

// Policy is the plug-in's configuration.
type Policy struct {
	// Names is the SNI allow-list; empty allows every name.
	Names []string
	// Pins maps a server name ("*" for every name) to its allowed pins.
	Pins map[string][]Pin
}

// nameMatches reports whether name matches pattern: equal (case-blind),
// "*.suffix" for exactly one label before suffix, or equal addresses.
func nameMatches(pattern, name string) bool {
	if pa, err := netip.ParseAddr(pattern); err == nil {
		na, err := netip.ParseAddr(name)
		return err == nil && pa.Unmap() == na.Unmap()
	}
	pattern, name = strings.ToLower(pattern), strings.ToLower(strings.TrimSuffix(name, "."))
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		label, rest, found := strings.Cut(name, ".")
		return found && label != "" && rest == suffix
	}
	return pattern == name
}

func (p *Policy) nameAllowed(name string) bool {
	if len(p.Names) == 0 {
		return true
	}
	return slices.ContainsFunc(p.Names, func(pat string) bool { return nameMatches(pat, name) })
}

// BeforeConnect decides a connect to addr, host being the name it was
// resolved from or set as server name ("" if none: the address is checked).
func (p *Policy) BeforeConnect(host string, addr netip.AddrPort) Decision {
	name := host
	if name == "" {
		name = addr.Addr().String()
	}
	if !p.nameAllowed(name) {
		return deny("server name %q is not in the allow-list", name)
	}
	return allow
}

// AfterHandshake decides an established session by the server name and
// the SPKI pins of the peer's chain (leaf first). A failed verification
// (verify != 0) is denied as well, so the plug-in never widens trust.
func (p *Policy) AfterHandshake(serverName string, chain []Pin, verify uint32) Decision {
	if verify != 0 {
		return deny("certificate verification failed (%#x)", verify)
	}
	if !p.nameAllowed(serverName) {
		return deny("server name %q is not in the allow-list", serverName)
	}
	want := append(slices.Clone(p.pinsFor(serverName)), p.Pins["*"]...)
	if len(want) == 0 {
		return allow
	}
	for _, c := range chain {
		if slices.Contains(want, c) {
			return allow
		}
	}
	return deny("no certificate of %q matches a pinned key", serverName)
}

func (p *Policy) pinsFor(name string) []Pin {
	var out []Pin
	for pat, pins := range p.Pins {
		if pat != "*" && nameMatches(pat, name) {
			out = append(out, pins...)
		}
	}
	return out
}

// Usage is the synopsis of the plug-in program's flags.
const Usage = `[--allow-name PATTERN]... [--pin NAME=sha256//BASE64]...`

// ParseArgs builds a Policy from the plug-in program's flags:
// --allow-name PATTERN (repeatable) and --pin NAME=PIN (repeatable; NAME
// "*" pins every name).
func ParseArgs(args []string) (*Policy, error) {
	fs := flag.NewFlagSet("tls-pin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	p := &Policy{Pins: map[string][]Pin{}}
	fs.Func("allow-name", "allowed server name pattern", func(v string) error {
		if v == "" {
			return errors.New("empty pattern")
		}
		p.Names = append(p.Names, v)
		return nil
	})
	fs.Func("pin", "NAME=sha256//BASE64", func(v string) error {
		name, pin, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return fmt.Errorf("want NAME=PIN, got %q", v)
		}
		pn, err := ParsePin(pin)
		if err != nil {
			return err
		}
		p.Pins[name] = append(p.Pins[name], pn)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("tls plug-in: %w\nusage: %s", err, Usage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("tls plug-in: unexpected argument %q\nusage: %s", fs.Arg(0), Usage)
	}
	return p, nil
}
