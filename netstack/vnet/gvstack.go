package vnet

import (
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

const nicID tcpip.NICID = 1

// stackConfig describes a one-NIC gVisor stack on a port descriptor.
type stackConfig struct {
	fd    int // the host end of a port; not owned by the stack
	mtu   int
	mac   tcpip.LinkAddress
	addrs []netip.Prefix
	// readv selects fdbased's Readv dispatcher instead of RecvMMsg. The
	// RecvMMsg dispatcher of this gVisor version spins forever when the
	// socket's peer closes (recvmmsg then returns batches of empty
	// messages), and Stack.Destroy hangs; Readv stops at end of file. The
	// gateway's peer is the switch, which closes only after the gateway
	// stack is destroyed, so it keeps RecvMMsg.
	readv bool
}

// newStack builds a gVisor stack with IPv4, IPv6, ARP and TCP (SACK on) whose one NIC
// is an fdbased endpoint on cfg.fd. Every destination is on-link: the
// stack's own subnets and, failing those, a default route out of the NIC.
func newStack(cfg stackConfig) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	if terr := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); terr != nil {
		s.Destroy()
		return nil, fmt.Errorf("enable SACK: %s", terr)
	}
	mode := fdbased.RecvMMsg
	if cfg.readv {
		mode = fdbased.Readv
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:                []int{cfg.fd},
		MTU:                uint32(cfg.mtu),
		EthernetHeader:     true,
		Address:            cfg.mac,
		PacketDispatchMode: mode,
		// Frames come from the switch, which never corrupts them, and a
		// netstack may send with transmit checksum offload: do not verify.
		// Transmit checksums are always computed.
		RXChecksumOffload: true,
	})
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("fdbased endpoint: %w", err)
	}
	if terr := s.CreateNIC(nicID, ep); terr != nil {
		s.Destroy()
		return nil, fmt.Errorf("create NIC: %s", terr)
	}
	for _, p := range cfg.addrs {
		if err := addAddress(s, p); err != nil {
			s.Destroy()
			return nil, err
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, NIC: nicID},
	})
	return s, nil
}

// addAddress adds p's address to the stack's NIC; the stack then answers
// ARP (or neighbour solicitations) for it.
func addAddress(s *stack.Stack, p netip.Prefix) error {
	proto := ipv4.ProtocolNumber
	if p.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	pa := tcpip.ProtocolAddress{
		Protocol: proto,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFromSlice(p.Addr().AsSlice()),
			PrefixLen: p.Bits(),
		},
	}
	if terr := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); terr != nil {
		return fmt.Errorf("add address %s: %s", p, terr)
	}
	return nil
}

// fullAddr converts an address and port for gonet.
func fullAddr(ap netip.AddrPort) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	proto := ipv4.ProtocolNumber
	if ap.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	return tcpip.FullAddress{
		NIC:  nicID,
		Addr: tcpip.AddrFromSlice(ap.Addr().Unmap().AsSlice()),
		Port: ap.Port(),
	}, proto
}

// localMAC returns a locally administered unicast MAC derived from key.
func localMAC(key uint64) tcpip.LinkAddress {
	b := []byte{0x02, 0xca, byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)}
	return tcpip.LinkAddress(b)
}
