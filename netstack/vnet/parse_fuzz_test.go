package vnet

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseDelay checks that a delay is never negative, that an error
// quotes the input, and that a delay written back parses to itself.
func FuzzParseDelay(f *testing.F) {
	for _, s := range []string{"50ms", " 2s ", "0", "-1ms", "1h2m3.5s", "9223372036s", "1µs", ".5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDelay(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDelay(%q) = %v", s, d)
		}
		if e, err := ParseDelay(d.String()); err != nil || e != d {
			t.Fatalf("ParseDelay(%q) = %v, but %q parses to %v, %v", s, d, d.String(), e, err)
		}
	})
}

// FuzzParseAction checks that only the two actions parse, each back from
// its own name.
func FuzzParseAction(f *testing.F) {
	for _, s := range []string{"partition", " HEAL ", "heal\x00", "part"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAction(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if a != Partition && a != Heal {
			t.Fatalf("ParseAction(%q) = %d", s, a)
		}
		if b, err := ParseAction(a.String()); err != nil || b != a {
			t.Fatalf("ParseAction(%q) = %v, but %q parses to %v, %v", s, a, a.String(), b, err)
		}
	})
}
