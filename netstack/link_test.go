package netstack

import (
	"bytes"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// wireHost is a host whose NIC's other end the test holds, to write raw
// frames to it and read what it answers.
func wireHost(t *testing.T, mtu int) (*Host, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHost(HostConfig{Name: "a", NICFD: fds[0], MTU: mtu, Logger: slog.New(slog.DiscardHandler),
		Addresses: []netip.Prefix{netip.PrefixFrom(addrA, 24)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); unix.Close(fds[1]) })
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fds[1], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return h, fds[1]
}

var peerMAC = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x09")

// arpRequest asks who has addr, from 10.0.0.9 at peerMAC.
func arpRequest(addr netip.Addr) []byte {
	b := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.Ethernet(b).Encode(&header.EthernetFields{SrcAddr: peerMAC,
		DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber})
	a := header.ARP(b[header.EthernetMinimumSize:])
	a.SetIPv4OverEthernet()
	a.SetOp(header.ARPRequest)
	copy(a.HardwareAddressSender(), peerMAC)
	copy(a.ProtocolAddressSender(), netip.MustParseAddr("10.0.0.9").AsSlice())
	copy(a.ProtocolAddressTarget(), addr.AsSlice())
	return b
}

// TestNICSurvivesMalformedFrames: runts, truncated and oversize frames,
// garbage headers and frames for another MAC are dropped; the host still
// answers an ARP request after them, and its NIC is still receiving.
func TestNICSurvivesMalformedFrames(t *testing.T) {
	h, wire := wireHost(t, 1500)
	mac := string(MACFromName("a"))
	eth := func(dst string, typ uint16, payload []byte) []byte {
		b := append([]byte(dst), string(peerMAC)...)
		return append(append(b, byte(typ>>8), byte(typ)), payload...)
	}
	bad := [][]byte{
		{0x01},                         // a runt
		make([]byte, 13),               // one byte short of an Ethernet header
		eth(mac, 0x0800, nil),          // IPv4 with no header
		eth(mac, 0x0800, []byte{0x45}), // a truncated IPv4 header
		eth(mac, 0x0800, bytes.Repeat([]byte{0xff}, 60)),                // garbage IPv4
		eth(mac, 0x86dd, bytes.Repeat([]byte{0x60}, 60)),                // garbage IPv6
		eth(mac, 0x0806, []byte{0, 1}),                                  // a truncated ARP
		eth(mac, 0x1234, []byte("unknown ethertype")),                   // nobody's protocol
		eth("\x02\x00\x00\x00\x00\x07", 0x0806, arpRequest(addrA)[14:]), // for another MAC
		eth(mac, 0x0800, make([]byte, 9000)),                            // longer than the MTU
	}
	// An empty message first: the reader must not take it for the end of
	// the link, which reads the same.
	if err := unix.Sendmsg(wire, nil, nil, nil, 0); err != nil {
		t.Fatalf("send an empty frame: %v", err)
	}
	for _, f := range bad {
		if _, err := unix.Write(wire, f); err != nil {
			t.Fatalf("write %d-byte frame: %v", len(f), err)
		}
	}
	if _, err := unix.Write(wire, arpRequest(addrA)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := unix.Read(wire, buf)
		if err != nil {
			t.Fatalf("no ARP reply after the malformed frames: %v", err)
		}
		f := buf[:n]
		if n < header.EthernetMinimumSize+header.ARPSize || header.Ethernet(f).Type() != header.ARPProtocolNumber {
			continue // something else the host sent
		}
		a := header.ARP(f[header.EthernetMinimumSize:])
		if a.Op() != header.ARPReply || !bytes.Equal(a.ProtocolAddressSender(), addrA.AsSlice()) {
			t.Fatalf("ARP answer op %d from %v, want a reply from %v", a.Op(), a.ProtocolAddressSender(), addrA)
		}
		select {
		case <-h.link.lost:
			t.Fatal("the NIC stopped receiving")
		default:
		}
		return
	}
	t.Fatal("no ARP reply within 5s")
}
