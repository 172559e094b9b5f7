package idl_test

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"testing"

	"capsim/idl"
	"capsim/idl/internal/testapi/test/bench"
	"capsim/idl/wire"
)

func benchStat() bench.Stat {
	s := bench.Stat{Size: 1 << 20, Mode: 0o100644, MtimeNs: 1700000000123456789, AtimeNs: 1700000000000000000,
		Ino: 123456, Dev: 42, Nlink: 1, Uid: 1000, Gid: 1000, Port: 443, Ok: true}
	for i := range s.Digest {
		s.Digest[i] = byte(i * 7)
	}
	for i := range s.Blocks {
		s.Blocks[i] = uint32(i * 4096)
	}
	return s
}

// BenchmarkCodec encodes and decodes one mid-size struct (test.Bench.Stat,
// 123 bytes on the IDL wire) with the generated code, the generic codec,
// encoding/binary and encoding/gob (a new gob encoder or decoder per
// message, as one message per call needs).
func BenchmarkCodec(b *testing.B) {
	p, err := idl.NewLoader([]idl.Root{idl.DirRoot("testdata/ok")}, idl.Options{}).Package("test.Bench")
	if err != nil {
		b.Fatal(err)
	}
	st := p.Types["Stat"]
	s := benchStat()
	e := wire.NewEncoder(nil)
	s.EncodeIDL(e)
	payload := e.Bytes()
	value, err := idl.Decode(st, payload, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("generated/encode", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		for b.Loop() {
			e := wire.NewEncoder(buf[:0])
			s.EncodeIDL(e)
			if e.Err() != nil {
				b.Fatal(e.Err())
			}
		}
	})
	b.Run("generated/decode", func(b *testing.B) {
		for b.Loop() {
			var out bench.Stat
			d := wire.NewDecoder(payload, nil)
			out.DecodeIDL(d)
			if err := d.Finish(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generic/encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := idl.Encode(st, value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generic/decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := idl.Decode(st, payload, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary/encode", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		for b.Loop() {
			if _, err := binary.Append(buf[:0], binary.LittleEndian, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	bin, _ := binary.Append(nil, binary.LittleEndian, &s)
	b.Run("binary/decode", func(b *testing.B) {
		for b.Loop() {
			var out bench.Stat
			if _, err := binary.Decode(bin, binary.LittleEndian, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob/encode", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
				b.Fatal(err)
			}
		}
	})
	var gb bytes.Buffer
	_ = gob.NewEncoder(&gb).Encode(&s)
	b.Run("gob/decode", func(b *testing.B) {
		for b.Loop() {
			var out bench.Stat
			if err := gob.NewDecoder(bytes.NewReader(gb.Bytes())).Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBenchEncodingsAgree checks that the generated and generic codecs
// produce the same bytes for the benchmark struct, and that the sizes the
// benchmark compares are what they claim.
func TestBenchEncodingsAgree(t *testing.T) {
	p, err := idl.NewLoader([]idl.Root{idl.DirRoot("testdata/ok")}, idl.Options{}).Package("test.Bench")
	if err != nil {
		t.Fatal(err)
	}
	s := benchStat()
	e := wire.NewEncoder(nil)
	s.EncodeIDL(e)
	v, err := idl.Decode(p.Types["Stat"], e.Bytes(), 0)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := idl.Encode(p.Types["Stat"], v)
	if !bytes.Equal(again, e.Bytes()) || len(again) != 123 {
		t.Errorf("generic encoding of %d bytes differs from generated %d bytes", len(again), len(e.Bytes()))
	}
	var back bench.Stat
	d := wire.NewDecoder(again, nil)
	back.DecodeIDL(d)
	if err := d.Finish(); err != nil || back != s {
		t.Errorf("generated decode: %+v, %v", back, err)
	}
}
