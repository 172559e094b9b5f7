package verify

import (
	"slices"

	"capsim/diag"
	"capsim/idl"
	"capsim/policy"
)

// analyzer decides edges statically from a compiled policy. Decisions
// depend on classes, endpoint and method only, so they are memoized per
// such key; tasks of one class share them.
type analyzer struct {
	p     *policy.Policy
	flows map[string]*flowAbs
	memo  map[classKey]verdict
}

// classKey names an event up to its message and model state.
type classKey struct {
	kind               policy.EventKind
	src, dst, ep, meth string
}

// verdict is what the policy says of one classKey.
type verdict struct {
	status Status
	grants []diag.Pos // the bindings that can grant it
}

// flowAbs is what can be known statically of a Flow object: the states a
// SID can be in.
type flowAbs struct {
	info      policy.FlowInfo
	reachable []bool
}

func newAnalyzer(p *policy.Policy) *analyzer {
	a := &analyzer{p: p, flows: map[string]*flowAbs{}, memo: map[classKey]verdict{}}
	for _, o := range p.Objects() {
		if fi, ok := p.Flow(o.Name); ok {
			a.flows[o.Name] = newFlowAbs(fi, enterTargets(p, o.Name, len(fi.States), fi.States))
		}
	}
	return a
}

// enterTargets returns the states some `NAME.enter` rule of the policy can
// enter (every state when one names its state by an expression).
func enterTargets(p *policy.Policy, name string, n int, states []string) []bool {
	out := make([]bool, n)
	var walk func([]policy.Stmt)
	walk = func(body []policy.Stmt) {
		for _, s := range body {
			switch s := s.(type) {
			case *policy.Match:
				walk(s.Body)
			case *policy.Choice:
				for _, alt := range s.Alts {
					walk(alt.Body)
				}
			case *policy.Rule:
				if s.Object != name || s.Method != "enter" {
					continue
				}
				lit, ok := argValue(s.Args, "state").(*policy.StrLit)
				if !ok {
					for i := range out {
						out[i] = true
					}
					continue
				}
				if i := slices.Index(states, lit.Val); i >= 0 {
					out[i] = true
				}
			}
		}
	}
	for _, b := range p.Bindings {
		walk(b.Body)
	}
	return out
}

// newFlowAbs computes the states reachable from the initial one through
// transitions of the table into states some rule can enter.
func newFlowAbs(fi policy.FlowInfo, targets []bool) *flowAbs {
	f := &flowAbs{info: fi, reachable: make([]bool, len(fi.States))}
	if fi.Initial < 0 || fi.Initial >= len(fi.States) {
		return f
	}
	f.reachable[fi.Initial] = true
	work := []int{fi.Initial}
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		for t, ok := range fi.Trans[s] {
			if ok && targets[t] && !f.reachable[t] {
				f.reachable[t] = true
				work = append(work, t)
			}
		}
	}
	return f
}

func argValue(args []*policy.Arg, name string) policy.Expr {
	for _, a := range args {
		if a.Name == name {
			return a.Value
		}
	}
	return nil
}

// decide returns the verdict for an event of kind on endpoint ep, method m
// of the server class, between the classes src and dst.
func (a *analyzer) decide(kind policy.EventKind, src, dst string, ep *idl.Endpoint, m *idl.Method) verdict {
	k := classKey{kind: kind, src: src, dst: dst}
	ev := &policy.Event{Kind: kind, Src: policy.Subject{Class: src}, Dst: policy.Subject{Class: dst}, Method: m}
	if ep != nil {
		k.ep, ev.Endpoint, ev.Interface = ep.Name, ep.Name, ep.Interface.Name
	}
	if m != nil {
		k.meth = m.Name
	}
	if v, ok := a.memo[k]; ok {
		return v
	}
	ctx := &evalCtx{a: a, ev: ev, x: exprAnalyzer{msg: messageType(kind, m)}}
	total := oNone
	var grants []diag.Pos
	for _, b := range a.p.BindingsFor(ev) {
		o := ctx.stmts(b.Body)
		if o&oGrant != 0 {
			grants = append(grants, b.Pos)
		}
		total = seq(total, o)
	}
	v := verdict{status: total.status()}
	if v.status != Never {
		v.grants = grants
	}
	a.memo[k] = v
	return v
}

