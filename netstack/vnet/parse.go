package vnet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParsePercent parses a scenario percentage such as "5%" or "0.5%" and
// returns it as a fraction in [0, 1] ("5%" gives 0.05). The percent sign is
// required, so "5" (five percent or five hundred?) is an error.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(t, "%")
	if !ok {
		return 0, fmt.Errorf("percentage %q: missing %%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("percentage %q: not a number", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("percentage %q: out of range 0%%..100%%", s)
	}
	return v / 100, nil
}

// rateUnits maps a lower-cased rate unit to bits per second. Multipliers are
// decimal, as in tc(8): 1kbit = 1000 bit/s.
var rateUnits = map[string]float64{
	"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
	"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12,
}

// ParseRate parses a bandwidth such as "10Mbit", "512kbit", "1Gbit" or
// "9600bit" (units case-insensitive, decimal multipliers, an optional "/s"
// suffix; "Mbps" is read as megabits per second) and returns bits per
// second. The rate must be at least 1 bit/s.
func ParseRate(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	i := strings.IndexFunc(t, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.'
	})
	if i <= 0 {
		return 0, fmt.Errorf("rate %q: want a number and a unit (bit, kbit, Mbit, Gbit)", s)
	}
	mult, ok := rateUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("rate %q: unknown unit %q (want bit, kbit, Mbit, Gbit)", s, t[i:])
	}
	v, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("rate %q: not a number", s)
	}
	bits := v * mult
	if bits < 1 || bits > math.MaxInt64 {
		return 0, fmt.Errorf("rate %q: out of range", s)
	}
	return uint64(bits), nil
}

// ParseDelay parses a non-negative duration such as "50ms" or "2s" (the
// syntax of time.ParseDuration) for delay, jitter and schedule offsets.
func ParseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return d, nil
}

// ParseAction parses a schedule action: "partition" or "heal".
func ParseAction(s string) (Action, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "partition":
		return Partition, nil
	case "heal":
		return Heal, nil
	}
	return 0, fmt.Errorf("schedule action %q: want partition or heal", s)
}
