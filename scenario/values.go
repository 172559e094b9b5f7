package scenario

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes, written "4MiB", "512KiB", "64MB" or as plain
// bytes (a string or an integer).
type Size int64

// Rate is a bandwidth in bits per second, written "10Mbit", "512kbit",
// "1Gbit" or "800bit".
type Rate int64

// Ratio is a fraction written as a percentage: "5%" is 0.05. A cpu limit
// may exceed 100% ("150%" is one and a half CPUs).
type Ratio float64

// HostPort is a simulated host name and a port, written "cloud:443".
type HostPort struct {
	Host string
	Port uint16
}

func (h HostPort) String() string { return h.Host + ":" + strconv.Itoa(int(h.Port)) }

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize parses a size such as "4MiB", "512KiB", "64MB" or "1024".
func ParseSize(s string) (Size, error) {
	n, err := parseUnits(s, func(t string) (string, int64) {
		for _, u := range sizeUnits {
			if strings.HasSuffix(t, u.suffix) {
				return strings.TrimSuffix(t, u.suffix), u.mult
			}
		}
		return t, 1
	})
	if err != nil {
		return 0, fmt.Errorf("bad size %q: %w (want bytes or a number with B, KiB, MiB, GiB, TiB, kB, KB, MB, GB or TB, e.g. \"4MiB\")", s, err)
	}
	return Size(n), nil
}

// ParseRate parses a rate in bits per second such as "10Mbit", "512kbit",
// "1Gbit" or "800bit".
func ParseRate(s string) (Rate, error) {
	n, err := parseUnits(s, func(t string) (string, int64) {
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"Gbit", 1e9}, {"Mbit", 1e6}, {"kbit", 1e3}, {"Kbit", 1e3}, {"bit", 1}} {
			if strings.HasSuffix(t, u.suffix) {
				return strings.TrimSuffix(t, u.suffix), u.mult
			}
		}
		return t, 0
	})
	if err != nil {
		return 0, fmt.Errorf("bad rate %q: %w (want a number with bit, kbit, Mbit or Gbit)", s, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("bad rate %q: 0 would carry nothing (leave rate out for no limit)", s)
	}
	return Rate(n), nil
}

var (
	errNoUnit   = errors.New("missing unit")
	errNegative = errors.New("negative")
)

// parseUnits parses a non-negative decimal number followed by a unit that
// split recognises (mult 0: no unit found).
func parseUnits(s string, split func(string) (string, int64)) (int64, error) {
	t := strings.TrimSpace(s)
	num, mult := split(t)
	if mult == 0 {
		return 0, errNoUnit
	}
	num = strings.TrimSpace(num)
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNxXpP_") {
		return 0, errors.New("not a number")
	}
	if f < 0 {
		return 0, errNegative
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("too large")
	}
	if v != math.Trunc(v) {
		return 0, errors.New("not a whole number")
	}
	return int64(v), nil
}

// ParseRatio parses a percentage such as "5%" or "12.5%" into a fraction.
// max bounds the percentage (100 for probabilities; 0 for no bound).
func ParseRatio(s string, max float64) (Ratio, error) {
	t := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(t, "%")
	if !ok {
		return 0, fmt.Errorf("bad percentage %q: want a number followed by %%, like \"5%%\"", s)
	}
	num = strings.TrimSpace(num)
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || strings.ContainsAny(num, "eEnNxXpP_") {
		return 0, fmt.Errorf("bad percentage %q: not a number", s)
	}
	switch {
	case f < 0:
		return 0, fmt.Errorf("bad percentage %q: must not be negative", s)
	case max > 0 && f > max:
		return 0, fmt.Errorf("bad percentage %q: want 0%% to %g%%", s, max)
	}
	return Ratio(f / 100), nil
}

// ParseDuration parses a Go duration ("50ms", "2s"); signed reports
// whether a sign ("-1h", "+1h") is allowed, else the duration must not be
// negative.
func ParseDuration(s string, signed bool) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want a Go duration like \"50ms\" or \"2s\"", s)
	}
	if !signed && (d < 0 || strings.HasPrefix(strings.TrimSpace(s), "+")) {
		return 0, fmt.Errorf("bad duration %q: must not be signed or negative", s)
	}
	return d, nil
}

// ParseHostPort parses "host:port" where host is a simulated host name.
func ParseHostPort(s string) (HostPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return HostPort{}, fmt.Errorf("bad address %q: want HOST:PORT", s)
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil || port == 0 {
		return HostPort{}, fmt.Errorf("bad address %q: port must be 1 to 65535", s)
	}
	if !nameRE.MatchString(s[:i]) {
		return HostPort{}, fmt.Errorf("bad address %q: host must be a host name", s)
	}
	return HostPort{Host: s[:i], Port: uint16(port)}, nil
}

// IsLoopback reports whether a is in 127.0.0.0/8 or is ::1.
func IsLoopback(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() && a.Zone() == ""
}
