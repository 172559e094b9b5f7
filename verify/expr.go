package verify

import (
	"math"
	"slices"

	"capsim/idl"
	"capsim/policy"
)

// The analysis of assert expressions: which truth values an expression can
// take over every message of one method. Comparisons of a message field
// (or the size of one) with a constant narrow that field's interval or
// string value; && and || combine the narrowed environments, so that
// `message.n > 5 && message.n < 3` is found unsatisfiable. Whatever the
// analysis does not model can be true and false.

// maxEnvs bounds the environments one expression may split into; past it
// the analysis forgets the refinements (which is still sound).
const maxEnvs = 64

// constraint is what is known of one field: an integer interval, and for
// text an exact value or values it cannot be.
type constraint struct {
	lo, hi int64
	eq     *string
	ne     []string
	bound  int // text: the longest value; -1 when unknown
}

// env maps a field path ("message.a.b", "size(message.s)") to what is
// known of it. Envs are copied on write.
type env map[string]constraint

func (e env) with(path string, c constraint) env {
	out := make(env, len(e)+1)
	for k, v := range e {
		out[k] = v
	}
	out[path] = c
	return out
}

// exprAnalyzer knows the message type of the event being analysed.
type exprAnalyzer struct {
	msg *idl.Type // the struct of parameters, or nil
}

// truth returns whether e can be true and whether it can be false (or
// fail, which denies as false does).
func (a *exprAnalyzer) truth(e policy.Expr) (canTrue, canFalse bool) {
	canTrue = len(a.sat(e, true, []env{{}})) > 0
	canFalse = len(a.sat(e, false, []env{{}})) > 0 || a.mayErr(e)
	return canTrue, canFalse
}

// sat returns the refinements of envs in which e evaluates to want.
func (a *exprAnalyzer) sat(e policy.Expr, want bool, envs []env) []env {
	if len(envs) == 0 || a.missing(e) {
		return nil
	}
	switch x := e.(type) {
	case *policy.BoolLit:
		if x.Val == want {
			return envs
		}
		return nil
	case *policy.UnaryExpr:
		if x.Op == "!" {
			return a.sat(x.X, !want, envs)
		}
	case *policy.BinaryExpr:
		return a.binary(x, want, envs)
	case *policy.FieldExpr, *policy.Name:
		if f, ok := a.path(e); ok && f.t.Kind == idl.Bool {
			v := int64(0)
			if want {
				v = 1
			}
			return refineAll(envs, f, "==", intConst(v))
		}
	}
	return envs
}

func (a *exprAnalyzer) binary(x *policy.BinaryExpr, want bool, envs []env) []env {
	switch x.Op {
	case "&&", "||":
		if (x.Op == "&&") == want { // both sides must take want
			var out []env
			for _, e := range a.sat(x.X, want, envs) {
				out = append(out, a.sat(x.Y, want, []env{e})...)
			}
			return capEnvs(out, envs)
		}
		return capEnvs(append(a.sat(x.X, want, envs), a.sat(x.Y, want, envs)...), envs)
	case "==>":
		// a ==> b is !a || b.
		if want {
			return capEnvs(append(a.sat(x.X, false, envs), a.sat(x.Y, true, envs)...), envs)
		}
		var out []env
		for _, e := range a.sat(x.X, true, envs) {
			out = append(out, a.sat(x.Y, false, []env{e})...)
		}
		return capEnvs(out, envs)
	case "==", "!=", "<", "<=", ">", ">=":
		op := x.Op
		if !want {
			op = negate[op]
		}
		return a.compare(x.X, op, x.Y, envs)
	}
	return envs
}

