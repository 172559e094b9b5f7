package vnet

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// seamLen is how much of each side of a TCP segment boundary the record
// keeps joined, so a needle of up to seamLen bytes split across two
// consecutive segments of a stream is still found.
const (
	seamLen  = 64
	maxFlows = 4096
)

// record is a segment's bounded in-memory copy of the frames it carried,
// plus the seams between consecutive TCP segments of each stream.
type record struct {
	limit     int // < 0: nothing kept
	data      []byte
	truncated bool
	flows     map[flowKey]*flowTail
}

// flowKey names one direction of a TCP connection.
type flowKey struct {
	src, dst [16]byte
	sport    uint16
	dport    uint16
}

// flowTail is the end of the last in-order segment seen on a flow.
type flowTail struct {
	next uint32 // sequence number the next in-order segment starts at
	tail []byte // its last bytes, at most seamLen-1
}

func newRecord(limit int) *record {
	return &record{limit: limit, flows: make(map[flowKey]*flowTail)}
}

// add keeps frame, and a seam when it continues a TCP stream.
func (r *record) add(frame []byte) {
	if r.limit < 0 || r.truncated {
		return
	}
	r.append(frame)
	key, seq, payload, ok := parseTCP(frame)
	if !ok || len(payload) == 0 {
		return
	}
	ft := r.flows[key]
	if ft == nil {
		if len(r.flows) >= maxFlows {
			clear(r.flows)
		}
		ft = &flowTail{}
		r.flows[key] = ft
	} else if seq == ft.next && len(ft.tail) > 0 {
		r.append(ft.tail)
		r.append(payload[:min(len(payload), seamLen-1)])
	}
	ft.next = seq + uint32(len(payload))
	ft.tail = append(ft.tail[:0], payload[max(0, len(payload)-(seamLen-1)):]...)
}

// append copies b into the record up to the limit, growing the buffer at
// most to the limit.
func (r *record) append(b []byte) {
	room := r.limit - len(r.data)
	if len(b) > room {
		b = b[:room]
		r.truncated = true
	}
	if need := len(r.data) + len(b); need > cap(r.data) {
		grown := make([]byte, len(r.data), min(max(2*cap(r.data), need, 64<<10), r.limit))
		copy(grown, r.data)
		r.data = grown
	}
	r.data = append(r.data, b...)
}

// contains searches the record for needle. Frames (and seams) are kept back
// to back, so a match may also straddle two of them: harmless for the
// needles expectations use.
func (r *record) contains(segment string, needle []byte) (bool, error) {
	if r.limit < 0 {
		return false, fmt.Errorf("vnet: segment %q: no record kept", segment)
	}
	if bytes.Contains(r.data, needle) {
		return true, nil
	}
	if r.truncated {
		return false, fmt.Errorf("segment %q after %d bytes: %w", segment, len(r.data), ErrTruncated)
	}
	return false, nil
}

// parseTCP finds the TCP payload of an Ethernet frame carrying IPv4 (not
// fragmented) or IPv6 (TCP as the first next header).
func parseTCP(frame []byte) (key flowKey, seq uint32, payload []byte, ok bool) {
	if len(frame) < ethHeaderLen {
		return key, 0, nil, false
	}
	ip := frame[ethHeaderLen:]
	var tcp []byte
	switch binary.BigEndian.Uint16(frame[12:]) {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 6 {
			return key, 0, nil, false
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || total < ihl || total > len(ip) || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return key, 0, nil, false
		}
		copy(key.src[:], ip[12:16])
		copy(key.dst[:], ip[16:20])
		tcp = ip[ihl:total]
	case 0x86dd:
		if len(ip) < 40 || ip[0]>>4 != 6 || ip[6] != 6 {
			return key, 0, nil, false
		}
		plen := int(binary.BigEndian.Uint16(ip[4:]))
		if 40+plen > len(ip) {
			return key, 0, nil, false
		}
		copy(key.src[:], ip[8:24])
		copy(key.dst[:], ip[24:40])
		tcp = ip[40 : 40+plen]
	default:
		return key, 0, nil, false
	}
	if len(tcp) < 20 {
		return key, 0, nil, false
	}
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return key, 0, nil, false
	}
	key.sport = binary.BigEndian.Uint16(tcp[0:])
	key.dport = binary.BigEndian.Uint16(tcp[2:])
	return key, binary.BigEndian.Uint32(tcp[4:]), tcp[off:], true
}
