package certs

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Spec is one entry of a scenario's certs list. The string fields keep the
// scenario's spelling so that a TOML decoder can fill a Spec directly.
type Spec struct {
	// Name names the files NAME.pem, NAME.key and NAME.ocsp.
	Name string `toml:"name"`
	// Hosts are the simulated hosts (or literal addresses) the leaf is for:
	// each host's name and addresses become subject alternative names.
	Hosts []string `toml:"hosts"`
	// NotAfter and NotBefore are signed Go durations relative to now
	// ("-1h", "+1h"); empty means the default validity (now-1h .. now+1y).
	NotAfter  string `toml:"not_after"`
	NotBefore string `toml:"not_before"`
	// Issuer is "" or "ca" for the scenario CA, "other" for the second CA.
	Issuer string `toml:"issuer"`
	// Revoked puts the leaf in crl.pem and makes its OCSP answer "revoked".
	Revoked bool `toml:"revoked"`
	// Usage restricts the extended key usage: "server", "client", or ""
	// for both. (capsim extension, to model a bad key usage.)
	Usage string `toml:"usage"`
}

// Reserved names, which an entry may not take.
var reserved = map[string]bool{"ca": true, "other-ca": true, "crl": true}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Default validity of a leaf whose Spec sets no bound.
const (
	defaultBefore = time.Hour
	defaultLife   = 365 * 24 * time.Hour
)

// validity returns the leaf's NotBefore and NotAfter relative to now.
func (s *Spec) validity(now time.Time) (nb, na time.Time, err error) {
	nb, na = now.Add(-defaultBefore), now.Add(defaultLife)
	if s.NotBefore != "" {
		d, err := parseRelative(s.NotBefore)
		if err != nil {
			return nb, na, fmt.Errorf("not_before: %w", err)
		}
		nb = now.Add(d)
		if s.NotAfter == "" {
			na = nb.Add(defaultLife)
		}
	}
	if s.NotAfter != "" {
		d, err := parseRelative(s.NotAfter)
		if err != nil {
			return nb, na, fmt.Errorf("not_after: %w", err)
		}
		na = now.Add(d)
		if s.NotBefore == "" && !nb.Before(na) {
			nb = na.Add(-24 * time.Hour)
		}
	}
	if !nb.Before(na) {
		return nb, na, fmt.Errorf("not_before %s is not before not_after %s", nb.Format(time.RFC3339), na.Format(time.RFC3339))
	}
	return nb, na, nil
}

// parseRelative parses a signed Go duration; a leading "+" is allowed.
func parseRelative(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want e.g. \"-1h\" or \"+30m\")", s)
	}
	return d, nil
}

// Validate checks one entry on its own: the name, the issuer, the usage and
// the durations.
func (s *Spec) Validate() error {
	switch {
	case reserved[s.Name]:
		return fmt.Errorf("certificate name %q is reserved (ca, other-ca, crl)", s.Name)
	case !nameRE.MatchString(s.Name):
		return fmt.Errorf("bad certificate name %q (want [a-z][a-z0-9-]*)", s.Name)
	}
	switch s.Issuer {
	case "", "ca", "other":
	default:
		return fmt.Errorf("certificate %q: unknown issuer %q (want \"ca\" or \"other\")", s.Name, s.Issuer)
	}
	switch s.Usage {
	case "", "server", "client":
	default:
		return fmt.Errorf("certificate %q: unknown usage %q (want \"server\" or \"client\")", s.Name, s.Usage)
	}
	if _, _, err := s.validity(time.Now()); err != nil {
		return fmt.Errorf("certificate %q: %w", s.Name, err)
	}
	return nil
}

// ParseSpec parses the command-line form of an entry:
//
//	NAME[:OPT,OPT...]   OPT: host=H | not_after=D | not_before=D |
//	                         issuer=other | revoked | usage=server|client
//
// for example "old:host=cloud,not_after=-1h". host may repeat.
func ParseSpec(arg string) (Spec, error) {
	name, opts, _ := strings.Cut(arg, ":")
	s := Spec{Name: name}
	if opts == "" {
		return s, s.Validate()
	}
	for _, opt := range strings.Split(opts, ",") {
		k, v, hasValue := strings.Cut(opt, "=")
		if err := s.setOption(k, v, hasValue); err != nil {
			return s, fmt.Errorf("certificate %q: %w", name, err)
		}
	}
	return s, s.Validate()
}

func (s *Spec) setOption(k, v string, hasValue bool) error {
	if k == "revoked" {
		if hasValue {
			return fmt.Errorf("option revoked takes no value")
		}
		s.Revoked = true
		return nil
	}
	if !hasValue || v == "" {
		return fmt.Errorf("option %q needs a value (%s=...)", k, k)
	}
	switch k {
	case "host":
		s.Hosts = append(s.Hosts, v)
	case "not_after":
		s.NotAfter = v
	case "not_before":
		s.NotBefore = v
	case "issuer":
		s.Issuer = v
	case "usage":
		s.Usage = v
	default:
		return fmt.Errorf("unknown option %q (want host, not_after, not_before, issuer, revoked, usage)", k)
	}
	return nil
}
