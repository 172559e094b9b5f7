package policy

import (
	"unicode/utf8"

	"capsim/diag"
	"capsim/idl"
)

// Compiled PAL tests. Every sequence is compiled with its set's setup and
// finally, so that each sees the names bound before it.

type ctestSet struct {
	ts   *TestSet
	seqs []*cseq
}

type cseq struct {
	s       *Sequence
	setup   []*cstep
	steps   []*cstep
	finally []*cstep
}

// cstep is a compiled PAL case.
type cstep struct {
	st         *TestStep
	kind       EventKind
	src, dst   string // a bound name, or "" for the class in srcClass/dstClass
	srcClass   string
	dstClass   string
	ep         *idl.Endpoint
	iface      string
	m          *idl.Method
	msg        *idl.StructValue
	handles    []string // names whose SIDs fill the message's handle slots
	handleSIDs []SID    // literal SIDs, when handles[i] == ""
	malformed  string
}

// kernelSID is the kernel's SID in policy tests.
const kernelSID SID = 1

// Tests returns the main file's PAL test sets.
func (p *Policy) Tests() []*TestSet {
	out := make([]*TestSet, 0, len(p.tests))
	for _, t := range p.tests {
		out = append(out, t.ts)
	}
	return out
}

func (c *compiler) checkTests(f *File) {
	seen := map[string]bool{}
	for _, ts := range f.Asserts {
		if seen[ts.Name] {
			c.errs.Addf(ts.Pos, "test set %q declared twice", ts.Name)
		}
		seen[ts.Name] = true
		ct := &ctestSet{ts: ts}
		for _, s := range ts.Sequences {
			vars := map[string]string{}
			cs := &cseq{s: s}
			cs.setup = c.steps(ts.Setup, vars)
			cs.steps = c.steps(s.Steps, vars)
			cs.finally = c.steps(ts.Finally, vars)
			ct.seqs = append(ct.seqs, cs)
		}
		c.p.tests = append(c.p.tests, ct)
	}
	dedupe(&c.errs)
}

