package policy

import "math"

import "capsim/diag"

// Expression grammar, loosest first:
//
//	impl  = or [ "==>" impl ]            (right-associative)
//	or    = and { "||" and }
//	and   = cmp { "&&" cmp }
//	cmp   = add [ ("=="|"!="|"<"|"<="|">"|">=") add ]
//	add   = mul { ("+"|"-") mul }
//	mul   = unary { ("*"|"/"|"%") unary }
//	unary = ("!"|"-") unary | postfix
//	postfix = primary { "." ident | "[" impl "]" }

func (p *parser) parseExpr() Expr {
	p.nest()
	defer p.unnest()
	x := p.parseBinary(0)
	if p.is("==>") {
		t := p.next()
		return &BinaryExpr{Op: "==>", X: x, Y: p.parseExpr(), Pos: t.pos}
	}
	return x
}

var binaryLevels = [][]string{
	{"||"},
	{"&&"},
	{"==", "!=", "<", "<=", ">", ">="},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *parser) binaryOp(level int) string {
	t := p.tok()
	if t.kind != tPunct {
		return ""
	}
	for _, op := range binaryLevels[level] {
		if t.text == op {
			return op
		}
	}
	return ""
}

func (p *parser) parseBinary(level int) Expr {
	if level == len(binaryLevels) {
		return p.parseUnary()
	}
	x := p.parseBinary(level + 1)
	// A chain a && b && ... builds a tree as deep as it is long, which
	// the passes after the parser walk recursively: each operator counts
	// as a level of nesting.
	levels := 0
	defer func() { p.depth -= levels }()
	for {
		op := p.binaryOp(level)
		if op == "" {
			return x
		}
		p.nest()
		levels++
		t := p.next()
		y := p.parseBinary(level + 1)
		x = &BinaryExpr{Op: op, X: x, Y: y, Pos: t.pos}
		if level == 2 && p.binaryOp(level) != "" {
			p.errorf(p.tok().pos, "comparisons do not chain; use parentheses")
		}
	}
}

func (p *parser) parseUnary() Expr {
	p.nest()
	defer p.unnest()
	if p.is("-") && p.peek(1).kind == tInt {
		t := p.next()
		return p.negatedInt(t)
	}
	if p.is("!") || p.is("-") {
		t := p.next()
		x := p.parseUnary()
		if lit, ok := x.(*IntLit); ok && t.text == "-" {
			if lit.Val == math.MinInt64 {
				p.errorf(t.pos, "integer -(%d) overflows a 64-bit signed integer", lit.Val)
			}
			return &IntLit{Val: -lit.Val, Pos: t.pos}
		}
		return &UnaryExpr{Op: t.text, X: x, Pos: t.pos}
	}
	return p.parsePostfix()
}

// negatedInt is "-" (t) and the integer after it, one literal so that
// -9223372036854775808 can be written, as in Go.
func (p *parser) negatedInt(t *token) Expr {
	return p.parsePostfixOf(&IntLit{Val: -p.next().num, Pos: t.pos}) // -(-1<<63) wraps to itself
}

// intLit consumes an integer token that has no minus sign before it.
func (p *parser) intLit() int64 {
	t := p.next()
	if t.minInt {
		p.errorf(t.pos, "integer %s overflows a 64-bit signed integer", t.text)
	}
	return t.num
}

func (p *parser) parsePostfix() Expr { return p.parsePostfixOf(p.parsePrimary()) }

// parsePostfixOf parses the field selections and indexes that follow x.
func (p *parser) parsePostfixOf(x Expr) Expr {
	for {
		switch {
		case p.is("."):
			t := p.next()
			x = &FieldExpr{X: x, Field: p.ident("a field name").text, Pos: t.pos}
		case p.is("["):
			t := p.next()
			idx := p.parseExpr()
			p.expect("]")
			x = &IndexExpr{X: x, Index: idx, Pos: t.pos}
		default:
			return x
		}
	}
}

