package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"capsim/idl"
)

// universe lists the (class, endpoint, method) triples of the test classes.
type triple struct{ class, ep, iface, method string }

func universe(t testing.TB, p *Policy) []triple {
	var out []triple
	for _, name := range keys(p.Classes) {
		cl := p.Classes[name]
		for _, ep := range cl.Endpoints {
			for _, m := range ep.Interface.Methods {
				out = append(out, triple{name, ep.Name, ep.Interface.Name, m.Name})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("empty universe")
	}
	return out
}

// byteSource draws choices from fuzz input, then zeros.
type byteSource struct{ b []byte }

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) intn(n int) int { return int(s.next()) % n }

// randValue builds a value of type t from the byte source; now and then
// it builds one of the wrong shape, which Decide must survive too.
func randValue(s *byteSource, t *idl.Type, depth int) any {
	if s.intn(16) == 0 {
		return []any{"wrong", nil}[s.intn(2)]
	}
	switch kindOf(t) {
	case vInt:
		if t.Kind <= idl.UInt64 {
			return uint64(s.next()) << (s.intn(8) * 8)
		}
		return int64(int8(s.next())) << (s.intn(8) * 8)
	case vBool:
		return s.next()%2 == 0
	case vSID:
		return idl.HandleSlot(s.intn(3))
	case vText:
		return strings.Repeat("a.", s.intn(6))
	case vBytes:
		return make([]byte, s.intn(12))
	}
	switch t.Kind {
	case idl.Array, idl.Sequence:
		n := s.intn(5)
		if depth > 3 {
			n = 0
		}
		l := make([]any, n)
		for i := range l {
			l[i] = randValue(s, t.Elem, depth+1)
		}
		return l
	case idl.Struct:
		sv := &idl.StructValue{Type: t, Fields: make([]any, len(t.Fields))}
		for i, f := range t.Fields {
			sv.Fields[i] = randValue(s, f.Type, depth+1)
		}
		return sv
	case idl.Union:
		i := s.intn(len(t.Fields))
		return &idl.UnionValue{Type: t, Tag: i, Value: randValue(s, t.Fields[i].Type, depth+1)}
	}
	return nil
}

func randEvent(s *byteSource, p *Policy, u []triple) *Event {
	classes := append(keys(p.Classes), "no.Such")
	tr := u[s.intn(len(u))]
	ev := &Event{Kind: EventKind(s.intn(6)), Endpoint: tr.ep, Interface: tr.iface,
		Src: Subject{Class: classes[s.intn(len(classes))], SID: SID(s.intn(4))},
		Dst: Subject{Class: tr.class, SID: SID(s.intn(4))}}
	if ev.Kind == Response || ev.Kind == Error {
		ev.Src, ev.Dst = ev.Dst, ev.Src
	}
	if cl := p.Classes[tr.class]; cl != nil && ev.Kind != Execute {
		for _, ep := range cl.Endpoints {
			if ep.Name == tr.ep {
				ev.Method = ep.Interface.Methods[slices.IndexFunc(ep.Interface.Methods, func(m *idl.Method) bool { return m.Name == tr.method })]
			}
		}
		if ev.Kind == Security && cl.Security != nil {
			ev.Method, ev.Endpoint = cl.Security.Methods[0], ""
		}
	}
	if mt := messageType(ev.Kind, ev.Method); mt != nil && s.intn(8) != 0 {
		ev.Message, _ = randValue(s, mt, 0).(*idl.StructValue)
	}
	ev.HandleSIDs = []SID{SID(s.intn(4)), SID(s.intn(4))}
	return ev
}

func sameBindings(a, b []*cbinding) bool {
	return slices.EqualFunc(a, b, func(x, y *cbinding) bool { return x == y })
}

// FuzzDecide feeds random events to the example policy: Decide must not
// panic, and the indexed lookup must agree with a scan of all bindings.
func FuzzDecide(f *testing.F) {
	p, err := Compile("testdata/all.psl", testOpts())
	if err != nil {
		f.Fatal(err)
	}
	u := universe(f, p)
	f.Add([]byte{2, 3, 1, 0, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte("random events against the policy"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &byteSource{b: b}
		for range 4 {
			ev := randEvent(s, p, u)
			d := p.Decide(ev)
			if d.Grant && (len(d.Rules) == 0 || d.Reason != "") {
				t.Fatalf("grant without rules or with a reason: %+v", d)
			}
			_ = p.Audited(ev, d)
			_ = p.Explain(ev, d)
			if !sameBindings(p.lookup(ev), p.scanBindings(ev)) {
				t.Fatalf("index and scan disagree for %+v", ev)
			}
		}
	})
}

// TestLookupDifferential compares the indexed, cached lookup with a scan
// of every binding on a generated policy of random selectors.
func TestLookupDifferential(t *testing.T) {
	base := mustCompile(t, echoHeader+"use EDL test.Store\nuse EDL test.Client\n")
	u := universe(t, base)
	rng := rand.New(rand.NewPCG(1, 2))
	classes := keys(base.Classes)
	kinds := []string{"request", "response", "error"}
	var src strings.Builder
	src.WriteString(echoHeader + "use EDL test.Store\nuse EDL test.Client\n")
	for i := range 400 {
		tr := u[rng.IntN(len(u))]
		kind := kinds[rng.IntN(len(kinds))]
		server, client := "dst", "src"
		if kind != "request" {
			server, client = "src", "dst"
		}
		var sel []string
		if rng.IntN(2) == 0 {
			sel = append(sel, server+"="+tr.class)
		}
		if rng.IntN(3) == 0 {
			sel = append(sel, client+"="+classes[rng.IntN(len(classes))])
		}
		switch rng.IntN(3) {
		case 0:
			sel = append(sel, "endpoint="+tr.ep)
		case 1:
			sel = append(sel, "interface="+tr.iface)
		}
		if rng.IntN(2) == 0 {
			sel = append(sel, "method="+tr.method)
		}
		fmt.Fprintf(&src, "%s %s { assert (%d > 0) }\n", kind, strings.Join(sel, " "), i)
	}
	p := mustCompile(t, src.String())
	if len(p.Bindings) != 400 {
		t.Fatalf("%d bindings", len(p.Bindings))
	}
	seed := make([]byte, 64)
	matched := 0
	for i := range 3000 {
		for j := range seed {
			seed[j] = byte(rng.IntN(256))
		}
		ev := randEvent(&byteSource{b: seed}, p, u)
		for range 2 { // the second time from the cache
			if got, want := p.lookup(ev), p.scanBindings(ev); !sameBindings(got, want) {
				t.Fatalf("event %d %+v: index found %d bindings, scan %d", i, ev, len(got), len(want))
			}
		}
		matched += len(p.lookup(ev))
	}
	if matched < 3000 {
		t.Errorf("only %d bindings matched over 3000 events: the test does not exercise the index", matched)
	}
}

// TestConcurrentDecide runs decisions from many goroutines (run with
// -race): stateless lookups and model state must not race.
func TestConcurrentDecide(t *testing.T) {
	p, err := Compile("testdata/all.psl", testOpts())
	if err != nil {
		t.Fatal(err)
	}
	u := universe(t, p)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			b := make([]byte, 64)
			for range 500 {
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				p.Decide(randEvent(&byteSource{b: b}, p, u))
			}
		}()
	}
	wg.Wait()
}
