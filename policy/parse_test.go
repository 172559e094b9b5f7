package policy

import (
	"fmt"
	"strings"
	"testing"

	"capsim/diag"
	"capsim/idl"
)

// exprString prints an expression fully parenthesised.
func exprString(e Expr) string {
	switch e := e.(type) {
	case *IntLit:
		return fmt.Sprint(e.Val)
	case *BoolLit:
		return fmt.Sprint(e.Val)
	case *StrLit:
		return fmt.Sprintf("%q", e.Val)
	case *Name:
		return e.Name
	case *FieldExpr:
		return exprString(e.X) + "." + e.Field
	case *IndexExpr:
		return exprString(e.X) + "[" + exprString(e.Index) + "]"
	case *UnaryExpr:
		return "(" + e.Op + exprString(e.X) + ")"
	case *BinaryExpr:
		return "(" + exprString(e.X) + " " + e.Op + " " + exprString(e.Y) + ")"
	case *SizeExpr:
		return "size(" + exprString(e.X) + ")"
	case *CallExpr:
		var args []string
		for _, a := range e.Args {
			args = append(args, a.Name+":"+exprString(a.Value))
		}
		return e.Object + "." + e.Method + "{" + strings.Join(args, ",") + "}"
	case *ListExpr:
		var el []string
		for _, x := range e.Elems {
			el = append(el, exprString(x))
		}
		return "[" + strings.Join(el, ",") + "]"
	}
	return "?"
}

func TestParseExpr(t *testing.T) {
	tests := []struct{ src, want string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"a ==> b ==> c", "(a ==> (b ==> c))"},
		{"a || b && c", "(a || (b && c))"},
		{"!a && b", "((!a) && b)"},
		{"-x - -3", "((-x) - -3)"},
		{"message.a.b[1 + i].c", "message.a.b[(1 + i)].c"},
		{"size (message.s) >= 0x10", "(size(message.s) >= 16)"},
		{`f.query {sid : dst_sid} == "x\n"`, `(f.query{sid:dst_sid} == "x\n")`},
		{"(1 + 2) * 3 % 4", "(((1 + 2) * 3) % 4)"},
		{"a == b || c != d ==> e < f", "(((a == b) || (c != d)) ==> (e < f))"},
		{"x > -9223372036854775808", "(x > -9223372036854775808)"},
		{"x > - 9223372036854775807 - 1", "(x > (-9223372036854775807 - 1))"},
		{"-5 < x", "(-5 < x)"},
	}
	for _, tt := range tests {
		var errs diag.List
		f := parseFile("e.psl", "request { assert ("+tt.src+") }", &errs)
		if len(errs) > 0 {
			t.Errorf("%s: %v", tt.src, errs)
			continue
		}
		r := f.Decls[0].(*Binding).Body[0].(*Rule)
		if got := exprString(r.Args[0].Value); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"request { grant ( }", `e.psl:1:19: expected ")", found "}"`},
		{"request bogus=x { }", `e.psl:1:9: unknown selector "bogus"`},
		{"request src=a src=b { }", `e.psl:1:15: selector src given twice`},
		{"request { assert (1 < 2 < 3) }", `e.psl:1:25: comparisons do not chain`},
		{`request { assert ("abc) }`, `e.psl:1:19: string not terminated`},
		{"request { assert (99999999999999999999 > 1) }", `e.psl:1:19: integer 99999999999999999999 overflows`},
		{"request { assert (9223372036854775808 > 1) }", `e.psl:1:19: integer 9223372036854775808 overflows`},
		{"request { assert (- -9223372036854775808 > 1) }", `e.psl:1:19: integer -(-9223372036854775808) overflows`},
		{"request { assert (1 - 9223372036854775808 > 1) }", `e.psl:1:23: integer 9223372036854775808 overflows`},
		{"audit default = p 9223372036854775808", `e.psl:1:19: integer 9223372036854775808 overflows`},
		{"/* open", `e.psl:1:1: comment not terminated`},
		{"use a.b", `e.psl:1:5: expected "._" after module name a.b`},
		{"request { choice (x) { 1 : grant () } }", `e.psl:1:24: expected a string or _`},
		{"assert \"s\" { sequence \"q\" { maybe c ~> s : e.M } }", `e.psl:1:29: expected a test case`},
		{"execute: kl.core.Execute\nexecute: kl.core.Execute", `e.psl:2:1: execute interface declared twice`},
		{"policy thing x", `e.psl:1:8: expected "object"`},
		{"request { match { grant () } }", `e.psl:1:17: match needs at least one selector`},
		{"§", `e.psl:1:1: unexpected character`},
		{"execute { grant ()\nexecute { grant () }", `e.psl:2:1: unclosed { (opened at 1:9): found "execute", which starts a declaration`},
		{"request { match method=Ping { grant ()\n}\nassert \"t\" { }", `e.psl:3:1: unclosed { (opened at 1:9)`},
		{"execute { grant () ", `e.psl:1:20: unclosed { (opened at 1:9): the file ends`},
		{"execute { assert (" + strings.Repeat("(", 600) + "true" + strings.Repeat(")", 600) + ") }", `e.psl:1:518: nested more than 1000 levels deep`},
		{"execute {" + strings.Repeat(" match method=main {", 1001), `e.psl:1:20009: nested more than 1000 levels deep`},
		{"policy object f : Flow { config = { states : " + strings.Repeat("[", 1000) + " } }", `e.psl:1:1045: nested more than 1000 levels deep`},
		{"execute { assert (true" + strings.Repeat(" && true", 1200) + ") }", `e.psl:1:8003: nested more than 1000 levels deep`},
		{"request { frob (x) }", `e.psl:1:11: expected a rule (grant, deny, assert or object.method {...}), found "frob"`},
	}
	for _, tt := range tests {
		_, err := Parse("e.psl", tt.src)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %s", tt.src, err, tt.want)
		}
	}
}

