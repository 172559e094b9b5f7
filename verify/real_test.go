package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"capsim/entities/builtin"
	"capsim/kernel/confine"
	"capsim/run"
	"capsim/scenario"
	"capsim/verify"
)

// The test binary serves as the capsim binary for the entities' programs.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	r := builtin.Registry()
	r.Register(actorProgram())
	r.MainIfEntity()
	os.Exit(m.Run())
}

// TestRealRuns runs the scenarios of testdata/real for real and checks
// their traces against verify: every granted event lies on an edge the
// graph does not call never, every property verify proves holds of the
// run, and the events each scenario names did happen (so that a check
// does not pass for want of a run).
func TestRealRuns(t *testing.T) {
	dirs, err := filepath.Glob("testdata/real/*/scenario.toml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			g, err := verify.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			recs, out := runTrace(t, dir)
			granted := 0
			for _, r := range recs {
				if r.Decision != "grant" {
					continue
				}
				granted++
				if err := g.Check(verify.EventRef{Kind: r.Kind, Src: r.Src, Dst: r.Dst, Endpoint: r.Endpoint, Method: r.Method}); err != nil {
					t.Errorf("trace record %d: %v", r.Seq, err)
				}
			}
			for _, res := range g.CheckAll() {
				if res.Holds {
					if why := violated(g.Property(res.Name), recs); why != "" {
						t.Errorf("verify proves %q, but the run %s", res.Name, why)
					}
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// record is the part of a trace record the test reads.
type record struct {
	Seq                                                int
	Kind, Src, Dst, Endpoint, Method, Decision, Reason string
}

// runTrace runs the scenario in dir and returns its trace and output.
func runTrace(t *testing.T, dir string) ([]record, string) {
	t.Helper()
	sc, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	var out syncBuffer
	r := builtin.Registry()
	r.Register(actorProgram())
	rep, err := run.Run(context.Background(), sc, run.Options{Registry: r, TracePath: trace, Output: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !rep.OK() {
		t.Errorf("the run failed:\n%s", strings.Join(rep.Failures, "\n"))
	}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []record
	sc2 := bufio.NewScanner(f)
	for sc2.Scan() {
		var r record
		if err := json.Unmarshal(sc2.Bytes(), &r); err != nil {
			t.Fatalf("trace: %v", err)
		}
		recs = append(recs, r)
	}
	return recs, out.String()
}

// violated says how the granted events of a trace break a property, or "".
// A path is a chain of granted events carrying data (requests from client
// to server, replies back), in any order: what verify over-approximates.
func violated(p *scenario.Property, recs []record) string {
	adj := map[string][]string{}
	for _, r := range recs {
		if r.Decision != "grant" || r.Src == verify.Kernel || r.Dst == verify.Kernel {
			continue
		}
		switch r.Kind {
		case "request", "response", "error":
			adj[r.Src] = append(adj[r.Src], r.Dst)
		}
	}
	switch {
	case p.Calls != nil:
		c := p.Calls
		for _, r := range recs {
			if r.Decision == "grant" && r.Kind == "request" && r.Src == c.From && r.Dst == c.To && !allowed(c.Allow, r.Endpoint+"."+r.Method) {
				return "granted " + r.Endpoint + "." + r.Method
			}
		}
	case p.NoPath != nil:
		if reach(adj, p.NoPath.From, nil)[p.NoPath.To] {
			return "carried data from " + p.NoPath.From + " to " + p.NoPath.To
		}
	case p.OnlyThrough != nil:
		o := p.OnlyThrough
		if !slices.Contains(o.Via, o.From) && !slices.Contains(o.Via, o.To) && reach(adj, o.From, o.Via)[o.To] {
			return "carried data from " + o.From + " to " + o.To + " avoiding " + strings.Join(o.Via, ", ")
		}
	case p.TCB != nil:
		for from := range adj {
			if reach(adj, from, nil)[p.TCB.Asset] && !slices.Contains(p.TCB.Expect, from) {
				return "carried data from " + from + " to " + p.TCB.Asset
			}
		}
	}
	return ""
}

func allowed(allow []string, name string) bool {
	return slices.ContainsFunc(allow, func(a string) bool {
		ok, err := filepath.Match(a, name)
		return err == nil && ok
	})
}

// reach returns the tasks reachable from from, not entering avoid.
func reach(adj map[string][]string, from string, avoid []string) map[string]bool {
	seen := map[string]bool{from: true}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, n := range adj[cur] {
			if !seen[n] && !slices.Contains(avoid, n) {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return seen
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
