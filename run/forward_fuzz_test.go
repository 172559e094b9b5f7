package run

import (
	"net/netip"
	"testing"

	"capsim/scenario"
)

// FuzzCheckForwardFlags checks arbitrary --forward values against a
// scenario: no panic, every error names the flag, and a value with no
// error listens on a loopback address and names a host of the scenario.
func FuzzCheckForwardFlags(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8443=cloud:443", "[::1]:80=cloud:8080", "0.0.0.0:80=cloud:443",
		"127.0.0.1:8443", "127.0.0.1:x=cloud:443", "127.0.0.1:1=Cloud:1", "[::1%lo]:80=cloud:1",
		"[::ffff:127.0.0.1]:8080=cloud:1", "127.0.0.1:8080=cloud:1", "=", "127.0.0.1:1=:1"} {
		f.Add(s)
	}
	sc := &scenario.Scenario{
		Hosts:    []scenario.Host{{Name: "cloud", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}}},
		Links:    []scenario.Link{{Name: "lan", Hosts: []string{"cloud"}}},
		Forwards: []scenario.Forward{{Listen: netip.MustParseAddrPort("127.0.0.1:8080")}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		errs := checkForwardFlags(sc, []string{s})
		for _, e := range errs {
			if msg := e.Error(); len(msg) < len("--forward ") || msg[:len("--forward ")] != "--forward " {
				t.Fatalf("error %q does not name the flag", msg)
			}
		}
		if len(errs) > 0 {
			return
		}
		fw, err := parseForwards([]string{s})
		if err != nil || len(fw) != 1 {
			t.Fatalf("checked, yet parseForwards(%q) = %v, %v", s, fw, err)
		}
		if !scenario.IsLoopback(fw[0].Listen.Addr()) || sc.Host(fw[0].To.Host) == nil {
			t.Fatalf("--forward %q passed: listen %v, host %q", s, fw[0].Listen, fw[0].To.Host)
		}
	})
}