func TestParseDecls(t *testing.T) {
	src := `execute: kl.core.Execute
use nk.base._
use EDL a.b.C
use my.lib._
policy object f : Flow { type S = "a" | "b" config = { states : ["a", "b"], initial : "a", transitions : { "a" : ["b"] } } }
audit profile p = { 0 : { base : { kss : ["denied"] } } }
audit default = p 0
request src=a.B, dst=c.D endpoint=e method=M { match interface=x.Y component=k { deny () } }
assert "s" {
    setup { x <- execute dst=a.B  y <- execute src=x, dst=c.D }
    sequence "q" { grant "n" x ~> y : k.e.M { a : 1, b : [true, -2], c : { d : "s" } } deny response src=y dst=x endpoint=e method=M }
    finally { any security src=x method=Check }
}`
	f, err := Parse("d.psl", src)
	if err != nil {
		t.Fatal(err)
	}
	if f.Header != "kl.core.Execute" || len(f.Decls) != 7 || len(f.Asserts) != 1 {
		t.Fatalf("header %q, %d decls, %d asserts", f.Header, len(f.Decls), len(f.Asserts))
	}
	if u := f.Decls[1].(*Use); !u.EDL || u.Name != "a.b.C" {
		t.Errorf("use EDL: %+v", u)
	}
	if u := f.Decls[2].(*Use); u.EDL || u.Name != "my.lib" {
		t.Errorf("use: %+v", u)
	}
	o := f.Decls[3].(*ObjectDecl)
	if o.Model != "Flow" || len(o.Types[0].States) != 2 || o.Config.Field("initial").Str != "a" {
		t.Errorf("object: %+v", o)
	}
	b := f.Decls[6].(*Binding)
	if b.Sel.Src != "a.B" || b.Sel.Dst != "c.D" || b.Sel.Endpoint != "e" || b.Sel.Method != "M" {
		t.Errorf("selectors: %+v", b.Sel)
	}
	m := b.Body[0].(*Match)
	if m.Sel.Interface != "x.Y" || m.Sel.Component != "k" {
		t.Errorf("match selectors: %+v", m.Sel)
	}
	ts := f.Asserts[0]
	step := ts.Sequences[0].Steps[0]
	if step.Name != "n" || step.Sel.Endpoint != "k.e" || step.Sel.Method != "M" || step.Message.Field("b").List[1].Int != -2 {
		t.Errorf("shorthand step: %+v", step)
	}
	if ts.Setup[1].Bind != "y" || ts.Setup[1].Sel.Src != "x" {
		t.Errorf("setup: %+v", ts.Setup[1])
	}
	if ts.Finally[0].Kind != Security || ts.Finally[0].Expect != "any" {
		t.Errorf("finally: %+v", ts.Finally[0])
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"request src=a.B { grant () }",
		`request { choice (re.select {text : message.s}) { "a.*" : deny () _ : { grant () } } }`,
		"policy object f : Flow { config = { states : [\"a\"], initial : \"a\" } }",
		"assert \"x\" { sequence \"y\" { grant c ~> s : e.M { a : [1, {b : 2}] } } }",
		"/* c */ // d\nuse EDL a.b.C use nk.base._",
		"request { assert (a ==> b ==> -c[1].d % 0x1F) }",
	} {
		f.Add(s)
	}
	opts := testOpts()
	opts.Loader = idl.NewLoader(opts.Roots, idl.Options{})
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse("f.psl", src)
		if file == nil {
			t.Fatal("nil file")
		}
		if err != nil {
			l, ok := err.(diag.List)
			if !ok || len(l) == 0 || !l[0].Pos.IsValid() {
				t.Fatalf("unpositioned error %v", err)
			}
			return
		}
		// What parses must also compile without panicking.
		_, _ = CompileSource("f.psl", src, opts)
	})
}

func TestParseSkipsByteOrderMark(t *testing.T) {
	f, err := Parse("b.psl", "\ufeffexecute { grant () }")
	if err != nil || len(f.Decls) != 1 {
		t.Fatalf("Parse with a BOM: %d declarations, %v", len(f.Decls), err)
	}
	if _, err := Parse("b.psl", "\ufeffexecute { frob }"); err == nil || !strings.HasPrefix(err.Error(), "b.psl:1:11:") {
		t.Errorf("error after a BOM = %v, want column 11 (the BOM takes none)", err)
	}
}

func TestParseRecovers(t *testing.T) {
	src := "request { grant ( }\nrequest { deny () }\nuse a.b\nrequest src=x { assert (1 +) }\n"
	f, err := Parse("r.psl", src)
	l, _ := err.(diag.List)
	if len(l) != 3 || l[0].Pos.Line != 1 || l[1].Pos.Line != 3 || l[2].Pos.Line != 4 {
		t.Fatalf("errors %v", err)
	}
	if len(f.Decls) != 1 {
		t.Errorf("%d declarations parsed between the errors, want 1", len(f.Decls))
	}
	many := strings.Repeat("request { grant }\n", 30)
	if _, err := Parse("m.psl", many); len(err.(diag.List)) != maxSyntaxErrors {
		t.Errorf("%d errors, want the cap %d", len(err.(diag.List)), maxSyntaxErrors)
	}
}
