package policy

import (
	"strings"
	"testing"
)

const echoHeader = `
use nk.base._
use nk.flow._
use EDL demo.EchoServer
use EDL demo.EchoClient
`

func ping(t *testing.T, p *Policy, v uint64) *Event {
	return event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", "Ping", map[string]any{"value": v})
}

func TestDecideSemantics(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		value  uint64
		grant  bool
		reason string // a prefix of the reason on a deny
		rules  int
	}{
		{"no binding", `request dst=demo.EchoServer method=Pong { grant () }`, 1, false, "no rule", 0},
		{"grant", `request dst=demo.EchoServer method=Ping { grant () }`, 1, true, "", 1},
		{"all bindings apply", `request { grant () }
request method=Ping { deny () }`, 1, false, "denied by t.psl:7:23", 2},
		{"rules run after a deny", `request { deny () grant () assert (message.value > 0) }`, 1, false, "denied by t.psl:6:11", 3},
		{"assert", `request { assert (message.value < 5) }`, 7, false, "denied by t.psl:6:11", 1},
		{"missed match contributes nothing", `request { match method=Pong { grant () } }`, 1, false, "no rule", 0},
		{"nested match", `request src=demo.EchoClient { match dst=demo.EchoServer { match method=Ping { grant () } } }`, 1, true, "", 1},
		{"big unsigned compares", `request { assert (message.value > 1 && message.value != 0x7fffffffffffffff) }`, 1 << 63, true, "", 1},
		{"big unsigned against expressions", `request { assert (message.value > 0 - 1 && message.value == message.value && !(message.value < 5 * 5)) }`, 1<<64 - 1, true, "", 1},
		{"big unsigned in arithmetic", `request { assert (message.value + 0 > 1) }`, 1 << 63, false, "denied by", 1},
		{"big unsigned negated", `request { assert (-message.value < 1) }`, 1 << 63, false, "denied by", 1},
		{"choice without match", `request { choice ("x") { "y" : grant () } }`, 1, false, "no rule", 0},
		{"choice default", `request { choice ("x") { "y" : deny () _ : grant () } }`, 1, true, "", 1},
		{"implication", `request { assert (message.value > 5 ==> message.value < 10) }`, 3, true, "", 1},
		{"right-assoc implication", `request { assert (false ==> false ==> false) }`, 3, true, "", 1},
		{"precedence", `request { assert (1 + 2 * 3 == 7 && -message.value % 4 == -3 || false) }`, 3, true, "", 1},
		{"division by zero", `request { assert (10 / (message.value - 3) > 0) }`, 3, false, "denied by", 1},
		{"hex and strings", `request { assert (0x10 == 16 && "a\x41\"" == "aA\"") }`, 3, true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, echoHeader+tt.policy)
			d := p.Decide(ping(t, p, tt.value))
			if d.Grant != tt.grant || !strings.HasPrefix(d.Reason, tt.reason) || len(d.Rules) != tt.rules {
				t.Errorf("Decide = grant %v reason %q rules %d, want grant %v reason %q rules %d\n%s",
					d.Grant, d.Reason, len(d.Rules), tt.grant, tt.reason, tt.rules, p.Explain(ping(t, p, tt.value), d))
			}
		})
	}
}

func TestStateChangesStand(t *testing.T) {
	p := mustCompile(t, echoHeader+`
policy object f : Flow { config = { states : ["a", "b"], initial : "a", transitions : { "a" : ["b"], "b" : ["a"] } } }
execute { f.init {sid : dst_sid} }
request method=Ping { deny () f.enter {sid : dst_sid, state : "b"} }
request method=Pong { f.allow {sid : dst_sid, states : ["b"]} }
`)
	ex := &Event{Kind: Execute, Src: Subject{Class: coreClass, SID: 1}, Dst: Subject{Class: "demo.EchoServer", SID: 20}}
	if d := p.Decide(ex); !d.Grant {
		t.Fatalf("execute denied: %s", d.Reason)
	}
	if d := p.Decide(ex); d.Grant || !strings.Contains(d.Rules[0].Err, "already associated") {
		t.Fatalf("second init: %+v", d)
	}
	pong := event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", "Pong", nil)
	if d := p.Decide(pong); d.Grant {
		t.Fatal("pong granted in state a")
	} else if got := p.Explain(pong, d); !strings.Contains(got, `where f's state for dst_sid is "a"`) {
		t.Errorf("Explain does not show the Flow state:\n%s", got)
	}
	if d := p.Decide(ping(t, p, 1)); d.Grant {
		t.Fatal("ping granted despite deny ()")
	}
	if d := p.Decide(pong); !d.Grant {
		t.Fatalf("the transition of a denied event did not stand: %s", d.Reason)
	}
	p.Reset()
	if d := p.Decide(pong); d.Grant || !strings.Contains(d.Rules[0].Err, "not associated") {
		t.Fatalf("after Reset: %+v", d)
	}
}

