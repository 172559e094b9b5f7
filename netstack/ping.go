package netstack

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// pingPayload is the data of an echo request after the 8-byte header.
const pingPayload = 56

// Ping sends one ICMP (or ICMPv6) echo request to addr and waits for the
// matching reply, returning the round-trip time. It ends with ctx (an
// unreachable host simply never answers).
func (h *Host) Ping(ctx context.Context, addr netip.Addr) (time.Duration, error) {
	addr = addr.Unmap()
	trans, netProto, typ := icmp.ProtocolNumber4, ipv4.ProtocolNumber, byte(header.ICMPv4Echo)
	if addr.Is6() {
		trans, netProto, typ = icmp.ProtocolNumber6, ipv6.ProtocolNumber, byte(header.ICMPv6EchoRequest)
	}
	var wq waiter.Queue
	ep, terr := h.st.NewEndpoint(trans, netProto, &wq)
	if terr != nil {
		return 0, fmt.Errorf("ping %v: icmp endpoint: %w", addr, errOf(terr))
	}
	defer ep.Close()
	entry, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventErr)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)

	seq := uint16(h.pingSeq.Add(1))
	req := make([]byte, 8+pingPayload)
	req[0] = typ
	binary.BigEndian.PutUint16(req[6:], seq)
	for i := range pingPayload {
		req[8+i] = byte(i)
	}
	to := tcpip.FullAddress{Addr: tcpip.AddrFromSlice(addr.AsSlice())}
	start := time.Now()
	if _, terr := ep.Write(bytes.NewReader(req), tcpip.WriteOptions{To: &to}); terr != nil {
		return 0, fmt.Errorf("ping %v: send: %w", addr, errOf(terr))
	}
	for {
		ok, err := readEchoReply(ep, seq)
		if err != nil {
			return 0, fmt.Errorf("ping %v: %w", addr, err)
		}
		if ok {
			return time.Since(start), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, fmt.Errorf("ping %v: %w", addr, ctxErrno(ctx))
		}
	}
}

// readEchoReply drains ep and reports whether the reply to seq came.
func readEchoReply(ep tcpip.Endpoint, seq uint16) (bool, error) {
	for {
		var buf bytes.Buffer
		_, terr := ep.Read(&buf, tcpip.ReadOptions{})
		if wouldBlock(terr) {
			return false, nil
		}
		if terr != nil {
			return false, errOf(terr)
		}
		b := buf.Bytes()
		if len(b) >= 8 && binary.BigEndian.Uint16(b[6:]) == seq {
			return true, nil
		}
	}
}
