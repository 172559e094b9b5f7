package policy

import (
	"bytes"
	"strings"
	"testing"
)

func runTests(t *testing.T, src string) (string, int, int) {
	t.Helper()
	p := mustCompile(t, src)
	var out bytes.Buffer
	passed, failed := p.RunTests(&out, TestOptions{Verbose: true})
	return out.String(), passed, failed
}

func TestPALRollback(t *testing.T) {
	src := echoHeader + `use nk.hashmap._
policy object pool : HashSet { type Entry = UInt32 config = { set_size : 1, pool_size : 1 } }
execute { grant () }
execute dst=demo.EchoServer { pool.init {sid : dst_sid} }
request method=Ping { pool.add {sid : dst_sid, entry : message.value} }
assert "pool" {
    setup { s <- execute dst=demo.EchoServer  c <- execute dst=demo.EchoClient }
    sequence "one" { grant c ~> s : echo.Ping { value : 1 }  deny "set full" c ~> s : echo.Ping { value : 2 } }
    sequence "two, from a fresh pool and set" { grant c ~> s : echo.Ping { value : 2 } }
    sequence "the pool holds one set" { deny "pool exhausted" execute dst=demo.EchoServer }
    sequence "a bind expects a grant" { x <- execute dst=demo.EchoServer }
}
`
	out, passed, failed := runTests(t, src)
	// The last sequence fails: x <- execute expects a grant, and the
	// pool of one set is taken by s.
	if passed != 3 || failed != 1 || !strings.Contains(out, `FAIL "pool" / "a bind expects a grant"`) {
		t.Fatalf("%d passed, %d failed:\n%s", passed, failed, out)
	}
}

func TestPALCases(t *testing.T) {
	tests := []struct {
		name string
		seq  string
		pass bool
		msg  string
	}{
		{"grant", `grant c ~> s : echo.Ping { value : 1 }`, true, ""},
		{"named failure", `deny "it" c ~> s : echo.Ping { value : 1 }`, false, `case "it" at t.psl:`},
		{"stops at first failure", `grant "first" c ~> s : echo.Ping  grant "second" c ~> s : echo.Ping`, false, `"first"`},
		{"any passes a deny", `any c ~> s : echo.Pong`, true, ""},
		{"any fails a malformed message", `any request src=c dst=kl.core.Core endpoint=locator method=Connect { id : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }`, false, "malformed message"},
		{"deny of a malformed message", `deny request src=c dst=kl.core.Core endpoint=locator method=Connect { id : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }`, true, ""},
		{"unspecified fields are zero", `deny c ~> s : echo.Ping {}  grant c ~> s : echo.Ping { value : 3 }`, true, ""},
		{"integer out of range", `any c ~> s : echo.Ping { value : -1 }`, false, "does not fit UInt32"},
		{"response", `grant response src=s dst=c endpoint=echo method=Ping { result : 5 }`, true, ""},
		{"kernel", `deny request src=c, dst=kl.core.Core endpoint=locator method=Connect { id : "x" }`, true, ""},
		{"execute case", `grant execute dst=demo.EchoServer`, true, ""},
		{"verbose explains", `grant c ~> s : echo.Pong`, false, "no binding matched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := echoHeader + `use EDL kl.core.Core
execute { grant () }
request method=Ping { assert (message.value > 0) }
request method=Echo { grant () }
response { assert (message.result == 5) }
assert "set" {
    setup { s <- execute dst=demo.EchoServer
            c <- execute dst=demo.EchoClient }
    sequence "q" { ` + tt.seq + ` }
}
`
			out, passed, _ := runTests(t, src)
			if (passed == 1) != tt.pass || !strings.Contains(out, tt.msg) {
				t.Errorf("pass = %v, want %v; output:\n%s", passed == 1, tt.pass, out)
			}
		})
	}
}

func TestUseOrderAndErrors(t *testing.T) {
	p := mustCompile(t, echoHeader+"request method=Ping { deny () }\nuse order.second._\nrequest { grant () }\n")
	d := p.Decide(ping(t, p, 1))
	if len(d.Rules) != 3 || d.Rules[0].Pos.Line != 6 || !strings.HasSuffix(d.Rules[1].Pos.File, "order/second.psl") || d.Rules[2].Pos.Line != 8 {
		t.Fatalf("rules out of source order: %+v", d.Rules)
	}
	tests := []struct{ src, want string }{
		{"use cycle.a._", ""}, // each file is included once, so a cycle ends
		{"use no.such._", "t.psl:1:1: use no.such._: no/such.psl not found"},
		{"use nk.bsae._", "unknown built-in module nk.bsae (did you mean nk.base?)"},
		{"use nk.base._\nrequest { grant () }\nuse EDL demo.EchoServer\nrequest src=demo.EchoServer { grant () }", ""},
		{"request { grant () }", "t.psl:1:11: grant needs `use nk.base._`"},
		{"execute: kl.core.Other", "only kl.core.Execute is supported"},
	}
	for _, tt := range tests {
		_, err := CompileSource("t.psl", tt.src, testOpts())
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CompileSource(%q) = %v, want %q", tt.src, err, tt.want)
		}
	}
}

// TestSkipTests: a mistake inside an assert block fails `policy test`'s
// compile but not a system's (run and verify never run the tests); a
// syntax error there still fails both.
func TestSkipTests(t *testing.T) {
	body := echoHeader + "request { grant () }\nexecute { grant () }\n"
	badTest := body + "assert \"t\" {\n  setup { s <- execute dst=demo.EchoServer\n c <- execute dst=demo.EchoClient }\n  sequence \"s\" { deny c ~> s : echo.Pongg }\n}\n"
	if _, err := CompileSource("t.psl", badTest, testOpts()); err == nil || !strings.Contains(err.Error(), "Pongg") {
		t.Errorf("with the tests checked: %v, want the unknown method Pongg", err)
	}
	opts := testOpts()
	opts.SkipTests = true
	p, err := CompileSource("t.psl", badTest, opts)
	if err != nil {
		t.Fatalf("with SkipTests: %v, want no error", err)
	}
	if len(p.Tests()) != 0 {
		t.Errorf("with SkipTests: %d test sets compiled, want none", len(p.Tests()))
	}
	if _, err := CompileSource("t.psl", body+"assert \"t\" {\n", opts); err == nil {
		t.Error("with SkipTests: an unclosed assert block compiled")
	}
}