func TestInvalidMessage(t *testing.T) {
	p := mustCompile(t, echoHeader+`request { grant () }`)
	ev := ping(t, p, 1)
	ev.Message = nil
	d := p.Decide(ev)
	if d.Grant || !strings.HasPrefix(d.Reason, "invalid message") {
		t.Fatalf("nil message: %+v", d)
	}
	if !p.Audited(ev, d) {
		t.Error("invalid message not audited")
	}
	ev.Method = nil
	if d := p.Decide(ev); d.Grant || !strings.HasPrefix(d.Reason, "invalid message") {
		t.Fatalf("nil method: %+v", d)
	}
}

func TestAudited(t *testing.T) {
	base := echoHeader + `
request method=Ping { assert (message.value < 10) }
`
	tests := []struct {
		name    string
		audit   string
		value   uint64
		method  string
		audited bool
	}{
		{"no profile, grant", "", 1, "Ping", false},
		{"no profile, deny", "", 11, "Ping", true},
		{"no rule always", "audit profile p = { 0 : { base : { kss : [] } } }\naudit default = p 0", 1, "Pong", true},
		{"level 0 denied only", "audit profile p = { 0 : { base : { kss : [\"denied\"] } }, 1 : { base : { kss : [\"granted\"] } } }\naudit default = p 0", 1, "Ping", false},
		{"level 0 deny", "audit profile p = { 0 : { base : { kss : [\"denied\"] } }, 1 : { base : { kss : [\"granted\"] } } }\naudit default = p 0", 11, "Ping", true},
		{"level 1 grant", "audit profile p = { 0 : { base : { kss : [\"denied\"] } }, 1 : { base : { kss : [\"granted\"] } } }\naudit default = p 1", 1, "Ping", true},
		{"level 1 deny", "audit profile p = { 0 : { base : { kss : [\"denied\"] } }, 1 : { base : { kss : [\"granted\"] } } }\naudit default = p 1", 11, "Ping", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, base+tt.audit)
			ev := event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", tt.method, map[string]any{"value": tt.value})
			if got := p.Audited(ev, p.Decide(ev)); got != tt.audited {
				t.Errorf("Audited = %v, want %v", got, tt.audited)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	p := mustCompile(t, echoHeader+"request method=Ping {\n  grant ()\n  assert (message.value < 3)\n}\n")
	ev := ping(t, p, 5)
	got := p.Explain(ev, p.Decide(ev))
	for _, want := range []string{"denied: denied by t.psl:8:3", "binding at t.psl:6:1 matched", "t.psl:7:3: grant () → grant", "t.psl:8:3: assert (message.value < 3) → deny", "      where message.value = 5\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain lacks %q:\n%s", want, got)
		}
	}
	ev = event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", "Pong", nil)
	if got := p.Explain(ev, p.Decide(ev)); !strings.Contains(got, "no binding matched") {
		t.Errorf("Explain of no rule:\n%s", got)
	}
	// A binding that matches the event but none of whose match sections do.
	p = mustCompile(t, echoHeader+"request dst=demo.EchoServer {\n  match method=Ping { grant () }\n}\n")
	ev = event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", "Pong", nil)
	got = p.Explain(ev, p.Decide(ev))
	if !strings.Contains(got, "binding at t.psl:6:1 matched the event, but none of its match sections did") || strings.Contains(got, "no binding matched") {
		t.Errorf("Explain of a binding whose match sections all missed:\n%s", got)
	}
}
