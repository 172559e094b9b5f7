package policy

import (
	"strings"

	"capsim/diag"
	"capsim/idl"
)

// Policy is a compiled policy. Decide, Audited and Explain are safe for
// concurrent use; finding an event's bindings takes no lock, and model
// state is locked per model object.
type Policy struct {
	// Files are the parsed files: the main file first, then every `use`d file.
	Files []*File
	// Bindings are the top-level bindings in evaluation order (a used
	// file's bindings at its use line).
	Bindings []*Binding
	// Classes are the entity classes the policy uses, by name.
	Classes map[string]*idl.Class

	objects      map[string]*object
	objectOrder  []*object
	compiled     []*cbinding
	index        map[indexKey][]int32
	cache        *bindCache
	auditProfile map[string]*AuditProfile
	auditDefault *AuditDefault
	auditLevel   map[string]auditKSS // object → kss of the default level
	tests        []*ctestSet
	snapshot     []any
}

func newPolicy() *Policy {
	return &Policy{
		Classes:      map[string]*idl.Class{},
		objects:      map[string]*object{},
		index:        map[indexKey][]int32{},
		auditProfile: map[string]*AuditProfile{},
	}
}

// cbinding is a compiled binding.
type cbinding struct {
	b     *Binding
	order int
	body  []cstmt
	cands []cand
}

// Target is one (server class, endpoint, method) an event of a binding
// may name.
type Target struct {
	Class    *idl.Class
	Endpoint *idl.Endpoint // nil for security events
	Method   *idl.Method
}

// Targets returns what the i-th binding's top-level selectors admit, from
// the schema: for request, response and error events the server's class,
// endpoint and method; for security events the class and its security
// method; nothing for execute events. Static tools (capsim verify) read it.
func (p *Policy) Targets(i int) []Target {
	cb := p.compiled[i]
	out := make([]Target, 0, len(cb.cands))
	for _, c := range cb.cands {
		out = append(out, Target{Class: c.cl, Endpoint: c.ep, Method: c.m})
	}
	return out
}

// frame is the evaluation state of one decision. Its buffers hold the
// results of a typical decision, so that deciding allocates once.
type frame struct {
	ev       *Event
	rules    []RuleResult
	bindings []diag.Pos
	rbuf     [2]RuleResult
	bbuf     [1]diag.Pos
	denied   int // rules that denied so far, so that a choice knows whether its branch did
}

// cstmt is a compiled statement.
type cstmt interface{ run(f *frame) }

type exprFn func(f *frame) (value, error)

// crule is a compiled rule.
type crule struct {
	r  *Rule
	fn func(f *frame) (bool, error)
	// explain records, when the rule denies, the state it depended on.
	explain []explainFn
}

func (r *crule) run(f *frame) {
	ok, err := r.fn(f)
	res := RuleResult{Pos: r.r.Pos, Text: r.r.Text, Object: r.r.Object, Grant: ok && err == nil}
	if !res.Grant {
		f.denied++
		if err != nil {
			res.Err = err.Error()
		}
		if r.explain != nil {
			r.explainDenied(f, &res)
		}
	}
	f.rules = append(f.rules, res)
}

// cmatch is a compiled nested match section.
type cmatch struct {
	sel  *Selectors
	body []cstmt
}

func (m *cmatch) run(f *frame) {
	if selMatches(m.sel, f.ev) {
		for _, s := range m.body {
			s.run(f)
		}
	}
}

// selMatches reports whether an event matches selectors.
func selMatches(s *Selectors, ev *Event) bool {
	return (s.Src == "" || s.Src == ev.Src.Class) &&
		(s.Dst == "" || s.Dst == ev.Dst.Class) &&
		(s.Endpoint == "" || s.Endpoint == ev.Endpoint) &&
		(s.Method == "" || s.Method == methodName(ev)) &&
		(s.Interface == "" || s.Interface == eventInterface(ev)) &&
		(s.Component == "" || strings.HasPrefix(ev.Endpoint, s.Component+"."))
}

func methodName(ev *Event) string {
	if ev.Method == nil {
		if ev.Kind == Execute {
			return "main"
		}
		return ""
	}
	return ev.Method.Name
}

func eventInterface(ev *Event) string {
	if ev.Interface == "" && ev.Method != nil && ev.Method.Interface != nil {
		return ev.Method.Interface.Name
	}
	if ev.Interface == "" && ev.Kind == Execute {
		return "kl.core.Execute"
	}
	return ev.Interface
}

// Decide decides an event: every binding whose selectors match applies, in
// source order; the event is granted only if at least one rule was called
// and every called rule granted.
func (p *Policy) Decide(ev *Event) Decision {
	if reason := invalidMessage(ev); reason != "" {
		return Decision{Reason: "invalid message: " + reason}
	}
	f := &frame{ev: ev}
	f.rules, f.bindings = f.rbuf[:0], f.bbuf[:0]
	for _, b := range p.lookup(ev) {
		n := len(f.rules)
		for _, s := range b.body {
			s.run(f)
		}
		if len(f.rules) > n {
			f.bindings = append(f.bindings, b.b.Pos)
		}
	}
	d := Decision{Rules: f.rules, Bindings: f.bindings}
	if len(f.rules) == 0 {
		d.Reason = "no rule"
		return d
	}
	d.Grant = true
	for _, r := range f.rules {
		if !r.Grant {
			d.Grant = false
			d.Reason = "denied by " + r.Pos.String()
			break
		}
	}
	return d
}

// invalidMessage checks that the message fits the event's method; the
// kernel has validated its contents against the IDL already.
func invalidMessage(ev *Event) string {
	switch ev.Kind {
	case Execute:
		return ""
	case Request, Response, Error, Security:
	default:
		return "unknown event kind"
	}
	if ev.Method == nil {
		return "no method"
	}
	want := messageType(ev.Kind, ev.Method)
	if ev.Message == nil {
		if want != nil && len(want.Fields) > 0 {
			return "no parameters for " + ev.Method.Name
		}
		return ""
	}
	if want == nil || ev.Message.Type == nil || len(ev.Message.Fields) != len(want.Fields) ||
		len(ev.Message.Type.Fields) != len(want.Fields) {
		return "parameters do not match " + ev.Method.Name
	}
	return ""
}
