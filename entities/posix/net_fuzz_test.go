package posix

import (
	"net"
	"strconv"
	"testing"
)

// FuzzSplitHostPort parses arbitrary Dial/Listen addresses: no panic, and
// a host and port that parse, joined again, parse to themselves.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"cloud:443", "[fd00::1]:80", "10.0.0.1:65536", ":0", "a:-1", "[::1%lo]:1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := splitHostPort(s)
		if err != nil {
			return
		}
		joined := net.JoinHostPort(host, strconv.Itoa(int(port)))
		h2, p2, err := splitHostPort(joined)
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("%q gives (%q, %d), joined %q gives (%q, %d), %v", s, host, port, joined, h2, p2, err)
		}
	})
}
