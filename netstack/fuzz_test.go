package netstack

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzAddrFromParts checks that every accepted wire address encodes back
// to the same bytes and that nothing panics.
func FuzzAddrFromParts(f *testing.F) {
	f.Add(uint16(AF_INET), uint16(80), []byte{10, 0, 0, 1})
	f.Add(uint16(AF_INET6), uint16(443), make([]byte, 16))
	f.Add(uint16(AF_UNSPEC), uint16(0), []byte{})
	f.Fuzz(func(t *testing.T, family, port uint16, ip []byte) {
		ap, err := AddrFromParts(family, port, ip)
		if err != nil {
			return
		}
		f2, p2, ip2 := AddrParts(ap)
		if f2 != family || p2 != port || !bytes.Equal(ip2, ip) && !(len(ip) == 0 && len(ip2) == 0) {
			t.Fatalf("round trip of (%d, %d, %x) gave (%d, %d, %x)", family, port, ip, f2, p2, ip2)
		}
		for _, d := range []int32{AF_INET, AF_INET6} {
			if fa, e := toFull(d, ap); e == 0 && fa.Port != port {
				t.Fatalf("toFull lost the port")
			}
		}
	})
}

// FuzzResolve checks that name lookup never panics, never returns more
// than 16 addresses, and resolves numeric addresses to themselves.
func FuzzResolve(f *testing.F) {
	f.Add("cloud")
	f.Add("10.0.0.1")
	f.Add("[fd00::1]")
	f.Add("localhost.")
	h := &Host{name: "device", addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")},
		hosts: map[string][]netip.Addr{"cloud": {netip.MustParseAddr("10.0.0.2")}}}
	f.Fuzz(func(t *testing.T, name string) {
		addrs, err := h.Resolve(name)
		if err != nil {
			return
		}
		if len(addrs) == 0 || len(addrs) > maxAddrs {
			t.Fatalf("Resolve(%q) gave %d addresses", name, len(addrs))
		}
		if a, perr := netip.ParseAddr(name); perr == nil && addrs[0] != a {
			t.Fatalf("Resolve(%q) = %v", name, addrs)
		}
	})
}
