package verify

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"capsim/idl"
	"capsim/policy"
)

// TestSoundness generates random designs, runs random events through
// Policy.Decide as the kernel would produce them (responses only to granted
// requests), and checks that no granted event lies on a never edge.
func TestSoundness(t *testing.T) {
	cases := 50
	if os.Getenv("CAPSIM_LONG") == "1" {
		cases = 1000
	}
	var grants, nevers, decided int
	for i := range cases {
		seed := uint64(i + 1)
		d := newGenDesign(seed, genSize{ifaces: 3, classes: 4, tasks: 2 + int(seed%4), bindings: 4 + int(seed%12), handles: seed%3 == 0})
		dir := t.TempDir()
		d.write(t, dir)
		g, err := Load(dir)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, d.policy())
		}
		s := &soundRun{t: t, g: g, r: rand.New(rand.NewPCG(seed, 7)), sids: map[string]policy.SID{}}
		s.run(200)
		grants += s.grants
		decided += s.decided
		for _, e := range g.Edges {
			if e.Status == Never {
				nevers++
			}
		}
		if t.Failed() {
			t.Fatalf("case %d (seed %d) failed; policy:\n%s", i, seed, d.policy())
		}
	}
	t.Logf("%d cases: %d events decided, %d granted, %d never edges", cases, decided, grants, nevers)
	if grants == 0 || nevers == 0 {
		t.Errorf("the generator is too weak: %d grants, %d never edges", grants, nevers)
	}
}

// soundRun plays random events of one design.
type soundRun struct {
	t       *testing.T
	g       *Graph
	r       *rand.Rand
	sids    map[string]policy.SID
	pending []*Edge // granted requests awaiting an answer
	grants  int
	decided int
}

func (s *soundRun) run(n int) {
	s.sids[Kernel] = 1
	for i, tk := range s.g.Tasks {
		s.sids[tk.Name] = policy.SID(100 + i)
	}
	var reqs []*Edge
	for _, e := range s.g.Edges {
		switch e.Kind {
		case policy.Execute:
			s.decide(e, nil)
		case policy.Request:
			reqs = append(reqs, e)
		}
	}
	if len(reqs) == 0 {
		return // no task of the design can start
	}
	for range n {
		if len(s.pending) > 0 && s.r.IntN(3) == 0 {
			i := s.r.IntN(len(s.pending))
			req := s.pending[i]
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			kind := policy.Response
			if s.r.IntN(3) == 0 {
				kind = policy.Error
			}
			s.decide(s.g.Edge(kind, req.Dst, req.Src, req.Endpoint, req.Method), nil)
			continue
		}
		e := reqs[s.r.IntN(len(reqs))]
		if s.decide(e, nil) {
			s.pending = append(s.pending, e)
		}
	}
}

// decide builds an event on e with a random message, decides it and
// checks a grant against the graph.
func (s *soundRun) decide(e *Edge, _ any) bool {
	p := s.g.Policy
	ev := &policy.Event{Kind: e.Kind, Src: policy.Subject{Class: s.class(e.Src), SID: s.sids[e.Src]},
		Dst: policy.Subject{Class: s.class(e.Dst), SID: s.sids[e.Dst]}, Endpoint: e.Endpoint, Interface: e.Interface}
	if e.Kind != policy.Execute {
		server := e.Dst
		if e.Kind != policy.Request {
			server = e.Src
		}
		ev.Method = s.g.Task(server).Class.Endpoint(e.Endpoint).Interface.Method(e.Method)
		ev.Message, ev.HandleSIDs = s.message(messageType(e.Kind, ev.Method))
	}
	d := p.Decide(ev)
	s.decided++
	if !d.Grant {
		return false
	}
	s.grants++
	ref := EventRef{Kind: e.Kind.String(), Src: e.Src, Dst: e.Dst, Endpoint: e.Endpoint, Method: e.Method}
	if err := s.g.Check(ref); err != nil {
		s.t.Errorf("%v (bindings %v)", err, d.Bindings)
	}
	return true
}

func (s *soundRun) class(task string) string { return s.g.Task(task).Class.Name }

// message makes random values for a struct of parameters.
func (s *soundRun) message(t *idl.Type) (*idl.StructValue, []policy.SID) {
	sv := &idl.StructValue{Type: t, Fields: make([]any, len(t.Fields))}
	var sids []policy.SID
	for i, f := range t.Fields {
		switch f.Type.Kind {
		case idl.UInt8, idl.UInt16, idl.UInt32:
			sv.Fields[i] = uint64([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 254, 255}[s.r.IntN(11)])
		case idl.UInt64: // also above the int64 range verify's intervals use
			sv.Fields[i] = []uint64{0, 1, 2, 3, 8, 255, 1 << 63, math.MaxUint64}[s.r.IntN(8)]
		case idl.SInt8, idl.SInt16, idl.SInt32, idl.SInt64:
			sv.Fields[i] = int64(s.r.IntN(7) - 3)
		case idl.Bool:
			sv.Fields[i] = s.r.IntN(2) == 0
		case idl.String:
			sv.Fields[i] = []string{"", "x", "abc", "c0", "c1", "echo", "toolongv"}[s.r.IntN(7)]
		case idl.Bytes:
			sv.Fields[i] = []byte("x")
		case idl.Handle:
			sv.Fields[i] = idl.HandleSlot(len(sids))
			sids = append(sids, policy.SID(1000+s.r.IntN(4)))
		}
	}
	return sv, sids
}
