package policy

import (
	"slices"
	"strings"

	"capsim/diag"
	"capsim/idl"
)

// cand is one (class, endpoint, method) an event of a binding may name.
type cand struct {
	cl *idl.Class
	ep *idl.Endpoint // nil for security events
	m  *idl.Method
}

// env is what the checker knows inside a binding or match section.
type env struct {
	kind  EventKind
	sel   Selectors // the selectors in force, outer and inner
	cands []cand
}

// msgTypes returns the message types of the candidates, without duplicates.
func (e *env) msgTypes() []*idl.Type {
	var out []*idl.Type
	for _, c := range e.cands {
		t := messageType(e.kind, c.m)
		if t != nil && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// messageType is the struct of parameters an event of kind carries.
func messageType(kind EventKind, m *idl.Method) *idl.Type {
	if m == nil {
		return nil
	}
	switch kind {
	case Request, Security:
		return m.In
	case Response:
		return m.Out
	case Error:
		return m.Err
	}
	return nil
}

// binding checks and compiles one top-level binding.
func (c *compiler) binding(b *Binding) {
	e := &env{kind: b.Kind, sel: b.Sel}
	if !c.candidates(e, b.Sel.List) {
		return
	}
	cb := &cbinding{b: b, order: len(c.p.compiled), cands: e.cands}
	cb.body = c.body(b.Body, e)
	c.p.Bindings = append(c.p.Bindings, b)
	c.p.compiled = append(c.p.compiled, cb)
}

func (c *compiler) body(stmts []Stmt, e *env) []cstmt {
	out := make([]cstmt, 0, len(stmts))
	for _, s := range stmts {
		if cs := c.stmt(s, e); cs != nil {
			out = append(out, cs)
		}
	}
	return out
}

func (c *compiler) stmt(s Stmt, e *env) cstmt {
	switch s := s.(type) {
	case *Match:
		inner := &env{kind: e.kind, sel: e.sel}
		inner.sel.List = slices.Clone(e.sel.List)
		for _, x := range s.Sel.List {
			if old, ok := e.sel.Get(x.Key); ok {
				if old.Value != x.Value {
					c.errs.Addf(x.Pos, "match can never apply: %s=%s, but the enclosing selectors say %s=%s", x.Key, x.Value, x.Key, old.Value)
					return nil
				}
				continue
			}
			inner.sel.List = append(inner.sel.List, x)
			setSelector(&inner.sel, x)
		}
		if !c.candidates(inner, s.Sel.List) {
			return nil
		}
		return &cmatch{sel: &s.Sel, body: c.body(s.Body, inner)}
	case *Choice:
		return c.choice(s, e)
	case *Rule:
		return c.rule(s, e)
	}
	return nil
}

func setSelector(s *Selectors, x Selector) {
	switch x.Key {
	case "src":
		s.Src = x.Value
	case "dst":
		s.Dst = x.Value
	case "interface":
		s.Interface = x.Value
	case "component":
		s.Component = x.Value
	case "endpoint":
		s.Endpoint = x.Value
	case "method":
		s.Method = x.Value
	}
}

// candidates validates the selectors in force against the schema and fills
// e.cands. check names the selectors to report errors on. It reports
// whether the selectors are valid.
func (c *compiler) candidates(e *env, check []Selector) bool {
	n := len(c.errs)
	reported := func(key string) (Selector, bool) {
		for _, s := range check {
			if s.Key == key {
				return s, true
			}
		}
		s, _ := e.sel.Get(key)
		return s, false
	}
	var server []*idl.Class
	serverKey := "dst"
	if e.kind == Response || e.kind == Error || e.kind == Security {
		serverKey = "src"
	}
	for _, key := range []string{"src", "dst"} {
		s, mine := reported(key)
		if s.Value == "" {
			continue
		}
		var cl *idl.Class
		if mine {
			cl = c.usedClass(s)
		} else {
			cl = c.p.Classes[s.Value]
		}
		if cl == nil {
			return false
		}
		if key == serverKey {
			server = []*idl.Class{cl}
		}
	}
	if server == nil {
		for _, name := range keys(c.known) {
			server = append(server, c.p.Classes[name])
		}
	}
	switch e.kind {
	case Execute:
		c.executeSelectors(e, check)
	case Security:
		c.securityCands(e, server, check)
	default:
		c.endpointCands(e, server, check)
	}
	return len(c.errs) == n
}

func (c *compiler) executeSelectors(e *env, check []Selector) {
	for _, s := range check {
		switch s.Key {
		case "endpoint", "component":
			c.errs.Addf(s.Pos, "execute events have no %s", s.Key)
		case "interface":
			if s.Value != "kl.core.Execute" {
				c.errs.Addf(s.Pos, "execute events have one interface, kl.core.Execute, not %s", s.Value)
			}
		case "method":
			if s.Value != "main" {
				c.errs.Addf(s.Pos, "execute events have one method, main (kl.core.Execute), not %s", s.Value)
			}
		}
	}
}

func (c *compiler) securityCands(e *env, server []*idl.Class, check []Selector) {
	for _, s := range check {
		if s.Key == "endpoint" || s.Key == "component" {
			c.errs.Addf(s.Pos, "security events have no %s", s.Key)
			return
		}
	}
	var names []string
	for _, cl := range server {
		if cl.Security == nil || e.sel.Interface != "" && cl.Security.Name != e.sel.Interface {
			continue
		}
		for _, m := range cl.Security.Methods {
			names = append(names, m.Name)
			if e.sel.Method == "" || m.Name == e.sel.Method {
				e.cands = append(e.cands, cand{cl: cl, m: m})
			}
		}
	}
	if len(e.cands) == 0 {
		pos := firstPos(check, "method", "interface", "src")
		switch {
		case e.sel.Method != "" && len(names) > 0:
			c.errs.Addf(pos, "no security method %s (%s)", e.sel.Method, suggest(e.sel.Method, names))
		case e.sel.Src != "" || e.sel.Interface != "":
			c.errs.Addf(pos, "no security interface matches (class %s)", e.sel.Src)
		}
	}
}

func (c *compiler) endpointCands(e *env, server []*idl.Class, check []Selector) {
	var eps []cand
	var epNames, ifNames []string
	for _, cl := range server {
		for _, ep := range cl.Endpoints {
			epNames = append(epNames, ep.Name)
			ifNames = append(ifNames, ep.Interface.Name)
			if e.sel.Endpoint != "" && ep.Name != e.sel.Endpoint ||
				e.sel.Component != "" && !strings.HasPrefix(ep.Name, e.sel.Component+".") ||
				e.sel.Interface != "" && ep.Interface.Name != e.sel.Interface {
				continue
			}
			eps = append(eps, cand{cl: cl, ep: ep})
		}
	}
	where := "any used class"
	if len(server) == 1 {
		where = "class " + server[0].Name
	}
	if len(eps) == 0 {
		for _, key := range []string{"endpoint", "interface", "component"} {
			if s, ok := e.sel.Get(key); ok {
				names := epNames
				switch key {
				case "interface":
					names = ifNames
				case "component": // the first part of component endpoints' names
					names = nil
					for _, n := range epNames {
						if comp, _, ok := strings.Cut(n, "."); ok && !slices.Contains(names, comp) {
							names = append(names, comp)
						}
					}
				}
				c.errs.Addf(pickPos(check, s), "no %s %s in %s (%s)", key, s.Value, where, suggest(s.Value, names))
				return
			}
		}
	}
	var mNames []string
	for _, x := range eps {
		for _, m := range x.ep.Interface.Methods {
			mNames = append(mNames, m.Name)
			if e.sel.Method == "" || m.Name == e.sel.Method {
				e.cands = append(e.cands, cand{cl: x.cl, ep: x.ep, m: m})
			}
		}
	}
	if len(e.cands) == 0 && e.sel.Method != "" {
		s, _ := e.sel.Get("method")
		c.errs.Addf(pickPos(check, s), "no method %s in %s (%s)", s.Value, where, suggest(s.Value, mNames))
	}
}

// pickPos returns s's position, or the first checked selector's when s is
// an outer selector.
func pickPos(check []Selector, s Selector) diag.Pos {
	for _, x := range check {
		if x.Key == s.Key {
			return x.Pos
		}
	}
	if len(check) > 0 {
		return check[0].Pos
	}
	return s.Pos
}

func firstPos(check []Selector, keys ...string) diag.Pos {
	for _, k := range keys {
		for _, s := range check {
			if s.Key == k {
				return s.Pos
			}
		}
	}
	if len(check) > 0 {
		return check[0].Pos
	}
	return diag.Pos{}
}