var negate = map[string]string{"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
var flip = map[string]string{"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

// compare narrows envs to those where `l op r` holds.
func (a *exprAnalyzer) compare(l policy.Expr, op string, r policy.Expr, envs []env) []env {
	lc, lconst := constOf(l)
	rc, rconst := constOf(r)
	switch {
	case lconst && rconst:
		if v, ok := evalConst(lc, op, rc); ok && !v {
			return nil
		}
		return envs
	case rconst:
		if f, ok := a.path(l); ok {
			return refineAll(envs, f, op, rc)
		}
	case lconst:
		if f, ok := a.path(r); ok {
			return refineAll(envs, f, flip[op], lc)
		}
	}
	return envs
}

// cval is a constant: an integer (booleans as 0 and 1) or a string.
type cval struct {
	isStr bool
	i     int64
	s     string
}

func intConst(v int64) cval { return cval{i: v} }

func constOf(e policy.Expr) (cval, bool) {
	switch x := e.(type) {
	case *policy.IntLit:
		return cval{i: x.Val}, true
	case *policy.BoolLit:
		if x.Val {
			return cval{i: 1}, true
		}
		return cval{}, true
	case *policy.StrLit:
		return cval{isStr: true, s: x.Val}, true
	case *policy.UnaryExpr:
		if c, ok := constOf(x.X); ok && x.Op == "-" && !c.isStr && c.i != math.MinInt64 {
			return cval{i: -c.i}, true
		}
	}
	return cval{}, false
}

func evalConst(l cval, op string, r cval) (bool, bool) {
	if l.isStr != r.isStr {
		return false, false
	}
	c := 0
	if l.isStr {
		c = cmpOrder(l.s < r.s, l.s > r.s)
	} else {
		c = cmpOrder(l.i < r.i, l.i > r.i)
	}
	switch op {
	case "==":
		return c == 0, true
	case "!=":
		return c != 0, true
	case "<":
		return c < 0, true
	case "<=":
		return c <= 0, true
	case ">":
		return c > 0, true
	case ">=":
		return c >= 0, true
	}
	return false, false
}

func cmpOrder(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

func capEnvs(out, in []env) []env {
	if len(out) > maxEnvs {
		return in
	}
	return out
}

func refineAll(envs []env, f field, op string, c cval) []env {
	var out []env
	for _, e := range envs {
		if r, ok := refine(e, f, op, c); ok {
			out = append(out, r)
		}
	}
	return out
}

// refine narrows e so that `path op c` holds; false when it cannot.
func refine(e env, f field, op string, c cval) (env, bool) {
	path, t := f.path, f.t
	cur, ok := e[path]
	if !ok {
		cur = f.init
	}
	if c.isStr {
		if t.Kind != idl.String && t.Kind != idl.Bytes {
			return e, true
		}
		return refineText(e, path, cur, op, c.s)
	}
	if !isInteger(t) || t.Kind == idl.UInt64 {
		// A UInt64 can exceed the int64 range the intervals use (the
		// policy compares it exactly): it is never narrowed, so no test
		// on it is taken for impossible.
		return e, true
	}
	lo, hi := cur.lo, cur.hi
	v := c.i
	switch op {
	case "==":
		lo, hi = max(lo, v), min(hi, v)
	case "!=":
		switch {
		case lo == v && hi == v:
			return nil, false
		case lo == v:
			lo++
		case hi == v:
			hi--
		}
	case "<":
		if v == math.MinInt64 {
			return nil, false
		}
		hi = min(hi, v-1)
	case "<=":
		hi = min(hi, v)
	case ">":
		if v == math.MaxInt64 {
			return nil, false
		}
		lo = max(lo, v+1)
	case ">=":
		lo = max(lo, v)
	}
	if lo > hi {
		return nil, false
	}
	cur.lo, cur.hi = lo, hi
	return e.with(path, cur), true
}

func refineText(e env, path string, cur constraint, op, s string) (env, bool) {
	switch op {
	case "==":
		if cur.eq != nil && *cur.eq != s || slices.Contains(cur.ne, s) || cur.bound >= 0 && len(s) > cur.bound {
			return nil, false
		}
		cur.eq = &s
	case "!=":
		if cur.eq != nil && *cur.eq == s {
			return nil, false
		}
		cur.ne = append(slices.Clip(cur.ne), s)
	default: // orderings of text are not modelled
		return e, true
	}
	return e.with(path, cur), true
}

func isInteger(t *idl.Type) bool {
	switch t.Kind {
	case idl.UInt8, idl.UInt16, idl.UInt32, idl.UInt64, idl.SInt8, idl.SInt16, idl.SInt32, idl.SInt64, idl.Bool:
		return true
	}
	return false
}

// initial is what is known of a value of type t before any test.
func initial(t *idl.Type) constraint {
	c := constraint{lo: math.MinInt64, hi: math.MaxInt64, bound: -1}
	switch t.Kind {
	case idl.UInt8:
		c.lo, c.hi = 0, math.MaxUint8
	case idl.UInt16:
		c.lo, c.hi = 0, math.MaxUint16
	case idl.UInt32:
		c.lo, c.hi = 0, math.MaxUint32
	case idl.SInt8:
		c.lo, c.hi = math.MinInt8, math.MaxInt8
	case idl.SInt16:
		c.lo, c.hi = math.MinInt16, math.MaxInt16
	case idl.SInt32:
		c.lo, c.hi = math.MinInt32, math.MaxInt32
	case idl.Bool:
		c.lo, c.hi = 0, 1
	case idl.String, idl.Bytes:
		c.bound = t.Bound
	}
	// SInt64 and Handle (a SID) keep the whole int64 range; UInt64 too,
	// but refine never narrows it.
	return c
}

// field is a message field (or the size of one) that tests can narrow.
type field struct {
	t    *idl.Type
	path string
	init constraint
}

// path resolves e to a message field path (through struct fields only) or
// size() of one, with its type. Union variants and indexes are not paths.
func (a *exprAnalyzer) path(e policy.Expr) (field, bool) {
	switch x := e.(type) {
	case *policy.Name:
		if x.Name == "message" && a.msg != nil {
			return field{t: a.msg, path: "message", init: initial(a.msg)}, true
		}
	case *policy.FieldExpr:
		f, ok := a.path(x.X)
		if !ok || f.t.Kind != idl.Struct {
			return field{}, false
		}
		for _, fl := range f.t.Fields {
			if fl.Name == x.Field {
				return field{t: fl.Type, path: f.path + "." + x.Field, init: initial(fl.Type)}, true
			}
		}
	case *policy.SizeExpr:
		f, ok := a.path(x.X)
		if !ok {
			return field{}, false
		}
		switch f.t.Kind {
		case idl.Bytes, idl.String, idl.Sequence, idl.Array:
			c := constraint{lo: 0, hi: int64(f.t.Bound), bound: -1}
			if f.t.Kind == idl.Array {
				c.lo = c.hi
			}
			return field{t: sizeT, path: "size(" + f.path + ")", init: c}, true
		}
	}
	return field{}, false
}

// sizeT is the type of size(x).
var sizeT = &idl.Type{Kind: idl.SInt64}

// mayErr reports whether evaluating e can fail (which denies the rule):
// union variants, indexes, arithmetic and model expressions can.
func (a *exprAnalyzer) mayErr(e policy.Expr) bool {
	switch x := e.(type) {
	case *policy.IntLit, *policy.BoolLit, *policy.StrLit, *policy.Name:
		return false
	case *policy.FieldExpr:
		_, ok := a.path(x)
		return !ok
	case *policy.SizeExpr:
		return a.mayErr(x.X)
	case *policy.UnaryExpr:
		return x.Op != "!" || a.mayErr(x.X)
	case *policy.BinaryExpr:
		switch x.Op {
		case "&&", "||", "==>", "==", "!=", "<", "<=", ">", ">=":
			return a.mayErr(x.X) || a.mayErr(x.Y)
		}
		return true
	case *policy.ListExpr:
		return slices.ContainsFunc(x.Elems, a.mayErr)
	}
	return true
}

// missing reports whether e surely fails: it reads a field that the
// message does not have (the policy's type check allows that when one of
// the binding's methods has it).
func (a *exprAnalyzer) missing(e policy.Expr) bool {
	switch x := e.(type) {
	case *policy.FieldExpr:
		if a.missing(x.X) {
			return true
		}
		f, ok := a.path(x.X)
		if !ok || f.t.Kind != idl.Struct {
			return false
		}
		return !slices.ContainsFunc(f.t.Fields, func(fl *idl.Field) bool { return fl.Name == x.Field })
	case *policy.SizeExpr:
		return a.missing(x.X)
	case *policy.UnaryExpr:
		return x.Op == "-" && a.missing(x.X)
	case *policy.IndexExpr:
		return a.missing(x.X) || a.missing(x.Index)
	case *policy.BinaryExpr:
		switch x.Op {
		case "&&", "||", "==>":
			return false
		}
		return a.missing(x.X) || a.missing(x.Y)
	}
	return false
}