func messageType(kind policy.EventKind, m *idl.Method) *idl.Type {
	if m == nil {
		return nil
	}
	switch kind {
	case policy.Request, policy.Security:
		return m.In
	case policy.Response:
		return m.Out
	case policy.Error:
		return m.Err
	}
	return nil
}

// evalCtx analyses the statements of the bindings of one event.
type evalCtx struct {
	a  *analyzer
	ev *policy.Event
	x  exprAnalyzer
}

func (c *evalCtx) stmts(body []policy.Stmt) outcome {
	o := oNone
	for _, s := range body {
		o = seq(o, c.stmt(s))
		if o == oDeny {
			break // nothing after can grant the event any more
		}
	}
	return o
}

func (c *evalCtx) stmt(s policy.Stmt) outcome {
	switch s := s.(type) {
	case *policy.Match:
		if policy.SelectorsMatch(&s.Sel, c.ev) {
			return c.stmts(s.Body)
		}
		return oNone
	case *policy.Choice:
		return c.choice(s)
	case *policy.Rule:
		return c.rule(s)
	}
	return oEither
}

func (c *evalCtx) rule(r *policy.Rule) outcome {
	if r.Object == "base" {
		switch r.Method {
		case "grant":
			return oGrant
		case "deny":
			return oDeny
		case "assert":
			if len(r.Args) != 1 {
				return oEither
			}
			t, f := c.x.truth(r.Args[0].Value)
			o := outcome(0)
			if t {
				o |= oGrant
			}
			if f {
				o |= oDeny
			}
			return o
		}
		return oEither
	}
	fl, ok := c.a.flows[r.Object]
	if !ok {
		return oEither // HashSet, StaticMap: state decides
	}
	switch r.Method {
	case "enter":
		lit, ok := argValue(r.Args, "state").(*policy.StrLit)
		if !ok {
			return oEither
		}
		to := slices.Index(fl.info.States, lit.Val)
		for from, reach := range fl.reachable {
			if reach && to >= 0 && fl.info.Trans[from][to] {
				return oEither
			}
		}
		return oDeny
	case "allow":
		l, ok := argValue(r.Args, "states").(*policy.ListExpr)
		if !ok {
			return oEither
		}
		for _, el := range l.Elems {
			if s, ok := el.(*policy.StrLit); ok && fl.can(s.Val) {
				return oEither
			}
		}
		return oDeny
	}
	return oEither
}

// can reports whether some SID can be in the state.
func (f *flowAbs) can(state string) bool {
	i := slices.Index(f.info.States, state)
	return i >= 0 && f.reachable[i]
}

// choice: the alternatives that can be taken, and an error (which denies)
// or no alternative at all where that can happen.
func (c *evalCtx) choice(ch *policy.Choice) outcome {
	var def *policy.Alt
	for _, alt := range ch.Alts {
		if alt.Default {
			def = alt
		}
	}
	call, _ := ch.Expr.(*policy.CallExpr)
	var fl *flowAbs
	if call != nil && call.Method == "query" {
		fl = c.a.flows[call.Object]
	}
	var o outcome
	if fl == nil {
		// Any alternative, the default or none, and maybe an error.
		for _, alt := range ch.Alts {
			o |= c.stmts(alt.Body)
		}
		if def == nil {
			o |= oNone
		}
		if c.x.mayErr(ch.Expr) || call != nil {
			o |= oDeny
		}
		return o
	}
	o = oDeny // the SID may not be associated with the object
	covered := make([]bool, len(fl.info.States))
	for _, alt := range ch.Alts {
		if alt.Default {
			continue
		}
		if i := slices.Index(fl.info.States, alt.Value); i >= 0 && !covered[i] {
			covered[i] = true
			if fl.reachable[i] {
				o |= c.stmts(alt.Body)
			}
		}
	}
	for i, reach := range fl.reachable {
		if reach && !covered[i] {
			if def != nil {
				o |= c.stmts(def.Body)
			} else {
				o |= oNone
			}
			break
		}
	}
	return o
}
