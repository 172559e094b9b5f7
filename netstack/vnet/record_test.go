package vnet

import (
	"encoding/binary"
	"errors"
	"testing"
)

// tcpFrame builds an Ethernet/IPv4/TCP frame (checksums left zero: the
// record does not check them) or, with v6, Ethernet/IPv6/TCP.
func tcpFrame(v6 bool, sport uint16, seq uint32, payload string) []byte {
	tcp := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12] = 5 << 4
	copy(tcp[20:], payload)
	eth := make([]byte, ethHeaderLen)
	if v6 {
		binary.BigEndian.PutUint16(eth[12:], 0x86dd)
		ip := make([]byte, 40)
		ip[0] = 6 << 4
		binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
		ip[6] = 6
		ip[23], ip[39] = 1, 2
		return append(append(eth, ip...), tcp...)
	}
	binary.BigEndian.PutUint16(eth[12:], 0x0800)
	ip := make([]byte, 20)
	ip[0] = 4<<4 | 5
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
	ip[9] = 6
	ip[12], ip[16] = 10, 10
	return append(append(eth, ip...), tcp...)
}

func TestRecordSeams(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		r := newRecord(1 << 20)
		r.add(tcpFrame(v6, 1000, 100, "xxxxGET /sec"))
		r.add(tcpFrame(v6, 1000, 112, "ret HTTP/1.1")) // continues the stream
		r.add(tcpFrame(v6, 2000, 500, "AAAAsplit-"))   // another flow
		r.add(tcpFrame(v6, 2000, 999, "never-joined")) // a gap: no seam
		r.add(tcpFrame(v6, 1000, 100, "xxxxGET /sec")) // retransmission
		for _, tc := range []struct {
			needle string
			want   bool
		}{
			{"GET /secret HTTP", true},
			{"split-never", false},
			{"xxxxGET", true},
		} {
			got, err := r.contains("lan", []byte(tc.needle))
			if err != nil || got != tc.want {
				t.Errorf("v6=%v contains(%q) = %v, %v; want %v", v6, tc.needle, got, err, tc.want)
			}
		}
	}
}

func TestRecordLimit(t *testing.T) {
	r := newRecord(30)
	r.add(tcpFrame(false, 1, 1, "0123456789"))
	if !r.truncated || len(r.data) != 30 {
		t.Fatalf("truncated=%v len=%d, want true 30", r.truncated, len(r.data))
	}
	if _, err := r.contains("lan", []byte("zzz")); !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v, want ErrTruncated", err)
	}
	off := newRecord(-1)
	off.add(tcpFrame(false, 1, 1, "x"))
	if _, err := off.contains("lan", []byte("x")); err == nil {
		t.Error("a disabled record answered")
	}
}

func TestParseTCPRejects(t *testing.T) {
	good := tcpFrame(false, 1, 1, "data")
	frag := tcpFrame(false, 1, 1, "data")
	frag[ethHeaderLen+6] = 0x20 // more fragments
	udp := tcpFrame(false, 1, 1, "data")
	udp[ethHeaderLen+9] = 17
	long := tcpFrame(false, 1, 1, "data")
	long[ethHeaderLen+3] = 200 // total length beyond the frame
	badOff := tcpFrame(true, 1, 1, "data")
	badOff[ethHeaderLen+40+12] = 15 << 4
	if _, _, p, ok := parseTCP(good); !ok || string(p) != "data" {
		t.Fatalf("good frame: %q %v", p, ok)
	}
	for name, f := range map[string][]byte{"fragment": frag, "udp": udp, "long": long, "offset": badOff, "short": good[:20]} {
		if _, _, _, ok := parseTCP(f); ok {
			t.Errorf("%s: parsed", name)
		}
	}
}

func FuzzParseTCP(f *testing.F) {
	f.Add(tcpFrame(false, 1, 2, "GET / HTTP/1.1"))
	f.Add(tcpFrame(true, 1, 2, "hello"))
	f.Add([]byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, _, p, ok := parseTCP(frame)
		if ok && len(p) > len(frame) {
			t.Fatalf("payload %d longer than frame %d", len(p), len(frame))
		}
		r := newRecord(4096)
		r.add(frame)
		r.add(frame)
		if len(r.data) > 4096 {
			t.Fatalf("record grew to %d", len(r.data))
		}
	})
}
