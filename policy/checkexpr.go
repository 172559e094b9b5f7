package policy

import (
	"slices"

	"capsim/diag"
	"capsim/idl"
)

// ptype is the static type of an expression. ts holds the IDL types a
// composite (or message-derived) value may have: one per candidate method
// when a binding matches several.
type ptype struct {
	k  vkind
	ts []*idl.Type
}

var bad = ptype{}

func kindOf(t *idl.Type) vkind {
	switch t.Kind {
	case idl.UInt8, idl.UInt16, idl.UInt32, idl.UInt64, idl.SInt8, idl.SInt16, idl.SInt32, idl.SInt64:
		return vInt
	case idl.Bool:
		return vBool
	case idl.Handle:
		return vSID
	case idl.Bytes:
		return vBytes
	case idl.String:
		return vText
	case idl.Array, idl.Sequence, idl.Struct, idl.Union:
		return vComp
	}
	return vInvalid
}

// expr checks an expression and lowers it to a closure. On an error it
// reports it and returns bad.
func (c *compiler) expr(x Expr, e *env) (ptype, exprFn) {
	switch x := x.(type) {
	case *IntLit:
		v := intVal(x.Val)
		return ptype{k: vInt}, func(*frame) (value, error) { return v, nil }
	case *BoolLit:
		v := boolVal(x.Val)
		return ptype{k: vBool}, func(*frame) (value, error) { return v, nil }
	case *StrLit:
		v := textVal(x.Val)
		return ptype{k: vText}, func(*frame) (value, error) { return v, nil }
	case *ListExpr:
		c.errs.Addf(x.Pos, "a list is only allowed as a model argument")
	case *Name:
		return c.name(x, e)
	case *FieldExpr:
		return c.fieldExpr(x, e)
	case *IndexExpr:
		return c.indexExpr(x, e)
	case *SizeExpr:
		t, fn := c.expr(x.X, e)
		if t.k == vInvalid {
			return bad, nil
		}
		if !(t.k == vText || t.k == vBytes || t.k == vComp && allKinds(t.ts, idl.Array, idl.Sequence)) {
			c.errs.Addf(x.Pos, "size needs a sequence, array, string or bytes value, not %s", t.k)
			return bad, nil
		}
		return ptype{k: vInt}, func(f *frame) (value, error) {
			v, err := fn(f)
			if err != nil {
				return v, err
			}
			return size(v)
		}
	case *UnaryExpr:
		return c.unary(x, e)
	case *BinaryExpr:
		return c.binary(x, e)
	case *CallExpr:
		o := c.object(x.Object, x.Pos)
		if o == nil {
			return bad, nil
		}
		n := len(c.explainers)
		t, fn := o.m.expr(c, x, e)
		if fn != nil {
			c.explainers = slices.Insert(c.explainers, n, callValue(x, fn))
		}
		return t, fn
	}
	return bad, nil
}

func (c *compiler) name(x *Name, e *env) (ptype, exprFn) {
	switch x.Name {
	case "src_sid":
		return ptype{k: vSID}, func(f *frame) (value, error) { return sidVal(f.ev.Src.SID), nil }
	case "dst_sid":
		return ptype{k: vSID}, func(f *frame) (value, error) { return sidVal(f.ev.Dst.SID), nil }
	case "message":
		ts := e.msgTypes()
		if len(ts) == 0 {
			if e.kind == Execute {
				c.errs.Addf(x.Pos, "execute events have no message")
			} else {
				c.errs.Addf(x.Pos, "no method matches these selectors, so there is no message")
			}
			return bad, nil
		}
		return ptype{k: vComp, ts: ts}, func(f *frame) (value, error) {
			if f.ev.Message == nil {
				return value{}, errorf("the event carries no message")
			}
			return value{k: vComp, ref: f.ev.Message}, nil
		}
	}
	c.errs.Addf(x.Pos, "unknown name %s (%s)", x.Name, suggest(x.Name, []string{"message", "src_sid", "dst_sid"}))
	return bad, nil
}

func allKinds(ts []*idl.Type, kinds ...idl.Kind) bool {
	for _, t := range ts {
		if !slices.Contains(kinds, t.Kind) {
			return false
		}
	}
	return len(ts) > 0
}

