package netstack

import (
	"context"
	"net/netip"
	"strings"
	"syscall"
)

// MaxName is the longest host name GetAddrInfo takes (capsim.Socket
// MaxName); maxAddrs the most addresses it returns.
const (
	MaxName  = 255
	maxAddrs = 16
)

// GetAddrInfo resolves host: a numeric IPv4 or IPv6 address (brackets
// allowed), a name of the scenario's host table (case-insensitive, a
// trailing dot ignored; this host's own name too), or "localhost". An
// empty or over-long name is EINVAL, an unknown one ENOENT. At most 16
// addresses are returned, in table order.
func (s *Sockets) GetAddrInfo(ctx context.Context, client uint32, host string) ([]netip.Addr, error) {
	return s.host.Resolve(host)
}

// Resolve is GetAddrInfo without a client.
func (h *Host) Resolve(host string) ([]netip.Addr, error) {
	if host == "" || len(host) > MaxName {
		return nil, syscall.EINVAL
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		return []netip.Addr{a}, nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	for n, addrs := range h.hosts {
		if strings.ToLower(strings.TrimSuffix(n, ".")) == name && len(addrs) > 0 {
			return append([]netip.Addr(nil), addrs[:min(len(addrs), maxAddrs)]...), nil
		}
	}
	switch {
	case name == "localhost":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, nil
	case name == strings.ToLower(h.name) && len(h.addrs) > 0:
		out := make([]netip.Addr, 0, len(h.addrs))
		for _, p := range h.addrs[:min(len(h.addrs), maxAddrs)] {
			out = append(out, p.Addr())
		}
		return out, nil
	}
	return nil, syscall.ENOENT
}
