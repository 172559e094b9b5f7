package idl

import (
	"fmt"
	"strings"

	"capsim/diag"
)

// typ resolves a type expression; nil means it failed and was reported.
func (c *checker) typ(at astType) *Type {
	if at.Bound == nil {
		return c.namedType(at.Name)
	}
	kind := genericKinds[at.Name.Name]
	bound, ok := eval(at.Bound, c.lookupConst, c.errs)
	if !ok {
		return nil
	}
	bpos := at.Bound.exprPos()
	if bound < 0 {
		c.errs.Addf(bpos, "bound %d of %s is negative", bound, at.Name.Name)
		return nil
	}
	t := &Type{Kind: kind, Bound: int(min(bound, int64(c.maxMsg)+1)), Pos: at.Name.Pos}
	if at.Elem != nil {
		if t.Elem = c.typ(*at.Elem); t.Elem == nil {
			return nil
		}
		if c.nestedTooDeep(t, at.Name.Pos, at.Name.Name) {
			return nil
		}
		if c.sizes.maxSize(t.Elem) == 0 {
			c.errs.Addf(at.Elem.Name.Pos, "element type %s of %s has an empty encoding", TypeString(t.Elem), at.Name.Name)
			return nil
		}
	}
	if n := c.sizes.maxSize(t); bound > int64(c.maxMsg) || n > c.maxMsg {
		what := fmt.Sprintf("%s<%d>", at.Name.Name, bound)
		if at.Elem != nil {
			what = fmt.Sprintf("%s<%s, %d>", at.Name.Name, TypeString(t.Elem), bound)
		}
		size := fmt.Sprint(n)
		if bound > int64(c.maxMsg) {
			size = fmt.Sprintf("at least %d", bound) // the exact size may not fit an int
		}
		c.errs.Addf(bpos, "%s can take %s bytes, more than the maximum message size (%d)", what, size, c.maxMsg)
		return nil
	}
	return t
}

// namedType resolves a built-in or declared type name.
func (c *checker) namedType(q qname) *Type {
	if k, ok := builtinKinds[q.Name]; ok {
		return &Type{Kind: k, Pos: q.Pos}
	}
	if _, ok := genericKinds[q.Name]; ok {
		c.errs.Addf(q.Pos, "%s needs its parameters: %s", q.Name, genericUsage[q.Name])
		return nil
	}
	pkg, name, ok := c.resolveQualified(q, "type")
	if !ok {
		return nil
	}
	if pkg != nil {
		if t, ok := pkg.Types[name]; ok {
			return t
		}
		c.errs.Addf(q.Pos, "undefined: type %s%s", q.Name, suggest(name, keysOf(pkg.Types)))
		return nil
	}
	d, ok := c.decls[name]
	if !ok {
		c.errs.Addf(q.Pos, "undefined: type %s%s", q.Name, suggest(name, append(c.localNames(), keysOf(builtinKinds)...)))
		return nil
	}
	if d.Kind == declConst {
		c.errs.Addf(q.Pos, "%s is a constant, not a type", q.Name)
		return nil
	}
	if c.state[name] == stateBusy {
		c.errs.Addf(q.Pos, "recursive type: %s refers to itself", name)
		return nil
	}
	c.resolveDecl(d)
	return c.pkg.Types[name]
}

// nestedTooDeep reports a type whose types contain types more than
// maxNesting levels deep, which the codec, the sizes and the generator
// would walk recursively.
func (c *checker) nestedTooDeep(t *Type, pos diag.Pos, what string) bool {
	if c.typeDepth(t) <= maxNesting {
		return false
	}
	c.errs.Addf(pos, "%s nests types more than %d levels deep", what, maxNesting)
	return true
}

// typeDepth is 0 for a type that holds no other (a scalar, bytes,
// string), else 1 + the depth of the deepest type it holds. Checked types
// are at most maxNesting deep, so the recursion is bounded.
func (c *checker) typeDepth(t *Type) int {
	if n, ok := c.depths[t]; ok {
		return n
	}
	if t.Elem == nil && t.Kind != Struct && t.Kind != Union {
		return 0
	}
	n := 0
	if t.Elem != nil {
		n = c.typeDepth(t.Elem)
	}
	for _, f := range t.Fields {
		n = max(n, c.typeDepth(f.Type))
	}
	c.depths[t] = n + 1
	return n + 1
}

var genericUsage = map[string]string{
	"bytes": "bytes<N>", "string": "string<N>", "array": "array<T, N>", "sequence": "sequence<T, N>",
}

// structDecl checks a struct or union declaration.
func (c *checker) structDecl(d *astDecl) {
	t := &Type{Kind: Struct, Name: c.pkg.Name + "." + d.Name, Pos: d.Pos}
	what := "field"
	if d.Kind == declUnion {
		t.Kind, what = Union, "variant"
		if len(d.Fields) == 0 {
			c.errs.Addf(d.Pos, "union %s has no variants", d.Name)
			return
		}
	}
	t.Fields = c.fieldList(d.Fields, what, d.Name)
	if t.Fields == nil && len(d.Fields) > 0 || c.nestedTooDeep(t, d.Pos, t.Kind.String()+" "+d.Name) {
		return
	}
	if n := c.sizes.maxSize(t); n > c.maxMsg {
		c.errs.Addf(d.Pos, "%s %s can take %d bytes, more than the maximum message size (%d)", t.Kind, d.Name, n, c.maxMsg)
		return
	}
	c.pkg.Types[d.Name] = t
}