// narrow turns the IDL types a value may have into one ptype, reporting
// when they disagree.
func (c *compiler) narrow(pos diag.Pos, what string, ts []*idl.Type) ptype {
	k := kindOf(ts[0])
	for _, t := range ts[1:] {
		if kindOf(t) != k {
			c.errs.Addf(pos, "%s has different types in the methods these selectors match; narrow them with method=", what)
			return bad
		}
	}
	if k == vInvalid {
		c.errs.Addf(pos, "%s has a type the policy cannot read", what)
		return bad
	}
	return ptype{k: k, ts: ts}
}

func (c *compiler) fieldExpr(x *FieldExpr, e *env) (ptype, exprFn) {
	t, fn := c.expr(x.X, e)
	if t.k == vInvalid {
		return bad, nil
	}
	if t.k != vComp || !allKinds(t.ts, idl.Struct, idl.Union) {
		c.errs.Addf(x.Pos, "%s: only structs, unions and the message have fields", x.Field)
		return bad, nil
	}
	var found []*idl.Type
	var names []string
	for _, st := range t.ts {
		for _, fl := range st.Fields {
			names = append(names, fl.Name)
			if fl.Name == x.Field && !slices.Contains(found, fl.Type) {
				found = append(found, fl.Type)
			}
		}
	}
	if len(found) == 0 {
		c.errs.Addf(x.Pos, "no field %s in %s (%s)", x.Field, typeNames(t.ts), suggest(x.Field, names))
		return bad, nil
	}
	pt := c.narrow(x.Pos, "field "+x.Field, found)
	if pt.k == vInvalid {
		return bad, nil
	}
	name := x.Field
	if root, ok := x.X.(*Name); ok && root.Name == "message" {
		// The common case: a parameter. Its index in the first candidate
		// method is tried before a search by name.
		hint := fieldIndex(t.ts[0], name)
		return pt, func(f *frame) (value, error) {
			m := f.ev.Message
			if m != nil && hint >= 0 && hint < len(m.Fields) && hint < len(m.Type.Fields) && m.Type.Fields[hint].Name == name {
				return fromIDL(m.Fields[hint], f.ev)
			}
			if m == nil {
				return value{}, errorf("the event carries no message")
			}
			return field(value{k: vComp, ref: m}, name, f.ev)
		}
	}
	return pt, func(f *frame) (value, error) {
		v, err := fn(f)
		if err != nil {
			return v, err
		}
		return field(v, name, f.ev)
	}
}

func typeNames(ts []*idl.Type) string {
	if len(ts) == 1 && ts[0].Name != "" {
		return ts[0].Name
	}
	return "the message"
}

func (c *compiler) indexExpr(x *IndexExpr, e *env) (ptype, exprFn) {
	t, fn := c.expr(x.X, e)
	it, ifn := c.expr(x.Index, e)
	if t.k == vInvalid || it.k == vInvalid {
		return bad, nil
	}
	if t.k != vComp || !allKinds(t.ts, idl.Array, idl.Sequence) {
		c.errs.Addf(x.Pos, "only arrays and sequences can be indexed")
		return bad, nil
	}
	if it.k != vInt {
		c.errs.Addf(posOf(x.Index), "an index must be an integer, not %s", it.k)
		return bad, nil
	}
	var elems []*idl.Type
	for _, t := range t.ts {
		if !slices.Contains(elems, t.Elem) {
			elems = append(elems, t.Elem)
		}
	}
	pt := c.narrow(x.Pos, "the element", elems)
	if pt.k == vInvalid {
		return bad, nil
	}
	return pt, func(f *frame) (value, error) {
		v, err := fn(f)
		if err != nil {
			return v, err
		}
		i, err := ifn(f)
		if err != nil {
			return i, err
		}
		if i.k == vUBig {
			return value{}, errorf("index %d out of range", uint64(i.n))
		}
		return index(v, i.n, f.ev)
	}
}

