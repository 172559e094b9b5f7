package run

import (
	"net/netip"
	"testing"

	"capsim/scenario"
)

func TestGatewayAddressAvoidsHosts(t *testing.T) {
	p := netip.MustParsePrefix
	sc := &scenario.Scenario{
		Hosts: []scenario.Host{
			{Name: "a", Addresses: []netip.Prefix{p("10.0.0.1/24")}},
			{Name: "b", Addresses: []netip.Prefix{p("10.0.0.254/24")}},
			{Name: "c", Addresses: []netip.Prefix{p("fd00::1/126")}},
		},
		Links:  []scenario.Link{{Name: "lan", Hosts: []string{"a", "b"}}, {Name: "v6", Hosts: []string{"c"}}},
		Egress: []scenario.Egress{{Address: netip.MustParseAddrPort("10.0.0.253:4433")}},
	}
	tests := []struct{ link, want string }{
		{"lan", "10.0.0.252/24"}, // .254 is b's, .253 the egress's
		{"v6", "fd00::3/126"},
	}
	for _, tt := range tests {
		got, err := gatewayAddress(sc, tt.link)
		if err != nil || got.String() != tt.want {
			t.Errorf("gatewayAddress(%s) = %v, %v; want %s", tt.link, got, err, tt.want)
		}
	}
	sc.Hosts[2].Addresses = []netip.Prefix{p("fd00::1/127")}
	if _, err := gatewayAddress(sc, "v6"); err == nil {
		t.Errorf("a /127 with its host has no free address, but got one")
	}
}