// fieldList resolves fields, rejecting duplicate names. It returns nil when
// any field failed.
func (c *checker) fieldList(fs []astField, what, owner string) []*Field {
	seen := map[string]diag.Pos{}
	var out []*Field
	failed := false
	for _, af := range fs {
		if prev, ok := seen[af.Name]; ok {
			c.errs.Addf(af.Pos, "duplicate %s %s in %s (first at %s)", what, af.Name, owner, prev)
			failed = true
			continue
		}
		seen[af.Name] = af.Pos
		t := c.typ(af.Type)
		if t == nil {
			failed = true
			continue
		}
		out = append(out, &Field{Name: af.Name, Type: t, Pos: af.Pos})
	}
	if failed {
		return nil
	}
	if out == nil {
		out = []*Field{}
	}
	return out
}

var dirOrder = map[string]int{"in": 0, "out": 1, "error": 2}

// iface checks the interface: method names, parameter order and sizes.
func (c *checker) iface(ai *astInterface) *Interface {
	it := &Interface{Name: c.pkg.Name, Pos: ai.Pos}
	seen := map[string]diag.Pos{}
	for _, am := range ai.Methods {
		if prev, ok := seen[am.Name]; ok {
			c.errs.Addf(am.Pos, "duplicate method %s in interface %s (first at %s)", am.Name, it.Name, prev)
			continue
		}
		seen[am.Name] = am.Pos
		if m := c.method(am, it); m != nil {
			m.ID = len(it.Methods)
			it.Methods = append(it.Methods, m)
		}
	}
	if len(it.Methods) > 1<<16 {
		c.errs.Addf(ai.Pos, "interface %s has %d methods, more than 65536", it.Name, len(it.Methods))
	}
	return it
}

func (c *checker) method(am astMethod, it *Interface) *Method {
	var dirs [3][]astField
	last := 0
	ok := true
	for _, p := range am.Params {
		d := dirOrder[p.Dir]
		if d < last {
			c.errs.Addf(p.Pos, "%s parameter %s after %s parameters: parameters go in the order in, out, error",
				p.Dir, p.Name, []string{"in", "out", "error"}[last])
			ok = false
		}
		last = max(last, d)
		dirs[d] = append(dirs[d], p)
	}
	all := make([]astField, 0, len(am.Params))
	for _, d := range dirs {
		all = append(all, d...)
	}
	fields := c.fieldList(all, "parameter", am.Name)
	if !ok || fields == nil && len(all) > 0 {
		return nil
	}
	m := &Method{Name: am.Name, Pos: am.Pos, Interface: it}
	n0, n1 := len(dirs[0]), len(dirs[0])+len(dirs[1])
	m.In = &Type{Kind: Struct, Fields: fields[:n0:n0], Pos: am.Pos}
	m.Out = &Type{Kind: Struct, Fields: fields[n0:n1:n1], Pos: am.Pos}
	m.Err = &Type{Kind: Struct, Fields: fields[n1:], Pos: am.Pos}
	for _, dt := range []struct {
		t    *Type
		name string
	}{{m.In, "in"}, {m.Out, "out"}, {m.Err, "error"}} {
		if n := c.sizes.maxSize(dt.t); n > c.maxMsg {
			c.errs.Addf(am.Pos, "%s parameters of %s can take %d bytes, more than the maximum message size (%d)", dt.name, am.Name, n, c.maxMsg)
			return nil
		}
	}
	return m
}

// TypeString renders t as IDL source would name it.
func TypeString(t *Type) string {
	if t == nil {
		return "<nil>"
	}
	if t.Name != "" {
		return t.Name
	}
	switch t.Kind {
	case Bytes, String:
		return fmt.Sprintf("%s<%d>", kindNames[t.Kind], t.Bound)
	case Array, Sequence:
		return fmt.Sprintf("%s<%s, %d>", kindNames[t.Kind], TypeString(t.Elem), t.Bound)
	case Struct, Union:
		var b strings.Builder
		b.WriteString(kindNames[t.Kind] + " {")
		for _, f := range t.Fields {
			fmt.Fprintf(&b, " %s %s;", TypeString(f.Type), f.Name)
		}
		b.WriteString(" }")
		return b.String()
	}
	return t.Kind.String()
}

// suggest returns " (did you mean X?)" for the candidate closest to name,
// or "" when none is close.
func suggest(name string, candidates []string) string {
	// Up to two edits, or half the name's length for longer names
	// (EchoSrv → EchoServer), as diag.Closest.
	best, bestD := "", max(3, len(name)/2+1)
	for _, c := range candidates {
		d := diag.EditDistance(strings.ToLower(name), strings.ToLower(c))
		if strings.EqualFold(name, c) {
			d = 0
		}
		if d < bestD && c != name {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > len(name)/2 && bestD > 0 && !strings.EqualFold(name, best) {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// MethodString renders a method as IDL declares it:
// "Ping(in UInt32 value, out UInt32 result)".
func MethodString(m *Method) string {
	var params []string
	for _, d := range []struct {
		dir string
		t   *Type
	}{{"in", m.In}, {"out", m.Out}, {"error", m.Err}} {
		for _, f := range d.t.Fields {
			params = append(params, d.dir+" "+TypeString(f.Type)+" "+f.Name)
		}
	}
	return m.Name + "(" + strings.Join(params, ", ") + ")"
}
