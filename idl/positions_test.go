package idl

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestErrorPositions pins the exact "file:line:col: message" of the main
// kinds of error.
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name string
		src  string // the file x/P.idl, loaded as package x.P
		want string
	}{
		{"syntax", "package x.P\nstruct S { UInt32 a }", "r/x/P.idl:2:21: expected ';' after struct field, found '}'"},
		{"unknown type", "package x.P\nstruct S {\n  Strng<3> a;\n}", "r/x/P.idl:3:3: type Strng takes no parameters (only bytes, string, array and sequence do) (did you mean string?)"},
		{"unknown name", "package x.P\nstruct S {\n  Bol a;\n}", "r/x/P.idl:3:3: undefined: type Bol (did you mean Bool?)"},
		{"parameter order", "package x.P\ninterface {\n  M(error UInt32 e, in UInt32 a);\n}", "r/x/P.idl:3:31: in parameter a after error parameters: parameters go in the order in, out, error"},
		{"duplicate method", "package x.P\ninterface {\n  M();\n  M();\n}", "r/x/P.idl:4:3: duplicate method M in interface x.P (first at r/x/P.idl:3:3)"},
		{"oversize bound", "package x.P\nstruct S { bytes<4194304> b; }", "r/x/P.idl:2:18: bytes<4194304> can take 4194308 bytes, more than the maximum message size (4194304)"},
		{"huge bound", "package x.P\nstruct S { sequence<UInt8, 0x4000000000000000> b; }", "r/x/P.idl:2:28: sequence<UInt8, 4611686018427387904> can take at least 4611686018427387904 bytes, more than the maximum message size (4194304)"},
		{"path mismatch", "package x.Q\n", "r/x/P.idl:1:9: package x.Q must be in a file x/Q.idl below a search root (found in r/x/P.idl)"},
		{"recursive", "package x.P\nstruct A { array<A, 2> a; }", "r/x/P.idl:2:18: recursive type: A refers to itself"},
		{"unterminated comment", "package x.P /* no end", "r/x/P.idl:1:13: comment not terminated"},
		{"hex", "package x.P\nconst UInt8 X = 0xZZ;", "r/x/P.idl:2:17: malformed integer literal \"0xZZ\""},
		{"not a package", "task class x.P\n", "r/x/P.idl:1:12: r/x/P.idl declares task class x.P, which belongs in a .edl file"},
		{"missing import", "package x.P\nimport y.Z\n", "r/x/P.idl:2:8: package y.Z not found: no y/Z.idl below r"},
		{"const type", "package x.P\nconst Bool B = 1;", "r/x/P.idl:2:7: constant B has type Bool: constants are integers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"x/P.idl": {Data: []byte(tt.src)}}
			l := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{})
			_, err := l.Package("x.P")
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.SplitN(err.Error(), " (and ", 2)[0]; got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestMaxMessageOption checks that the size limit is configurable.
func TestMaxMessageOption(t *testing.T) {
	fsys := fstest.MapFS{"x/P.idl": {Data: []byte("package x.P\nstruct S { bytes<100> b; }")}}
	if _, err := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{MaxMessage: 103}).Package("x.P"); err == nil {
		t.Error("bytes<100> accepted under a 103-byte limit")
	}
	if _, err := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{MaxMessage: 104}).Package("x.P"); err != nil {
		t.Errorf("bytes<100> rejected under a 104-byte limit: %v", err)
	}
}

// TestLexicalRules covers the optional semicolons and comments of
// REFERENCE §3.
func TestLexicalRules(t *testing.T) {
	tests := []struct {
		name, path, src string
	}{
		{"struct with ;", "x/P.idl", "package x.P\nstruct S { UInt8 a; };\nunion U { UInt8 a; };;\ninterface { M(); };"},
		{"block comments", "x/P.idl", "/* head */ package /* mid */ x.P // tail\nconst UInt32 /**/ A = 1;"},
		{"edl semicolons", "x/C.edl", "task class x.C;\nendpoints {\n a : x.P;\n b : x.P\n}\nsecurity x.P;"},
		{"generic >>", "x/P.idl", "package x.P\nstruct S { sequence<array<UInt8, 2>, 3> a; }"},
		{"split >>", "x/P.idl", "package x.P\nstruct S { bytes<1>> a; }"}, // 1 >> a: a shift
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				tt.path:   {Data: []byte(tt.src)},
				"x/P.idl": {Data: []byte("package x.P\ninterface { M(); }")},
			}
			if tt.path == "x/P.idl" {
				fsys[tt.path] = &fstest.MapFile{Data: []byte(tt.src)}
			}
			l := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{})
			var err error
			if strings.HasSuffix(tt.path, ".edl") {
				_, err = l.Class("x.C")
			} else {
				_, err = l.Package("x.P")
			}
			if tt.name == "split >>" {
				if err == nil || !strings.Contains(err.Error(), "expected '>', found ';'") {
					t.Errorf("bytes<1>> : %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
