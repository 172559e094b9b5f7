package verify

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"capsim/diag"
	"capsim/scenario"
)

// Result is the outcome of one property.
type Result struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // only_through, no_path, calls, tcb
	Holds bool   `json:"holds"`
	// Vacuous says why a property holds for want of anything to check:
	// only_through when no path leads from its from to its to at all.
	Vacuous string `json:"vacuous,omitempty"`
	// Network says, for a property that holds, how data could still flow
	// over a link between hosts, outside the policy (verify proves IPC).
	Network string   `json:"network,omitempty"`
	Pos     diag.Pos `json:"-"`
	// Counterexamples show why a property fails: a path, or the calls
	// beyond what calls allows.
	Counterexamples []Counterexample `json:"counterexamples,omitempty"`
}

// Counterexample is one reason a property fails: Note says what, and Hops
// are the granted edges that make it so (a path, or single calls).
type Counterexample struct {
	Note string  `json:"note"`
	Hops []*Edge `json:"hops,omitempty"`
}

// CheckAll evaluates every property of the scenario, in file order.
func (g *Graph) CheckAll() []Result {
	out := make([]Result, 0, len(g.Scenario.Properties))
	for i := range g.Scenario.Properties {
		out = append(out, g.CheckProperty(&g.Scenario.Properties[i]))
	}
	return out
}

// Property returns the scenario's property with the given name, or nil.
func (g *Graph) Property(name string) *scenario.Property {
	for i := range g.Scenario.Properties {
		if p := &g.Scenario.Properties[i]; p.Name == name {
			return p
		}
	}
	return nil
}

// CheckProperty evaluates one property on the graph.
func (g *Graph) CheckProperty(p *scenario.Property) Result {
	r := Result{Name: p.Name, Pos: p.Pos, Holds: true}
	switch {
	case p.OnlyThrough != nil:
		o := p.OnlyThrough
		r.Kind = "only_through"
		if slices.Contains(o.Via, o.From) || slices.Contains(o.Via, o.To) {
			break
		}
		if hops := g.Path(o.From, o.To, o.Via); hops != nil {
			r.fail(fmt.Sprintf("%s reaches %s avoiding %s", o.From, o.To, strings.Join(o.Via, ", ")), hops)
		} else if g.Path(o.From, o.To, nil) == nil {
			r.Vacuous = fmt.Sprintf("no path leads from %s to %s at all", o.From, o.To)
		}
	case p.NoPath != nil:
		r.Kind = "no_path"
		if hops := g.Path(p.NoPath.From, p.NoPath.To, nil); hops != nil {
			r.fail(fmt.Sprintf("%s reaches %s", p.NoPath.From, p.NoPath.To), hops)
		} else {
			r.Network = g.networkPath(p.NoPath.From, p.NoPath.To)
		}
	case p.Calls != nil:
		r.Kind = "calls"
		g.checkCalls(&r, p.Calls)
	case p.TCB != nil:
		r.Kind = "tcb"
		g.checkTCB(&r, p.TCB)
	}
	return r
}

func (r *Result) fail(note string, hops []*Edge) {
	r.Holds = false
	r.Counterexamples = append(r.Counterexamples, Counterexample{Note: note, Hops: hops})
}

func (g *Graph) checkCalls(r *Result, c *scenario.Calls) {
	for _, e := range g.Edges {
		if e.Kind.String() != "request" || e.Src != c.From || e.Dst != c.To || e.Status == Never {
			continue
		}
		if !allowed(c.Allow, e.Endpoint, e.Method) {
			r.fail(fmt.Sprintf("%s may call %s on %s", c.From, e.Op(), c.To), []*Edge{e})
		}
	}
}

// checkAllowLists reports each pattern of a calls property's allow list
// that names no method the target serves: a typo there would otherwise
// read as a property that fails for the methods it meant to allow.
func (g *Graph) checkAllowLists(errs *diag.List) {
	for i := range g.Scenario.Properties {
		p := &g.Scenario.Properties[i]
		c := p.Calls
		if c == nil || g.tasks[c.To] == nil { // an unknown task: the scenario's own check says so
			continue
		}
		var served []string
		for _, ep := range g.tasks[c.To].Class.Endpoints {
			for _, m := range ep.Interface.Methods {
				served = append(served, ep.Name+"."+m.Name)
			}
		}
		for _, a := range c.Allow {
			if slices.ContainsFunc(served, func(m string) bool { return allowMatch(a, m) }) {
				continue
			}
			known := strings.Join(served, ", ")
			if len(served) > 8 {
				known = strings.Join(served[:8], ", ") + ", ..."
			}
			errs.Addf(c.KeyPos("allow"), "property %q: allow %q names no method %s serves (%s)", p.Name, a, c.To, known)
		}
	}
}

// allowed matches "endpoint.method" and "endpoint.*" patterns.
func allowed(allow []string, ep, method string) bool {
	return slices.ContainsFunc(allow, func(a string) bool { return allowMatch(a, ep+"."+method) })
}

// allowMatch matches one allow pattern against "endpoint.method".
func allowMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func (g *Graph) checkTCB(r *Result, t *scenario.TCB) {
	infl := g.Influencers(t.Asset)
	r.Network = g.tcbNetworkCaveat(t.Asset, infl)
	for _, name := range infl {
		if !slices.Contains(t.Expect, name) {
			r.fail(fmt.Sprintf("%s influences %s but is not in the expected TCB", name, t.Asset), g.Path(name, t.Asset, nil))
		}
	}
	for _, name := range t.Expect {
		if !slices.Contains(infl, name) {
			r.fail(fmt.Sprintf("%s is in the expected TCB but cannot influence %s", name, t.Asset), nil)
		}
	}
}

// dataEdges returns the edges that carry data out of each task, in graph
// order.
func (g *Graph) dataEdges() map[string][]*Edge {
	adj := map[string][]*Edge{}
	for _, e := range g.Edges {
		if e.Data() {
			adj[e.Src] = append(adj[e.Src], e)
		}
	}
	return adj
}

// Path returns a shortest chain of granted edges carrying data from one
// task to another without passing through any of avoid, or nil. A path
// from a task to itself is empty but not nil.
func (g *Graph) Path(from, to string, avoid []string) []*Edge {
	if from == to {
		return []*Edge{}
	}
	adj := g.dataEdges()
	prev := map[string]*Edge{from: nil}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range adj[cur] {
			if _, seen := prev[e.Dst]; seen || slices.Contains(avoid, e.Dst) {
				continue
			}
			prev[e.Dst] = e
			if e.Dst == to {
				return unwind(prev, to)
			}
			queue = append(queue, e.Dst)
		}
	}
	return nil
}

func unwind(prev map[string]*Edge, to string) []*Edge {
	var hops []*Edge
	for e := prev[to]; e != nil; e = prev[e.Src] {
		hops = append(hops, e)
	}
	slices.Reverse(hops)
	return hops
}

// Influencers returns the tasks that can carry data to asset, the asset
// included, in scenario order.
func (g *Graph) Influencers(asset string) []string {
	rev := map[string][]string{}
	for _, e := range g.Edges {
		if e.Data() {
			rev[e.Dst] = append(rev[e.Dst], e.Src)
		}
	}
	seen := map[string]bool{asset: true}
	queue := []string{asset}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range rev[cur] {
			if !seen[s] {
				seen[s] = true
				queue = append(queue, s)
			}
		}
	}
	var out []string
	for _, t := range g.Tasks {
		if seen[t.Name] {
			out = append(out, t.Name)
		}
	}
	return out
}
