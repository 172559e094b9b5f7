package idl

import (
	"reflect"
	"testing"
)

// FuzzDecodeView checks DecodeView, the decoder the kernel validates every
// message with, against Decode: the same values (bytes alias the buffer
// instead of copying it) and the same errors.
func FuzzDecodeView(f *testing.F) {
	types := fuzzTypes(f)
	p := fullPackage(f)
	put := p.Interface.Methods[1]
	seed, err := Encode(put.In, &StructValue{Type: put.In, Fields: []any{sampleRecord(p), HandleSlot(0)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(3), uint8(2), seed)
	f.Add(uint8(0), uint8(0), []byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, sel, nslots uint8, b []byte) {
		typ := types[int(sel)%len(types)]
		v, err := Decode(typ, b, int(nslots))
		w, werr := DecodeView(typ, b, int(nslots))
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("Decode: %v; DecodeView: %v", err, werr)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("Decode gives %v, DecodeView %v", v, w)
		}
	})
}
