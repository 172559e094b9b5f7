package run

import (
	"net/netip"
	"strings"
	"testing"

	"capsim/scenario"
)

func TestCheckForwardFlags(t *testing.T) {
	sc := &scenario.Scenario{
		Hosts: []scenario.Host{
			{Name: "cloud", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}},
			{Name: "island", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.1.2/24")}},
			{Name: "mute"},
		},
		Links:    []scenario.Link{{Name: "lan", Hosts: []string{"cloud", "mute"}}},
		Forwards: []scenario.Forward{{Listen: netip.MustParseAddrPort("127.0.0.1:8080")}},
	}
	tests := []struct {
		flags []string
		want  string // "" for no error; else a substring of the one error
	}{
		{[]string{"127.0.0.1:8443=cloud:443"}, ""},
		{[]string{"[::1]:8443=cloud:443", "127.0.0.1:8443=cloud:80"}, ""},
		{[]string{"127.0.0.1:8443=cloud:443", "[::ffff:127.0.0.1]:8443=cloud:80"}, "is taken by --forward 127.0.0.1:8443=cloud:443"},
		{[]string{"127.0.0.1:8080=cloud:80"}, "is taken by the [[forward]]"},
		{[]string{"0.0.0.0:8443=cloud:443"}, "listen 0.0.0.0 is not a loopback address"},
		{[]string{"[::1%lo]:8443=cloud:443"}, "is not a loopback address"},
		{[]string{"127.0.0.1:8443=clod:443"}, `"clod" is not a host of the scenario (did you mean "cloud"?)`},
		{[]string{"127.0.0.1:8443=island:443"}, `to "island": the host is on no link`},
		{[]string{"127.0.0.1:8443=mute:443"}, `to "mute": the host has no address`},
		{[]string{"127.0.0.1:8443"}, "want 127.0.0.1:PORT=HOST:PORT"},
	}
	for _, tt := range tests {
		errs := checkForwardFlags(sc, tt.flags)
		switch {
		case tt.want == "" && len(errs) > 0:
			t.Errorf("%v: unexpected %v", tt.flags, errs)
		case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
			t.Errorf("%v: got %v, want one error with %q", tt.flags, errs, tt.want)
		}
	}
}
