package wire

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"capsim/ipc"
)

// FuzzDecoder reads data as the sequence of fields that ops describes
// (one op byte and one parameter byte each), re-encodes what was read with
// an Encoder and checks that it gives back the bytes consumed. Every read
// must respect its bound, Count and Need must never promise more elements
// than the bytes left can hold, and after the first error every read must
// return a zero value.
func FuzzDecoder(f *testing.F) {
	e := NewEncoder(nil)
	e.Uint32(7)
	e.String("héllo", 16, "s")
	e.Count(2, 4, "n")
	e.Uint16(1)
	e.Uint16(2)
	e.Bool(true)
	e.Uint32(1) // a slot index
	e.Blob([]byte{1, 2, 3}, 8, "b")
	f.Add([]byte{2, 0, 13, 16, 11, 4, 1, 0, 1, 0, 8, 0, 10, 0, 12, 8}, e.Bytes(), uint8(2))
	f.Add([]byte{11, 255, 14, 200}, []byte{255, 255, 255, 255}, uint8(0))
	f.Add([]byte{3, 0, 7, 0, 9, 0}, bytes.Repeat([]byte{0xff}, 20), uint8(1))
	f.Fuzz(func(t *testing.T, ops, data []byte, nslots uint8) {
		handles := make([]ipc.Slot, nslots%8)
		for i := range handles {
			handles[i] = ipc.Slot{Handle: ipc.Handle(100 + i), Rights: ipc.RightCall}
		}
		d := NewDecoder(data, handles)
		if nslots&0x80 != 0 {
			d.AliasBlobs()
		}
		enc := NewEncoder(nil)
		for i := 0; i+1 < len(ops) && i < 256; i += 2 {
			op, param := ops[i]%15, int(ops[i+1])
			before := d.Err()
			wasZero := true
			switch op {
			case 0:
				v := d.Uint8("f")
				enc.Uint8(v)
				wasZero = v == 0
			case 1:
				v := d.Uint16("f")
				enc.Uint16(v)
				wasZero = v == 0
			case 2:
				v := d.Uint32("f")
				enc.Uint32(v)
				wasZero = v == 0
			case 3:
				v := d.Uint64("f")
				enc.Uint64(v)
				wasZero = v == 0
			case 4:
				v := d.Int8("f")
				enc.Int8(v)
				wasZero = v == 0
			case 5:
				v := d.Int16("f")
				enc.Int16(v)
				wasZero = v == 0
			case 6:
				v := d.Int32("f")
				enc.Int32(v)
				wasZero = v == 0
			case 7:
				v := d.Int64("f")
				enc.Int64(v)
				wasZero = v == 0
			case 8:
				v := d.Bool("f")
				enc.Bool(v)
				wasZero = !v
			case 9:
				v := d.Slot("f")
				if d.Err() == nil && int(v) >= len(handles) {
					t.Fatalf("slot %d of %d accepted", v, len(handles))
				}
				enc.Uint32(v)
				wasZero = v == 0
			case 10:
				s := d.Handle("f")
				idx := uint32(0)
				if d.Err() == nil {
					idx = uint32(s.Handle - 100)
					if int(idx) >= len(handles) || handles[idx] != s {
						t.Fatalf("handle %+v is not one of the message's", s)
					}
				}
				enc.Uint32(idx)
				wasZero = s == ipc.Slot{}
			case 11, 14:
				minElem := param % 9
				bound := param * 3
				var n int
				if op == 11 {
					n = d.Count(bound, minElem, "f")
					if d.Err() == nil {
						enc.Count(n, bound, "f")
					}
				} else {
					n = param
					ok := d.Need(n, minElem, "f")
					if ok != (d.Err() == nil) {
						t.Fatalf("Need returned %v with error %v", ok, d.Err())
					}
					if !ok {
						n = 0
					}
				}
				if d.Err() == nil && (n > bound && op == 11 || minElem > 0 && n*minElem > d.Remaining()) {
					t.Fatalf("%d elements of %d bytes allowed with %d bytes left (bound %d)", n, minElem, d.Remaining(), bound)
				}
				wasZero = n == 0
			case 12:
				v := d.Blob(param, "f")
				if d.Err() == nil {
					if v == nil || len(v) > param {
						t.Fatalf("blob %x (bound %d)", v, param)
					}
					enc.Blob(v, param, "f")
				}
				wasZero = len(v) == 0
			case 13:
				v := d.String(param, "f")
				if d.Err() == nil {
					if len(v) > param || !utf8.ValidString(v) {
						t.Fatalf("string %q (bound %d)", v, param)
					}
					enc.String(v, param, "f")
				}
				wasZero = v == ""
			}
			if before != nil && (d.Err() != before || !wasZero) {
				t.Fatalf("op %d after error %v: err %v, zero %v", op, before, d.Err(), wasZero)
			}
			if d.Err() != nil && before == nil && op != 11 && op != 12 && op != 13 && op != 14 && !wasZero {
				t.Fatalf("op %d failed (%v) but returned a value", op, d.Err())
			}
		}
		if enc.Err() != nil {
			t.Fatalf("re-encoding failed: %v", enc.Err())
		}
		if d.Err() != nil {
			return
		}
		consumed := len(data) - d.Remaining()
		if !bytes.Equal(enc.Bytes(), data[:consumed]) {
			t.Fatalf("re-encoding gives %x, read %x", enc.Bytes(), data[:consumed])
		}
		if err := d.Finish(); (err == nil) != (consumed == len(data)) {
			t.Fatalf("Finish = %v with %d of %d bytes read", err, consumed, len(data))
		}
	})
}
