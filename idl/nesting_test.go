package idl

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// chain returns n declarations made by decl(i), joined by new lines.
func chain(n int, decl func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(decl(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestNestingLimit: what nests (parentheses, operators, generics,
// declarations that use later ones, types that hold types) ends in a
// positioned error past maxNesting, not in a stack overflow.
func TestNestingLimit(t *testing.T) {
	const (
		huge = 3_000_000 // overflowed the Go stack before the limit
		deep = 10_000
	)
	tests := []struct {
		name, src, want string // want "" when the file is fine
	}{
		{"parentheses", "package x.P\nconst UInt32 A = " + strings.Repeat("(", huge) + "1" + strings.Repeat(")", huge) + ";",
			"r/x/P.idl:2:1018: nested more than 1000 levels deep"},
		{"parentheses at the limit", "package x.P\nconst UInt32 A = " + strings.Repeat("(", 999) + "1" + strings.Repeat(")", 999) + ";", ""},
		{"unary minus", "package x.P\nconst SInt32 A = " + strings.Repeat("- ", deep) + "1;", "r/x/P.idl:2:2016: nested more than 1000 levels deep"},
		{"power", "package x.P\nconst SInt32 A = " + strings.Repeat("1**", deep) + "1;", "r/x/P.idl:2:3016: nested more than 1000 levels deep"},
		{"sum", "package x.P\nconst SInt32 A = " + strings.Repeat("1+", deep) + "1;", "r/x/P.idl:2:2017: nested more than 1000 levels deep"},
		{"arrays", "package x.P\ntypedef " + strings.Repeat("array<", deep) + "UInt8" + strings.Repeat(",1>", deep) + " A;",
			"r/x/P.idl:2:6014: nested more than 1000 levels deep"},
		{"sequences in a parameter", "package x.P\ninterface { M(in " + strings.Repeat("sequence<", 1001) + "UInt8" + strings.Repeat(",1>", 1001) + " a); }",
			"r/x/P.idl:2:9026: nested more than 1000 levels deep"},
		{"error then more", "package x.P\nconst UInt8 A = " + strings.Repeat("(", 1001) + ";\nstruct S { UInt8 b }",
			"r/x/P.idl:2:1017: nested more than 1000 levels deep (and 1 more errors)"},
		{"typedefs that use later ones", "package x.P\n" + chain(1002, func(i int) string { return fmt.Sprintf("typedef T%d T%d;", i+1, i) }) + "typedef UInt8 T1002;",
			"r/x/P.idl:1002:15: T1000 is reached through more than 1000 declarations that each use one declared after it: declare names before their use"},
		{"typedefs in order", "package x.P\ntypedef UInt8 T1002;\n" + chain(1002, func(i int) string { return fmt.Sprintf("typedef T%d T%d;", 1002-i, 1001-i) }), ""},
		{"constants that use later ones", "package x.P\n" + chain(1002, func(i int) string { return fmt.Sprintf("const UInt8 C%d = C%d;", i, i+1) }) + "const UInt8 C1002 = 1;",
			"r/x/P.idl:1002:13: C1000 is reached through more than 1000 declarations"},
		{"structs in structs", "package x.P\nstruct S0 { UInt8 a; }\n" + chain(1001, func(i int) string { return fmt.Sprintf("struct S%d { S%d a; }", i+1, i) }),
			"r/x/P.idl:1002:8: struct S1000 nests types more than 1000 levels deep"},
		{"structs at the limit", "package x.P\nstruct S0 { UInt8 a; }\n" + chain(999, func(i int) string { return fmt.Sprintf("struct S%d { S%d a; }", i+1, i) }), ""},
		{"arrays of structs", "package x.P\nstruct S0 { UInt8 a; }\n" + chain(500, func(i int) string { return fmt.Sprintf("struct S%d { array<S%d, 1> a; }", i+1, i) }),
			"r/x/P.idl:502:8: struct S500 nests types more than 1000 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"x/P.idl": {Data: []byte(tt.src)}}
			_, err := NewLoader([]Root{{Dir: "r", FS: fsys}}, Options{}).Package("x.P")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("no error, want %s", tt.want)
			case !strings.HasPrefix(err.Error(), tt.want):
				t.Errorf("error\n got %.300s\nwant %s", err, tt.want)
			}
		})
	}
}
