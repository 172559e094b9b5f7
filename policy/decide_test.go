package policy

import (
	"strconv"
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

// TestExplainState checks that an explanation shows the model state a
// denying rule depended on, as it was when the rule ran.
func TestExplainState(t *testing.T) {
	const header = echoHeader + `use nk.hashmap._
use nk.staticmap._
use nk.regex._
use EDL test.Client
use EDL test.Store
policy object f : Flow { config = { states : ["a", "b", "c"], initial : "a", transitions : { "a" : ["b"], "b" : ["c", "a"] } } }
policy object seen : HashSet { type Entry = UInt64  config = { set_size : 8, pool_size : 2 } }
policy object small : HashSet { type Entry = UInt64  config = { set_size : 2, pool_size : 2 } }
policy object lim : StaticMap { type Key = Text  type Value = UInt64  config = { keys : ["reads", "writes"], default : 0, pool_size : 2 } }
policy object num : StaticMap { type Key = UInt64  type Value = UInt64  config = { keys : [1, 2], default : 0, pool_size : 2 } }
policy object mode : StaticMap { type Key = Text  type Value = Text  config = { keys : ["m"], default : "off", pool_size : 2 } }
execute { f.init {sid : dst_sid} seen.init {sid : dst_sid} small.init {sid : dst_sid} lim.init {sid : dst_sid} num.init {sid : dst_sid} mode.init {sid : dst_sid} }
`
	const at = "t.psl:18:" // the line of the policy's first binding
	tests := []struct {
		name   string
		policy string
		steps  []string // exec, ping N, pong, get KEY; the last is explained
		want   []string
		not    []string
	}{
		{"choice default branch", `request method=Pong { choice (f.query {sid : dst_sid}) { "b" : grant () _ : deny () } }`,
			[]string{"exec", "pong"},
			[]string{"deny () → deny\n      where f.query {sid : dst_sid} is \"a\", so the choice at " + at + "23 took _\n"}, nil},
		{"choice branch, value before the branch's rules", `request method=Pong {
  choice (f.query {sid : dst_sid}) { "a" : { f.enter {sid : dst_sid, state : "b"} deny () } }
}`,
			[]string{"exec", "pong"},
			[]string{"where f.query {sid : dst_sid} is \"a\", so the choice at t.psl:19:3 took \"a\"\n"},
			[]string{"is \"b\""}},
		{"nested choices, outer first", `request method=Pong {
  choice (f.query {sid : dst_sid}) { _ : choice (mode.get {sid : dst_sid, key : "m"}) { "on" : grant () _ : deny () } }
}`,
			[]string{"exec", "pong"},
			[]string{"deny () → deny\n      where f.query {sid : dst_sid} is \"a\", so the choice at t.psl:19:3 took _\n      where mode.get {sid : dst_sid, key : \"m\"} is \"off\", so the choice at t.psl:19:42 took _\n"}, nil},
		{"choice took no branch", `request method=Pong { choice (f.query {sid : dst_sid}) { "b" : grant () } }`,
			[]string{"exec", "pong"},
			[]string{"binding at " + at + "1 matched the event, but called no rule\n    where f.query {sid : dst_sid} is \"a\", so the choice at " + at + "23 took no branch (it has no _)\n"},
			[]string{"match sections"}},
		{"re.select", `request dst=test.Store method=Get { choice (re.select {text : message.key}) { "pub.*" : grant () _ : deny () } }`,
			[]string{"get secret"},
			[]string{"where re.select {text : message.key} is \"secret\", so the choice at " + at + "37 took _\n"}, nil},
		{"re.match", `request dst=test.Store method=Get { assert (re.match {text : message.key, pattern : "pub.*"}) }`,
			[]string{"get secret"},
			[]string{"where message.key = \"secret\"\n", "where re.match {text : message.key, pattern : \"pub.*\"} is false\n"}, nil},
		{"flow state when allow denied, not after a later enter", `request method=Pong { f.allow {sid : dst_sid, states : ["b"]} f.enter {sid : dst_sid, state : "b"} }`,
			[]string{"exec", "pong"},
			[]string{"f.allow {sid : dst_sid, states : [\"b\"]} → deny\n      where f's state for dst_sid is \"a\"\n"},
			[]string{"is \"b\""}},
		{"flow enter outside the table", `request method=Pong { f.enter {sid : dst_sid, state : "c"} }`,
			[]string{"exec", "pong"},
			[]string{"where f's state for dst_sid is \"a\"\n      where f's transitions from \"a\" go only to \"b\"\n"}, nil},
		{"flow enter from a state without transitions", `request method=Ping { f.enter {sid : dst_sid, state : "b"} }
request method=Pong { f.enter {sid : dst_sid, state : "c"} f.enter {sid : dst_sid, state : "c"} }`,
			[]string{"exec", "ping 1", "pong"},
			[]string{"where f has no transition from \"c\"\n"}, nil},
		{"hashset contains", `request method=Ping { seen.add {sid : dst_sid, entry : message.value} }
request method=Pong { assert (seen.contains {sid : dst_sid, entry : 7}) }`,
			[]string{"exec", "ping 3", "ping 1", "pong"},
			[]string{"where seen.contains {sid : dst_sid, entry : 7} is false\n      where seen's set for dst_sid has 2 entries (of at most 8): 1, 3\n"}, nil},
		{"hashset listing is bounded", `request method=Ping { seen.add {sid : dst_sid, entry : message.value} }
request method=Pong { assert (!seen.contains {sid : dst_sid, entry : 4}) }`,
			[]string{"exec", "ping 7", "ping 6", "ping 5", "ping 4", "ping 3", "ping 2", "ping 1", "pong"},
			[]string{"is true\n      where seen's set for dst_sid has 7 entries (of at most 8): 1, 2, 3, 4, 5 and 2 more\n"}, nil},
		{"hashset full", `request method=Ping { small.add {sid : dst_sid, entry : message.value} }`,
			[]string{"exec", "ping 1", "ping 2", "ping 3"},
			[]string{"where message.value = 3\n      where small's set for dst_sid has 2 entries (of at most 2): 1, 2\n"}, nil},
		{"hashset remove absent", `request method=Pong { seen.remove {sid : dst_sid, entry : 9} }`,
			[]string{"exec", "pong"},
			[]string{"where seen's set for dst_sid does not contain 9\n      where seen's set for dst_sid is empty (of at most 8 entries)\n"}, nil},
		{"hashset not initialised", `request method=Pong { assert (seen.contains {sid : dst_sid, entry : 9}) }`,
			[]string{"pong"},
			[]string{"where seen has no set for dst_sid (not initialised)\n"}, []string{"is false"}},
		{"staticmap get with an uncommitted value", `request method=Ping { lim.set {sid : dst_sid, key : "reads", value : message.value} }
request method=Pong { assert (lim.get {sid : dst_sid, key : "reads"} > 2) }`,
			[]string{"exec", "ping 5", "pong"},
			[]string{"where lim.get {sid : dst_sid, key : \"reads\"} is 0\n      where lim's uncommitted value for \"reads\" of dst_sid is 5\n"}, nil},
		{"staticmap get_uncommitted", `request method=Ping { lim.set {sid : dst_sid, key : "writes", value : message.value} }
request method=Pong { assert (lim.get_uncommitted {sid : dst_sid, key : "writes"} < 2) }`,
			[]string{"exec", "ping 5", "pong"},
			[]string{"where lim.get_uncommitted {sid : dst_sid, key : \"writes\"} is 5\n      where lim's committed value for \"writes\" of dst_sid is 0\n"}, nil},
		{"staticmap unknown key", `request method=Ping { num.set {sid : dst_sid, key : message.value, value : 1} }`,
			[]string{"exec", "ping 9"},
			[]string{"where num has no key 9 (its keys: 1, 2)\n"}, nil},
		{"staticmap not initialised", `request method=Pong { lim.commit {sid : dst_sid} }`,
			[]string{"pong"},
			[]string{"where lim has no map for dst_sid (not initialised)\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, header+tt.policy)
			var got string
			for _, s := range tt.steps {
				var ev *Event
				switch word, arg, _ := strings.Cut(s, " "); word {
				case "exec":
					ev = &Event{Kind: Execute, Src: Subject{Class: coreClass, SID: 1}, Dst: Subject{Class: "demo.EchoServer", SID: 20}}
				case "ping":
					n, _ := strconv.ParseUint(arg, 10, 64)
					ev = ping(t, p, n)
				case "pong":
					ev = event(t, p, Request, "demo.EchoClient", "demo.EchoServer", "echo", "Pong", nil)
				case "get":
					ev = event(t, p, Request, "test.Client", "test.Store", "store", "Get", map[string]any{"key": arg})
				}
				got = p.Explain(ev, p.Decide(ev))
			}
			if testing.Verbose() {
				t.Log("\n" + got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Explain lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("Explain has %q:\n%s", w, got)
				}
			}
		})
	}
}

// Without Options.Explain a denying rule records nothing: the kernel then
// does no more for a denied message than for a granted one.
func TestExplainStateOnlyWhenAsked(t *testing.T) {
	src := echoHeader + `use nk.hashmap._
policy object seen : HashSet { type Entry = UInt64  config = { set_size : 8, pool_size : 2 } }
execute { seen.init {sid : dst_sid} }
request { assert (seen.contains {sid : dst_sid, entry : message.value}) }
`
	for _, explain := range []bool{false, true} {
		opts := testOpts()
		opts.Explain = explain
		p, err := CompileSource("t.psl", src, opts)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		p.Decide(&Event{Kind: Execute, Src: Subject{Class: coreClass, SID: 1}, Dst: Subject{Class: "demo.EchoServer", SID: 20}})
		d := p.Decide(ping(t, p, 9))
		if d.Grant || len(d.Rules) == 0 {
			t.Fatalf("Explain=%v: decision %+v, want a denying rule", explain, d)
		}
		if got := len(d.Rules[0].Where()); (got > 0) != explain {
			t.Errorf("Explain=%v: the denying rule recorded %d where lines", explain, got)
		}
	}
}