func (c *compiler) unary(x *UnaryExpr, e *env) (ptype, exprFn) {
	t, fn := c.expr(x.X, e)
	if t.k == vInvalid {
		return bad, nil
	}
	if x.Op == "!" {
		if t.k != vBool {
			c.errs.Addf(x.Pos, "! needs a Bool, not %s", t.k)
			return bad, nil
		}
		return t, func(f *frame) (value, error) {
			v, err := fn(f)
			return boolVal(!v.bool()), err
		}
	}
	if t.k != vInt {
		c.errs.Addf(x.Pos, "- needs an integer, not %s", t.k)
		return bad, nil
	}
	return t, func(f *frame) (value, error) {
		v, err := fn(f)
		if err != nil {
			return v, err
		}
		if v.k == vUBig {
			return value{}, overflow(v)
		}
		n, err := arith("-", 0, v.n)
		return intVal(n), err
	}
}

func (c *compiler) binary(x *BinaryExpr, e *env) (ptype, exprFn) {
	a, fa := c.expr(x.X, e)
	b, fb := c.expr(x.Y, e)
	if a.k == vInvalid || b.k == vInvalid {
		return bad, nil
	}
	switch x.Op {
	case "&&", "||", "==>":
		if a.k != vBool || b.k != vBool {
			c.errs.Addf(x.Pos, "%s needs Bool operands, not %s and %s", x.Op, a.k, b.k)
			return bad, nil
		}
		return ptype{k: vBool}, logical(x.Op, fa, fb)
	case "+", "-", "*", "/", "%":
		if a.k != vInt || b.k != vInt {
			c.errs.Addf(x.Pos, "%s needs integer operands, not %s and %s", x.Op, a.k, b.k)
			return bad, nil
		}
		op := x.Op
		return ptype{k: vInt}, func(f *frame) (value, error) {
			va, err := fa(f)
			if err != nil {
				return va, err
			}
			vb, err := fb(f)
			if err != nil {
				return vb, err
			}
			if va.k == vUBig {
				return value{}, overflow(va)
			}
			if vb.k == vUBig {
				return value{}, overflow(vb)
			}
			n, err := arith(op, va.n, vb.n)
			return intVal(n), err
		}
	}
	if !comparable(x.Op, a.k, b.k) {
		c.errs.Addf(x.Pos, "cannot compare %s %s %s", a.k, x.Op, b.k)
		return bad, nil
	}
	op := x.Op
	if lit, ok := x.Y.(*IntLit); ok && a.k == vInt {
		return ptype{k: vBool}, compareConst(op, fa, lit.Val)
	}
	return ptype{k: vBool}, func(f *frame) (value, error) {
		va, err := fa(f)
		if err != nil {
			return va, err
		}
		vb, err := fb(f)
		if err != nil {
			return vb, err
		}
		return boolVal(compare(op, va, vb)), nil
	}
}

func comparable(op string, a, b vkind) bool {
	text := func(k vkind) bool { return k == vText || k == vBytes }
	ordered := op != "==" && op != "!="
	switch {
	case a == vInt && b == vInt:
		return true
	case text(a) && text(b):
		return true
	case a == b && (a == vBool || a == vSID):
		return !ordered
	}
	return false
}

func logical(op string, fa, fb exprFn) exprFn {
	return func(f *frame) (value, error) {
		va, err := fa(f)
		if err != nil {
			return va, err
		}
		switch {
		case op == "&&" && !va.bool():
			return va, nil
		case op == "||" && va.bool():
			return va, nil
		case op == "==>" && !va.bool():
			return boolVal(true), nil
		}
		return fb(f)
	}
}

// compareConst compares an integer expression with a constant.
func compareConst(op string, fa exprFn, c int64) exprFn {
	var test func(n int64) bool
	big := cmpResult(op, 1) // an integer above MaxInt64 exceeds every constant
	switch op {
	case "==":
		test = func(n int64) bool { return n == c }
	case "!=":
		test = func(n int64) bool { return n != c }
	case "<":
		test = func(n int64) bool { return n < c }
	case "<=":
		test = func(n int64) bool { return n <= c }
	case ">":
		test = func(n int64) bool { return n > c }
	default:
		test = func(n int64) bool { return n >= c }
	}
	return func(f *frame) (value, error) {
		v, err := fa(f)
		if err != nil {
			return v, err
		}
		if v.k == vUBig {
			return boolVal(big), nil
		}
		return boolVal(test(v.n)), nil
	}
}