func (p *parser) parsePrimary() Expr {
	t := p.tok()
	switch t.kind {
	case tInt:
		return &IntLit{Val: p.intLit(), Pos: t.pos}
	case tString:
		p.next()
		return &StrLit{Val: t.val, Pos: t.pos}
	case tIdent:
		return p.parseNamed()
	}
	switch {
	case p.is("("):
		p.next()
		x := p.parseExpr()
		p.expect(")")
		return x
	case p.is("["):
		p.next()
		l := &ListExpr{Pos: t.pos}
		for !p.is("]") {
			if len(l.Elems) > 0 {
				p.expect(",")
			}
			l.Elems = append(l.Elems, p.parseExpr())
		}
		p.next()
		return l
	}
	p.errorf(t.pos, "expected an expression, found %s", describe(t))
	return nil
}

func (p *parser) parseNamed() Expr {
	t := p.next()
	switch t.text {
	case "true", "false":
		return &BoolLit{Val: t.text == "true", Pos: t.pos}
	case "size":
		p.expect("(")
		x := p.parseExpr()
		p.expect(")")
		return &SizeExpr{X: x, Pos: t.pos}
	case "message", "src_sid", "dst_sid":
		return &Name{Name: t.text, Pos: t.pos}
	}
	if p.is(".") && p.peek(1).kind == tIdent && p.peek(2).kind == tPunct && p.peek(2).text == "{" {
		p.next()
		m := p.next()
		return &CallExpr{Object: t.text, Method: m.text, Args: p.parseArgs(), Pos: t.pos}
	}
	return &Name{Name: t.text, Pos: t.pos}
}

// parseLit parses a literal value: integer, string, bool, identifier,
// `[a, b]` or `{ key : value, ... }` (commas optional).
func (p *parser) parseLit() *Lit {
	p.nest()
	defer p.unnest()
	t := p.tok()
	switch {
	case t.kind == tInt:
		return &Lit{Kind: LitInt, Int: p.intLit(), Pos: t.pos}
	case p.is("-") && p.peek(1).kind == tInt:
		p.next()
		return &Lit{Kind: LitInt, Int: -p.next().num, Pos: t.pos} // -(-1<<63) wraps to itself
	case t.kind == tString:
		p.next()
		return &Lit{Kind: LitString, Str: t.val, Pos: t.pos}
	case t.kind == tIdent && (t.text == "true" || t.text == "false"):
		p.next()
		return &Lit{Kind: LitBool, Bool: t.text == "true", Pos: t.pos}
	case t.kind == tIdent:
		name, pos := p.qualName("a name")
		return &Lit{Kind: LitIdent, Str: name, Pos: pos}
	case p.is("["):
		p.next()
		l := &Lit{Kind: LitList, Pos: t.pos}
		for !p.is("]") {
			l.List = append(l.List, p.parseLit())
			if p.is(",") {
				p.next()
			}
		}
		p.next()
		return l
	case p.is("{"):
		return p.parseRecord()
	}
	p.errorf(t.pos, "expected a value, found %s", describe(t))
	return nil
}

func (p *parser) parseRecord() *Lit {
	l := &Lit{Kind: LitRecord, Pos: p.expect("{").pos}
	for !p.is("}") {
		if p.is(",") {
			p.next()
			continue
		}
		k := p.tok()
		var key string
		switch k.kind {
		case tIdent:
			key = k.text
		case tString:
			key = k.val
		case tInt:
			key = k.text
		default:
			p.errorf(k.pos, "expected a field name, found %s", describe(k))
		}
		p.next()
		p.expect(":")
		for _, f := range l.Fields {
			if f.Key == key {
				p.errorf(k.pos, "field %s given twice", key)
			}
		}
		l.Fields = append(l.Fields, &LitField{Key: key, Value: p.parseLit(), Pos: k.pos})
	}
	p.next()
	return l
}

// posOf returns the position of an expression (nil-safe).
func posOf(e Expr) diag.Pos {
	if e == nil {
		return diag.Pos{}
	}
	return e.exprPos()
}
