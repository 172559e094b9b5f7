package idl

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"capsim/diag"
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
		{"abbreviated import", "package x.P\nimport x.Qux\n", "r/x/P.idl:2:8: package x.Qux not found: no x/Qux.idl below r (did you mean x.Q?)"},
		{"abbreviated name", "package x.P\nstruct EchoServer { UInt8 a; }\nstruct S { EchoSrv e; }", "r/x/P.idl:3:12: undefined: type EchoSrv (did you mean EchoServer?)"},
		{"const type", "package x.P\nconst Bool B = 1;", "r/x/P.idl:2:7: constant B has type Bool: constants are integers"},
		{"non-ASCII identifier", "package x.P\nstruct Größe { UInt8 a; }", "r/x/P.idl:2:8: identifier \"Größe\" is not ASCII: identifiers are ASCII letters, digits and '_'"},
		{"non-ASCII after BOM", "\uFEFFpackage x.P\nstruct S { UInt8 ä; }", "r/x/P.idl:2:18: identifier \"ä\" is not ASCII: identifiers are ASCII letters, digits and '_'"},
		{"below int64", "package x.P\nconst SInt64 A = -9223372036854775809;", "r/x/P.idl:2:19: integer 9223372036854775809 overflows a 64-bit constant"},
		{"int64 min twice negated", "package x.P\nconst SInt64 A = - -9223372036854775808;", "r/x/P.idl:2:18: constant overflows 64 bits"},
		{"partly qualified", "package x.P\nimport x.Q\nstruct S { Q.T t; }", "r/x/P.idl:3:12: undefined: type Q.T: package Q is not imported (did you mean x.Q.T?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"x/P.idl": {Data: []byte(tt.src)}, "x/Q.idl": {Data: []byte("package x.Q\nstruct T { UInt8 a; }")}}
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
		{"byte order mark", "x/P.idl", "\uFEFFpackage x.P\nstruct S { UInt8 a; }"},
		{"int64 extremes", "x/P.idl", "package x.P\nconst SInt64 A = -9223372036854775808;\nconst SInt64 B = -0x8000000000000000;\nconst SInt64 C = 9223372036854775807;\nconst SInt8 D = -128;"},
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

// TestNonASCIIIdentifier: a word with non-ASCII letters is one error, not
// one per letter, and the parse goes on after it.
func TestNonASCIIIdentifier(t *testing.T) {
	fsys := fstest.MapFS{"x/P.idl": {Data: []byte("package x.P\nstruct Größe { UInt8 a€b; }\nstruct S { UInt8 c }")}}
	_, err := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{}).Package("x.P")
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("error %v, want a diag.List", err)
	}
	want := []string{
		`r/x/P.idl:2:8: identifier "Größe" is not ASCII: identifiers are ASCII letters, digits and '_'`,
		`r/x/P.idl:2:25: illegal character "€"`, // not a letter: a word ends there
		`r/x/P.idl:3:20: expected ';' after struct field, found '}'`,
	}
	if len(list) != len(want) {
		t.Fatalf("errors:\n%v\nwant:\n%s", list, strings.Join(want, "\n"))
	}
	for i, e := range list {
		if e.Error() != want[i] {
			t.Errorf("error %d = %s, want %s", i, e, want[i])
		}
	}
}