func dedupe(l *diag.List) {
	seen := map[string]bool{}
	out := (*l)[:0]
	for _, e := range *l {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	*l = out
}

func (c *compiler) steps(steps []*TestStep, vars map[string]string) []*cstep {
	var out []*cstep
	for _, st := range steps {
		if cs := c.step(st, vars); cs != nil {
			out = append(out, cs)
		}
	}
	return out
}

// party resolves a case's src or dst: a bound name or kl.core.Core.
func (c *compiler) party(s Selector, vars map[string]string) (name, class string, ok bool) {
	if cl, bound := vars[s.Value]; bound {
		return s.Value, cl, true
	}
	if s.Value == coreClass {
		if _, err := c.class(coreClass, s.Pos); err != nil {
			return "", "", false
		}
		return "", coreClass, true
	}
	c.errs.Addf(s.Pos, "%s is not bound (bind it with `%s <- execute dst=CLASS`) and is not kl.core.Core", s.Value, s.Value)
	return "", "", false
}

func (c *compiler) step(st *TestStep, vars map[string]string) *cstep {
	cs := &cstep{st: st, kind: st.Kind, srcClass: coreClass}
	for _, s := range st.Sel.List {
		if st.Kind == Execute && s.Key != "src" && s.Key != "dst" {
			c.errs.Addf(s.Pos, "an execute case takes only src= and dst=")
			return nil
		}
	}
	if st.Kind == Execute {
		return c.executeStep(st, cs, vars)
	}
	n := len(c.errs)
	for _, key := range []string{"src", "dst"} {
		s, ok := st.Sel.Get(key)
		if !ok && st.Kind == Security && key == "dst" {
			s, ok = Selector{Key: "dst", Value: coreClass, Pos: st.Pos}, true
		}
		if !ok {
			c.errs.Addf(st.Pos, "a %s case needs %s=", st.Kind, key)
			return nil
		}
		name, class, ok := c.party(s, vars)
		if !ok {
			return nil
		}
		if key == "src" {
			cs.src, cs.srcClass = name, class
		} else {
			cs.dst, cs.dstClass = name, class
		}
	}
	if len(c.errs) > n || !c.resolveMethod(st, cs) {
		return nil
	}
	t := messageType(cs.kind, cs.m)
	cs.msg = &idl.StructValue{Type: t, Fields: make([]any, len(t.Fields))}
	msg := st.Message
	if msg == nil {
		msg = &Lit{Kind: LitRecord, Pos: st.Pos}
	}
	v, ok := c.palValue(t, msg, cs)
	if !ok {
		return nil
	}
	cs.msg = v.(*idl.StructValue)
	return cs
}

func (c *compiler) executeStep(st *TestStep, cs *cstep, vars map[string]string) *cstep {
	d, ok := st.Sel.Get("dst")
	if !ok {
		c.errs.Addf(st.Pos, "execute needs dst=CLASS")
		return nil
	}
	if _, err := c.class(d.Value, d.Pos); err != nil {
		return nil
	}
	cs.dstClass = d.Value
	if s, ok := st.Sel.Get("src"); ok {
		name, class, ok := c.party(s, vars)
		if !ok {
			return nil
		}
		cs.src, cs.srcClass = name, class
	}
	if st.Message != nil {
		c.errs.Addf(st.Message.Pos, "execute events have no message")
		return nil
	}
	if st.Bind != "" {
		vars[st.Bind] = d.Value
	}
	return cs
}

// resolveMethod finds the endpoint and method a case names.
func (c *compiler) resolveMethod(st *TestStep, cs *cstep) bool {
	server := c.p.Classes[cs.dstClass]
	if cs.kind == Response || cs.kind == Error || cs.kind == Security {
		server = c.p.Classes[cs.srcClass]
	}
	ms, ok := st.Sel.Get("method")
	if !ok {
		c.errs.Addf(st.Pos, "a %s case needs method=", cs.kind)
		return false
	}
	if cs.kind == Security {
		if server.Security == nil {
			c.errs.Addf(ms.Pos, "class %s has no security interface", server.Name)
			return false
		}
		cs.iface = server.Security.Name
		return c.findMethod(server.Security, ms, cs)
	}
	es, ok := st.Sel.Get("endpoint")
	if !ok {
		c.errs.Addf(st.Pos, "a %s case needs endpoint=", cs.kind)
		return false
	}
	var names []string
	for _, ep := range server.Endpoints {
		names = append(names, ep.Name)
		if ep.Name == es.Value {
			cs.ep, cs.iface = ep, ep.Interface.Name
		}
	}
	if cs.ep == nil {
		c.errs.Addf(es.Pos, "no endpoint %s in class %s (%s)", es.Value, server.Name, suggest(es.Value, names))
		return false
	}
	return c.findMethod(cs.ep.Interface, ms, cs)
}

func (c *compiler) findMethod(iface *idl.Interface, ms Selector, cs *cstep) bool {
	var names []string
	for _, m := range iface.Methods {
		names = append(names, m.Name)
		if m.Name == ms.Value {
			cs.m = m
			return true
		}
	}
	c.errs.Addf(ms.Pos, "no method %s in interface %s (%s)", ms.Value, iface.Name, suggest(ms.Value, names))
	return false
}

// palValue builds a message value of type t from a literal. Type errors
// are reported (the test file is wrong); values that break a bound make
// the case's message malformed.
func (c *compiler) palValue(t *idl.Type, l *Lit, cs *cstep) (any, bool) {
	malformed := func(format string, args ...any) {
		if cs.malformed == "" {
			cs.malformed = diag.Errorf(l.Pos, format, args...).Error()
		}
	}
	k := kindOf(t)
	switch {
	case t.Kind == idl.Struct:
		return c.palStruct(t, l, cs)
	case t.Kind == idl.Union:
		return c.palUnion(t, l, cs)
	case k == vInt && l.Kind == LitInt:
		return intValue(t, l.Int, malformed), true
	case k == vBool && l.Kind == LitBool:
		return l.Bool, true
	case k == vSID && (l.Kind == LitIdent || l.Kind == LitInt):
		cs.handles = append(cs.handles, l.Str)
		cs.handleSIDs = append(cs.handleSIDs, SID(l.Int))
		return idl.HandleSlot(len(cs.handles) - 1), true
	case (k == vText || k == vBytes) && l.Kind == LitString:
		if len(l.Str) > t.Bound {
			malformed("%d bytes exceed the bound %d", len(l.Str), t.Bound)
		}
		if k == vBytes {
			return []byte(l.Str), true
		}
		if !utf8.ValidString(l.Str) {
			malformed("string is not valid UTF-8")
		}
		return l.Str, true
	case (t.Kind == idl.Array || t.Kind == idl.Sequence) && l.Kind == LitList:
		return c.palList(t, l, cs, malformed)
	}
	c.errs.Addf(l.Pos, "expected a value of type %s", typeString(t))
	return nil, false
}

func intValue(t *idl.Type, n int64, malformed func(string, ...any)) any {
	bits := map[idl.Kind]uint{idl.UInt8: 8, idl.UInt16: 16, idl.UInt32: 32, idl.UInt64: 64,
		idl.SInt8: 8, idl.SInt16: 16, idl.SInt32: 32, idl.SInt64: 64}[t.Kind]
	if t.Kind <= idl.UInt64 {
		if n < 0 || bits < 64 && uint64(n) >= 1<<bits {
			malformed("%d does not fit %s", n, typeString(t))
		}
		return uint64(n)
	}
	if bits < 64 && (n < -(1<<(bits-1)) || n >= 1<<(bits-1)) {
		malformed("%d does not fit %s", n, typeString(t))
	}
	return n
}

func (c *compiler) palList(t *idl.Type, l *Lit, cs *cstep, malformed func(string, ...any)) (any, bool) {
	if len(l.List) > t.Bound || t.Kind == idl.Array && len(l.List) != t.Bound {
		malformed("%d elements where %s takes %d", len(l.List), typeString(t), t.Bound)
	}
	out := make([]any, 0, len(l.List))
	for _, el := range l.List {
		v, ok := c.palValue(t.Elem, el, cs)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func (c *compiler) palStruct(t *idl.Type, l *Lit, cs *cstep) (any, bool) {
	if l.Kind != LitRecord {
		c.errs.Addf(l.Pos, "expected { field : value, ... } for %s", typeString(t))
		return nil, false
	}
	sv := &idl.StructValue{Type: t, Fields: make([]any, len(t.Fields))}
	var names []string
	for i, f := range t.Fields {
		names = append(names, f.Name)
		sv.Fields[i] = zeroValue(f.Type)
	}
	ok := true
	for _, lf := range l.Fields {
		i := fieldIndex(t, lf.Key)
		if i < 0 {
			c.errs.Addf(lf.Pos, "no field %s in %s (%s)", lf.Key, typeString(t), suggest(lf.Key, names))
			ok = false
			continue
		}
		v, vok := c.palValue(t.Fields[i].Type, lf.Value, cs)
		ok = ok && vok
		sv.Fields[i] = v
	}
	return sv, ok
}

func (c *compiler) palUnion(t *idl.Type, l *Lit, cs *cstep) (any, bool) {
	if l.Kind != LitRecord || len(l.Fields) != 1 {
		c.errs.Addf(l.Pos, "expected { variant : value } for union %s", typeString(t))
		return nil, false
	}
	lf := l.Fields[0]
	i := fieldIndex(t, lf.Key)
	if i < 0 {
		var names []string
		for _, f := range t.Fields {
			names = append(names, f.Name)
		}
		c.errs.Addf(lf.Pos, "no variant %s in union %s (%s)", lf.Key, typeString(t), suggest(lf.Key, names))
		return nil, false
	}
	v, ok := c.palValue(t.Fields[i].Type, lf.Value, cs)
	return &idl.UnionValue{Type: t, Tag: i, Value: v}, ok
}

func fieldIndex(t *idl.Type, name string) int {
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// zeroValue is the zero value of a type in the decoded representation.
func zeroValue(t *idl.Type) any {
	switch t.Kind {
	case idl.UInt8, idl.UInt16, idl.UInt32, idl.UInt64:
		return uint64(0)
	case idl.SInt8, idl.SInt16, idl.SInt32, idl.SInt64:
		return int64(0)
	case idl.Bool:
		return false
	case idl.Handle:
		return idl.HandleSlot(0)
	case idl.Bytes:
		return []byte{}
	case idl.String:
		return ""
	case idl.Array:
		out := make([]any, t.Bound)
		for i := range out {
			out[i] = zeroValue(t.Elem)
		}
		return out
	case idl.Sequence:
		return []any{}
	case idl.Struct:
		sv := &idl.StructValue{Type: t, Fields: make([]any, len(t.Fields))}
		for i, f := range t.Fields {
			sv.Fields[i] = zeroValue(f.Type)
		}
		return sv
	case idl.Union:
		if len(t.Fields) == 0 {
			return nil
		}
		return &idl.UnionValue{Type: t, Tag: 0, Value: zeroValue(t.Fields[0].Type)}
	}
	return nil
}

func typeString(t *idl.Type) string {
	if t.Name != "" {
		return t.Name
	}
	if t.Kind == idl.Struct {
		return "the message"
	}
	names := map[idl.Kind]string{idl.UInt8: "UInt8", idl.UInt16: "UInt16", idl.UInt32: "UInt32", idl.UInt64: "UInt64",
		idl.SInt8: "SInt8", idl.SInt16: "SInt16", idl.SInt32: "SInt32", idl.SInt64: "SInt64", idl.Bool: "Bool",
		idl.Handle: "Handle", idl.Bytes: "bytes", idl.String: "string", idl.Array: "array", idl.Sequence: "sequence",
		idl.Struct: "struct", idl.Union: "union"}
	return names[t.Kind]
}
