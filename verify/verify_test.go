package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/diag"
	"capsim/policy"
	"capsim/scenario"
)

// copyDir copies a testdata folder to a temp folder, appending extra to
// its policy.
func copyDir(t *testing.T, src, extra string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "policy.psl" {
			b = append(b, extra...)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestTLSShapeHolds(t *testing.T) {
	g, err := Load("testdata/tls")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.CheckAll() {
		if !r.Holds {
			var b bytes.Buffer
			_ = WriteText(&b, []Result{r})
			t.Errorf("%s", b.String())
		}
	}
	// Wired, yet never granted: the goal holds by policy.
	if e := g.Edge(policy.Request, "client", "device-vfs", "socket", "Send"); e == nil || e.Status != Never {
		t.Errorf("client -> device-vfs socket.Send = %v, want a never edge", e)
	}
	if e := g.Edge(policy.Request, "client", "device-tls", "socket", "Send"); e == nil || e.Status != Always {
		t.Errorf("client -> device-tls socket.Send = %v, want always", e)
	}
}

// TestPermissiveBinding adds one binding that lets the client reach its
// VFS: the headline property fails with a counterexample naming it.
func TestPermissiveBinding(t *testing.T) {
	dir := copyDir(t, "testdata/tls", "request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Connect { grant () }\n")
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := g.Property("the client reaches the network only through the TLS entity")
	r := g.CheckProperty(p)
	if r.Holds {
		t.Fatal("the property holds despite the permissive binding")
	}
	var b bytes.Buffer
	if err := WriteText(&b, []Result{r}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := len(strings.Split(string(mustRead(t, filepath.Join(dir, "policy.psl"))), "\n")) - 1
	want := filepath.Join(dir, "policy.psl") + ":" + itoa(lines) + ":1"
	for _, s := range []string{"FAILS", "client -> device-vfs: request socket.Connect (always) granted by " + want, "device-vfs -> device-net"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestEdgeStatus decides single bindings on the TLS shape.
func TestEdgeStatus(t *testing.T) {
	tests := []struct {
		name, binding string
		method        string
		want          Status
	}{
		{"constant grant", "{ grant () }", "Send", Always},
		{"constant deny", "{ grant () deny () }", "Send", Never},
		{"field interval may", "{ assert (message.fd > 2) }", "Send", May},
		{"interval impossible", "{ assert (message.flags < 0) }", "Send", Never},
		{"interval certain", "{ assert (message.flags >= 0) }", "Send", Always},
		{"contradiction", "{ assert (message.fd > 5 && message.fd < 3) }", "Send", Never},
		{"tautology", "{ assert (message.fd > 5 || message.fd <= 5) }", "Send", Always},
		{"missing field", "{ assert (message.data == \"x\") }", "Close", Never},
		{"size bound", "{ assert (size (message.data) > 1048576) }", "Send", Never},
		{"match misses", "{ match method=Recv { grant () } }", "Send", Never},
		{"match hits", "{ match method=Send { grant () } }", "Send", Always},
		{"implication", "{ assert (message.fd == 1 ==> message.flags == 2) }", "Send", May},
		{"negation", "{ assert (!(message.flags >= 0)) }", "Send", Never},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, "testdata/tls", "request src=demo.HttpClient dst=kl.VfsNet endpoint=socket "+tt.binding+"\n")
			g, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			e := g.Edge(policy.Request, "client", "device-vfs", "socket", tt.method)
			if e == nil || e.Status != tt.want {
				t.Errorf("status = %v, want %v", e, tt.want)
			}
		})
	}
}

// TestFlowStates: a Flow state no enter rule can reach keeps its
// alternatives from granting.
func TestFlowStates(t *testing.T) {
	flow := `
use nk.flow._
policy object st : Flow {
    type S = "a" | "b" | "c"
    config = { states : ["a", "b", "c"], initial : "a", transitions : { "a" : ["b"], "b" : ["a"], "c" : ["a"] } }
}
request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Send { st.allow {sid : dst_sid, states : ["c"]} }
request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Recv { st.allow {sid : dst_sid, states : ["b"]} }
request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Close { st.enter {sid : dst_sid, state : "b"} }
request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Poll {
    choice (st.query {sid : dst_sid}) { "c" : grant () _ : deny () }
}
`
	g, err := Load(copyDir(t, "testdata/tls", flow))
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range map[string]Status{"Send": Never, "Recv": May, "Close": May, "Poll": Never} {
		if e := g.Edge(policy.Request, "client", "device-vfs", "socket", m); e.Status != want {
			t.Errorf("%s: %v, want %v", m, e.Status, want)
		}
	}
}

func TestCheck(t *testing.T) {
	g, err := Load("testdata/tls")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref EventRef
		ok  bool
	}{
		{EventRef{"execute", "kernel", "client", "", ""}, true},
		{EventRef{"request", "client", "device-tls", "socket", "Send"}, true},
		{EventRef{"response", "device-tls", "client", "socket", "Send"}, true},
		{EventRef{"request", "client", "kernel", "locator", "Connect"}, true},
		{EventRef{"request", "client", "device-vfs", "socket", "Send"}, false},
		{EventRef{"response", "device-vfs", "client", "socket", "Send"}, false},
		{EventRef{"request", "device-net", "client", "socket", "Send"}, false},
		{EventRef{"security", "client", "", "", "Check"}, true},
	}
	for _, tt := range tests {
		if err := g.Check(tt.ref); (err == nil) != tt.ok {
			t.Errorf("Check(%+v) = %v, want ok %v", tt.ref, err, tt.ok)
		}
	}
}

func TestOutcomeSeq(t *testing.T) {
	tests := []struct{ a, b, want outcome }{
		{oNone, oNone, oNone},
		{oNone, oGrant, oGrant},
		{oGrant, oDeny, oDeny},
		{oEither, oGrant, oEither},
		{oNone | oGrant, oNone, oNone | oGrant},
		{oEither, oDeny, oDeny},
	}
	for _, tt := range tests {
		if got := seq(tt.a, tt.b); got != tt.want {
			t.Errorf("seq(%b, %b) = %b, want %b", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestHandles: a channel that travels in a Handle field gives its
// receivers edges, and through them paths.
func TestHandles(t *testing.T) {
	g, err := Load("testdata/handles")
	if err != nil {
		t.Fatal(err)
	}
	e := g.Edge(policy.Request, "user", "vault", "pass", "Give")
	if e == nil || e.Status != Always || !strings.HasPrefix(e.Channel, "handle from ") {
		t.Fatalf("user -> vault = %+v, want an always edge through a handle", e)
	}
	r := g.CheckAll()[0]
	if r.Holds || len(r.Counterexamples[0].Hops) != 1 {
		t.Errorf("no_path = %+v, want a one-hop counterexample", r)
	}
	// The allow-list grants only calls on connections.
	sc := g.Scenario
	sc.Policy = ""
	al, err := Prepare(sc)
	if err != nil {
		t.Fatal(err)
	}
	if e := al.Edge(policy.Request, "user", "vault", "pass", "Give"); e == nil || e.Status != Never {
		t.Errorf("allow-list: user -> vault = %v, want never", e)
	}
	if e := al.Edge(policy.Request, "owner", "vault", "pass", "Give"); e == nil || e.Status != Always || GrantedBy(e) != "granted by the allow-list (connection vault)" {
		t.Errorf("allow-list: owner -> vault = %v", e)
	}
}

// TestRunTraceOnGraph checks every granted event of a real run of
// scenarios/ping-flow against the scenario's graph.
func TestRunTraceOnGraph(t *testing.T) {
	g, err := Load("../scenarios/ping-flow")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/traces/ping-flow.jsonl"))), "\n") {
		var r struct{ Kind, Src, Dst, Endpoint, Method, Decision string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Decision != "grant" {
			continue
		}
		n++
		if err := g.Check(EventRef{r.Kind, r.Src, r.Dst, r.Endpoint, r.Method}); err != nil {
			t.Error(err)
		}
	}
	if n < 10 {
		t.Errorf("only %d granted events in the trace", n)
	}
}

// TestAllowListTypo: a calls property whose allow list names a method the
// target does not serve is an error at the list, not a failing property.
func TestAllowListTypo(t *testing.T) {
	dir := copyDir(t, "testdata/tls", "")
	sc := filepath.Join(dir, "scenario.toml")
	b, err := os.ReadFile(sc)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`allow = ["socket.*"]`), []byte(`allow = ["socket.Sned", "sockte.*", "socket.*"]`), 1)
	if err := os.WriteFile(sc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil {
		t.Fatal("Load accepted an allow list naming methods the target does not serve")
	}
	var list diag.List
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Load = %v, want two positioned errors (the two bad patterns, not the good one)", err)
	}
	for i, want := range []string{`allow "socket.Sned" names no method device-tls serves (socket.Socket, `, `allow "sockte.*" names no method`} {
		if e := list[i]; e.Pos.Line != 44 || !strings.Contains(e.Msg, want) {
			t.Errorf("error %d = %v, want line 44 and %q", i, e, want)
		}
	}
}

// TestUInt64AboveInt64: a UInt64 compared above the int64 range can still
// hold (2^64-1 > 2^63-1), so verify must not call the edge never, and the
// calls property fails.
func TestUInt64AboveInt64(t *testing.T) {
	g, err := Load("testdata/uint64")
	if err != nil {
		t.Fatal(err)
	}
	e := g.Edge(policy.Request, "client", "store", "store", "Grant")
	if e == nil || e.Status == Never {
		t.Fatalf("store.Grant edge = %v, want may", e)
	}
	s := &soundRun{t: t, g: g, r: rand.New(rand.NewPCG(1, 2))}
	m := g.Task("store").Class.Endpoint("store").Interface.Method("Grant")
	msg, sids := s.message(m.In)
	for i, f := range m.In.Fields {
		if f.Name == "big" {
			msg.Fields[i] = uint64(math.MaxUint64)
		}
	}
	d := g.Policy.Decide(&policy.Event{Kind: policy.Request, Src: policy.Subject{Class: "test.Client", SID: 100},
		Dst: policy.Subject{Class: "test.Store", SID: 101}, Endpoint: "store", Interface: e.Interface,
		Method: m, Message: msg, HandleSIDs: sids})
	if !d.Grant {
		t.Fatalf("the policy denies big = 2^64-1 (%s): the test no longer shows the case", d.Reason)
	}
	for _, r := range g.CheckAll() {
		if r.Holds {
			t.Errorf("property %q holds; want it to fail", r.Name)
		}
	}
}

// TestDeniedStartAndConnect: a task whose execute is never granted, or
// that is never granted a Connect, holds no channel: no path leaves it.
// Before, verify added its connections anyway and reported paths the
// kernel can never carry.
func TestDeniedStartAndConnect(t *testing.T) {
	for _, dir := range []string{"testdata/never-starts", "testdata/no-connect"} {
		g, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range g.CheckAll() {
			if !r.Holds {
				t.Errorf("%s: property %q fails: %+v", dir, r.Name, r.Counterexamples)
			}
		}
		if e := g.Edge(policy.Request, "client", "server", "echo", "Ping"); e != nil && e.Status != Never {
			t.Errorf("%s: client -> server Ping is %v, want never or absent", dir, e.Status)
		}
	}
}

// TestOnlyThroughVacuous: only_through holds when no path exists at all,
// and says so.
func TestOnlyThroughVacuous(t *testing.T) {
	g, err := Load("testdata/never-starts")
	if err != nil {
		t.Fatal(err)
	}
	r := g.CheckProperty(&scenario.Property{Name: "p", OnlyThrough: &scenario.OnlyThrough{From: "client", To: "server", Via: []string{"client"}}})
	if !r.Holds || r.Vacuous != "" {
		t.Errorf("via the source itself: %+v", r)
	}
	r = g.CheckProperty(&scenario.Property{Name: "p", OnlyThrough: &scenario.OnlyThrough{From: "client", To: "server", Via: []string{"kernel"}}})
	if !r.Holds || r.Vacuous != "no path leads from client to server at all" {
		t.Errorf("no path at all: %+v", r)
	}
	var b bytes.Buffer
	if err := WriteText(&b, []Result{r}); err != nil || !strings.Contains(b.String(), "p: holds (vacuously: no path leads from client to server at all)") {
		t.Errorf("WriteText = %q, %v", b.String(), err)
	}
}
