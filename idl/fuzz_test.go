package idl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"capsim/diag"
)

// fuzzTypes are the types FuzzDecode picks from: every direction of every
// method of test.Full and capsim.Socket.
func fuzzTypes(t testing.TB) []*Type {
	l := okLoader()
	var out []*Type
	for _, name := range []string{"test.Full", "capsim.Socket", "demo.Echo"} {
		p, err := l.Package(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Interface.Methods {
			out = append(out, m.In, m.Out, m.Err)
		}
	}
	return out
}

// FuzzDecode decodes arbitrary bytes as one of fuzzTypes. Decoding must
// not panic, and what decodes must re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
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
		if err != nil {
			return
		}
		if err := Validate(typ, v); err != nil {
			t.Fatalf("decoded value does not validate: %v", err)
		}
		again, err := Encode(typ, v)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
	})
}

// FuzzParse checks arbitrary source as an IDL, EDL and CDL file: the front
// end must not panic, and every error must carry a position.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"package x.P\nimport x.Q\nconst UInt32 N = (1 << 4) ** 2 % 7;\nstruct S { sequence<array<UInt8, 2>, N> a; }\nunion U { S s; Bool b; }\ninterface { M(in S s, out U u, error UInt32 e); }",
		"task class x.P\nendpoints { a : x.Q }\ncomponents { c : x.C }\nsecurity x.Q",
		"component x.P\nendpoints { a : x.Q }",
		"package x.P /* unterminated",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		fsys := fstest.MapFS{
			"x/P.idl": {Data: []byte(src)}, "x/P.edl": {Data: []byte(src)}, "x/P.cdl": {Data: []byte(src)},
			"x/Q.idl": {Data: []byte("package x.Q\ninterface { M(); }")},
			"x/C.cdl": {Data: []byte("component x.C\nendpoints { q : x.Q }")},
			"x/D.edl": {Data: []byte("task class x.D\ncomponents { p : x.P }")}, // reaches x/P.cdl
		}
		l := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{MaxMessage: 1 << 16})
		_, err1 := l.Package("x.P")
		_, err2 := l.Class("x.P")
		_, err3 := l.Class("x.D") // the component checker, on x/P.cdl
		for _, err := range []error{err1, err2, err3} {
			var list diag.List
			if !errors.As(err, &list) {
				if err != nil && !strings.Contains(err.Error(), "not found") {
					t.Fatalf("error that is not a positioned list: %v", err)
				}
				continue
			}
			for _, e := range list { // every error, not just the first that Error() shows
				if !strings.HasPrefix(e.Pos.File, "r/x/") || e.Pos.Line < 1 {
					t.Fatalf("error without a position: %v", e)
				}
			}
		}
	})
}
