package idl

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

func fullPackage(t testing.TB) *Package {
	t.Helper()
	p, err := okLoader().Package("test.Full")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleRecord builds a Record value with every field set.
func sampleRecord(p *Package) *StructValue {
	rec := Zero(p.Types["Record"]).(*StructValue)
	types := p.Types["Record"].Fields[13].Type.Elem // test.Types.Point
	point := func(x, y int64) any { return &StructValue{Type: types, Fields: []any{x, y}} }
	set := map[string]any{
		"u8": uint64(200), "u16": uint64(65535), "u32": uint64(1 << 31), "u64": uint64(1<<64 - 1),
		"s8": int64(-128), "s16": int64(-2), "s32": int64(-1 << 31), "s64": int64(-1 << 63),
		"flag": true, "h": HandleSlot(1), "blob": []byte("0123456789abcdef"), "text": "héllo",
		"quad":     []any{uint64(1), uint64(2), uint64(3), uint64(4)},
		"points":   []any{point(1, 2), point(-3, 4)},
		"origin":   point(7, 8),
		"grid":     []any{[]any{uint64(1)}, []any{uint64(2), uint64(3), uint64(4)}},
		"mtime_ns": int64(1700000000000000000),
	}
	shapeT := p.Types["Record"].Fields[14].Type
	set["shape"] = &UnionValue{Type: shapeT, Tag: 2, Value: "circle"}
	for i, f := range rec.Type.Fields {
		if v, ok := set[f.Name]; ok {
			rec.Fields[i] = v
		}
	}
	return rec
}

func TestCodecRoundTrip(t *testing.T) {
	p := fullPackage(t)
	rec := sampleRecord(p)
	put := p.Interface.Methods[1] // Put(in Record rec, in Handle extra, ...)
	in := &StructValue{Type: put.In, Fields: []any{rec, HandleSlot(0)}}
	b, err := Encode(put.In, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxSize(put.In) || len(b) < MinSize(put.In) {
		t.Errorf("encoding of %d bytes outside [%d, %d]", len(b), MinSize(put.In), MaxSize(put.In))
	}
	if err := Validate(put.In, in); err != nil {
		t.Errorf("Validate: %v", err)
	}
	got, err := Decode(put.In, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Encode(put.In, got)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-encoding differs: %v", err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("decoded value differs:\n got %#v\nwant %#v", got, in)
	}
	if v, _ := got.(*StructValue).Fields[0].(*StructValue).Get("text"); v != "héllo" {
		t.Errorf("Get(text) = %v", v)
	}
	if _, err := Decode(put.In, b, 1); err == nil || !strings.Contains(err.Error(), "field rec.h: handle slot 1 out of range") {
		t.Errorf("slot check: %v", err)
	}
}

// TestWireLayout pins the bytes of a small message.
func TestWireLayout(t *testing.T) {
	p := fullPackage(t)
	pick := p.Interface.Methods[4] // Pick(in Choice choice, in sequence<string<8>, 4> names, ...)
	choice := &UnionValue{Type: p.Types["Choice"], Tag: 1, Value: true}
	v := &StructValue{Type: pick.In, Fields: []any{choice, []any{"ab", ""}}}
	b, err := Encode(pick.In, v)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 0, 0, 0, 1, 2, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Errorf("encoding = %v, want %v", b, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	p := fullPackage(t)
	echo, err := NewLoader([]Root{BuiltinRoot()}, Options{}).Package("demo.Echo")
	if err != nil {
		t.Fatal(err)
	}
	echoIn := echo.Interface.Methods[2].In // Echo(in bytes<65536> data)
	pick := p.Interface.Methods[4].In
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		t    *Type
		b    []byte
		want string
	}{
		{"bound", echoIn, cat(u32(70000), make([]byte, 70000)), "field data: length 70000 exceeds bound 65536"},
		{"short", echoIn, cat(u32(10), []byte("abc")), "field data: message ends early: need 10 bytes, 3 left"},
		{"no length", echoIn, []byte{1, 0}, "field data: message ends early: need 4 bytes, 2 left"},
		{"trailing", echoIn, cat(u32(1), []byte("ab")), "1 trailing bytes after the message"},
		{"huge length", echoIn, u32(0xffffffff), "field data: length 4294967295 exceeds bound 65536"},
		{"union tag", pick, cat(u32(2)), "field choice: union tag 2 out of range (2 variants)"},
		{"bool", pick, cat(u32(1), []byte{2}), "field choice.none: bool byte is 2, not 0 or 1"},
		{"sequence bound", pick, cat(u32(1), []byte{0}, u32(5)), "field names: count 5 exceeds bound 4"},
		{"sequence lies", pick, cat(u32(1), []byte{0}, u32(3), u32(0)), "field names: count 3 needs at least 12 bytes, 4 left"},
		{"utf8", pick, cat(u32(1), []byte{0}, u32(1), u32(2), []byte{0xff, 0xfe}), "field names[0]: string is not valid UTF-8"},
		{"string bound", pick, cat(u32(1), []byte{0}, u32(1), u32(9), make([]byte, 9)), "field names[0]: length 9 exceeds bound 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.t, tt.b, 0)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Decode error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	p := fullPackage(t)
	rec := p.Types["Record"]
	field := func(name string, v any) *StructValue {
		s := sampleRecord(p)
		for i, f := range rec.Fields {
			if f.Name == name {
				s.Fields[i] = v
			}
		}
		return s
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"u8 overflow", field("u8", uint64(256)), "field u8: 256 overflows UInt8"},
		{"u16 negative", field("u16", int64(-1)), "field u16: -1 is negative, not a UInt16"},
		{"s8 overflow", field("s8", int64(128)), "field s8: 128 overflows SInt8"},
		{"s8 underflow", field("s8", int64(-129)), "field s8: -129 overflows SInt8"},
		{"s64 from uint", field("s64", uint64(1<<63)), "field s64: 9223372036854775808 overflows SInt64"},
		{"wrong type", field("flag", uint64(1)), "field flag: value of Go type uint64 is not a Bool"},
		{"blob bound", field("blob", make([]byte, 17)), "field blob: length 17 exceeds bound 16"},
		{"array length", field("quad", []any{uint64(1)}), "field quad: array has 1 elements, want exactly 4"},
		{"nested", field("grid", []any{[]any{}, []any{uint64(1), uint64(2), uint64(3), uint64(4)}}), "field grid[1]: count 4 exceeds bound 3"},
		{"bad utf8", field("text", "\xff"), "field text: string is not valid UTF-8"},
		{"union tag", field("shape", &UnionValue{Type: rec.Fields[14].Type, Tag: 3}), "field shape: union tag 3 out of range (3 variants)"},
		{"nil struct", field("origin", nil), "field origin: nil is not a struct value"},
		{"handle", field("h", uint32(1)), "field h: value of Go type uint32 is not a Handle slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encode(rec, tt.v); err == nil || err.Error() != tt.want {
				t.Errorf("Encode error = %v, want %q", err, tt.want)
			}
			if err := Validate(rec, tt.v); err == nil || err.Error() != tt.want {
				t.Errorf("Validate error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestZeroEncodes(t *testing.T) {
	p := fullPackage(t)
	for _, m := range p.Interface.Methods {
		for _, st := range []*Type{m.In, m.Out, m.Err} {
			b, err := Encode(st, Zero(st))
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			if len(b) < MinSize(st) || len(b) > MaxSize(st) {
				t.Errorf("%s: zero value takes %d bytes, outside [%d, %d]", m.Name, len(b), MinSize(st), MaxSize(st))
			}
			back, err := Decode(st, b, 4)
			if err != nil || !reflect.DeepEqual(back, Zero(st)) {
				t.Errorf("%s: zero value does not round-trip: %v", m.Name, err)
			}
		}
	}
}

func TestSizes(t *testing.T) {
	p := fullPackage(t)
	tests := []struct {
		t        *Type
		min, max int
	}{
		{p.Types["Quad"], 4, 4},
		{p.Types["Record"].Fields[13].Type, 4, 4 + 8*8},     // sequence<Point, 8>
		{p.Types["Record"].Fields[14].Type, 4 + 4, 4 + 68},  // Shape: radius .. label string<64>
		{p.Types["Record"].Fields[16].Type, 8, 2 * (4 + 6)}, // array<sequence<UInt16,3>,2>
	}
	for _, tt := range tests {
		if MinSize(tt.t) != tt.min || MaxSize(tt.t) != tt.max {
			t.Errorf("%s: sizes [%d, %d], want [%d, %d]", TypeString(tt.t), MinSize(tt.t), MaxSize(tt.t), tt.min, tt.max)
		}
	}
}
