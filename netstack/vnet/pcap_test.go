package vnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

func TestPcapRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	pw, err := NewPcapWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1700000000, 123456789)
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), {}, bytes.Repeat([]byte{2}, 1514)}
	for i, f := range frames {
		if err := pw.WritePacket(base.Add(time.Duration(i)*time.Millisecond), f); err != nil {
			t.Fatal(err)
		}
	}
	pr, err := NewPcapReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range frames {
		p, err := pr.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(p.Data, want) || p.OrigLen != len(want) {
			t.Errorf("packet %d: %d bytes, want %d", i, len(p.Data), len(want))
		}
		if wt := base.Add(time.Duration(i) * time.Millisecond); !p.Time.Equal(wt) {
			t.Errorf("packet %d: time %v, want %v", i, p.Time, wt)
		}
	}
	if _, err := pr.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last packet: %v, want EOF", err)
	}
}

// microBigEndian builds a big-endian microsecond pcap with one packet.
func microBigEndian() []byte {
	be := binary.BigEndian
	b := make([]byte, 24+16+4)
	be.PutUint32(b[0:], pcapMagicMicro)
	be.PutUint16(b[4:], 2)
	be.PutUint16(b[6:], 4)
	be.PutUint32(b[16:], 65535)
	be.PutUint32(b[20:], 1)
	be.PutUint32(b[24:], 10)
	be.PutUint32(b[28:], 5)
	be.PutUint32(b[32:], 4)
	be.PutUint32(b[36:], 60)
	copy(b[40:], "abcd")
	return b
}

func TestPcapReaderVariants(t *testing.T) {
	pr, err := NewPcapReader(bytes.NewReader(microBigEndian()))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pr.Next()
	if err != nil || string(p.Data) != "abcd" || p.OrigLen != 60 || !p.Time.Equal(time.Unix(10, 5000)) {
		t.Fatalf("got %+v, %v", p, err)
	}
	for name, b := range map[string][]byte{
		"bad magic":   append([]byte{1, 2, 3, 4}, make([]byte, 20)...),
		"short":       {0xd4, 0xc3},
		"bad version": func() []byte { b := microBigEndian(); b[5] = 9; return b }(),
	} {
		if _, err := NewPcapReader(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, b := range map[string][]byte{
		"truncated data": microBigEndian()[:42],
		"incl > orig":    func() []byte { b := microBigEndian(); b[39] = 2; return b }(),
		"bad usec":       func() []byte { b := microBigEndian(); b[28] = 0xff; return b }(),
		"half header":    microBigEndian()[:30],
	} {
		pr, err := NewPcapReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pr.Next(); err == nil || errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: Next = %v, want an error", name, err)
		}
	}
}

func FuzzPcapReader(f *testing.F) {
	f.Add(microBigEndian())
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf)
	pw.WritePacket(time.Unix(1, 2), []byte("frame"))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		pr, err := NewPcapReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 1000 {
			p, err := pr.Next()
			if err != nil {
				return
			}
			if len(p.Data) > p.OrigLen {
				t.Fatalf("captured %d > original %d", len(p.Data), p.OrigLen)
			}
		}
	})
}
