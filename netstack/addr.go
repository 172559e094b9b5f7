package netstack

import (
	"net/netip"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// AddrFromParts decodes the capsim.Socket Addr struct {family, port, ip}:
// AF_INET with 4 address bytes, AF_INET6 with 16, or AF_UNSPEC with none
// (the result then has an invalid Addr, meaning "any"). A wrong family is
// EAFNOSUPPORT, a wrong length EINVAL.
func AddrFromParts(family, port uint16, ip []byte) (netip.AddrPort, error) {
	switch family {
	case AF_UNSPEC:
		if len(ip) != 0 {
			return netip.AddrPort{}, syscall.EINVAL
		}
		return netip.AddrPortFrom(netip.Addr{}, port), nil
	case AF_INET:
		if len(ip) != 4 {
			return netip.AddrPort{}, syscall.EINVAL
		}
	case AF_INET6:
		if len(ip) != 16 {
			return netip.AddrPort{}, syscall.EINVAL
		}
	default:
		return netip.AddrPort{}, syscall.EAFNOSUPPORT
	}
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a, port), nil
}

// AddrParts encodes ap as the capsim.Socket Addr struct: an IPv4 address
// as AF_INET with 4 bytes, any other valid address (v4-mapped included) as
// AF_INET6 with 16 bytes, and an invalid one as AF_UNSPEC.
func AddrParts(ap netip.AddrPort) (family, port uint16, ip []byte) {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return AF_UNSPEC, ap.Port(), nil
	case a.Is4():
		return AF_INET, ap.Port(), a.AsSlice()
	default:
		return AF_INET6, ap.Port(), a.WithZone("").AsSlice()
	}
}

// toFull converts ap for a socket of domain. An invalid or unspecified
// address becomes gVisor's empty address ("any"); an IPv4 address given to
// an AF_INET6 socket becomes v4-mapped; an IPv6 address given to an AF_INET
// socket is EAFNOSUPPORT.
func toFull(domain int32, ap netip.AddrPort) (tcpip.FullAddress, syscall.Errno) {
	a := ap.Addr()
	fa := tcpip.FullAddress{Port: ap.Port()}
	if !a.IsValid() || a.IsUnspecified() && !a.Is4In6() {
		return fa, 0
	}
	switch {
	case domain == AF_INET && !a.Is4():
		return fa, syscall.EAFNOSUPPORT
	case domain == AF_INET6 && a.Is4():
		a = netip.AddrFrom16(a.As16())
	}
	fa.Addr = tcpip.AddrFromSlice(a.WithZone("").AsSlice())
	return fa, 0
}

// fromFull converts a gVisor address as a socket of domain reports it.
func fromFull(domain int32, fa tcpip.FullAddress) netip.AddrPort {
	a, ok := netip.AddrFromSlice(fa.Addr.AsSlice())
	if !ok {
		a = netip.IPv4Unspecified()
		if domain == AF_INET6 {
			a = netip.IPv6Unspecified()
		}
	}
	if domain == AF_INET6 && a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	return netip.AddrPortFrom(a, fa.Port)
}
