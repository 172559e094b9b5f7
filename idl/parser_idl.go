package idl

// The IDL half of the parser: declarations, types and constant expressions.

// idlDecl parses one IDL declaration after the package clause.
func (p *parser) idlDecl(f *astFile) {
	kw := p.tok
	switch {
	case p.keyword("import"):
		p.next()
		if len(f.Decls) > 0 || f.Iface != nil {
			p.fail(kw.pos, "import after declarations: imports come right after the package clause")
		}
		f.Imports = append(f.Imports, p.qualified("package name"))
		p.optSemi()
	case p.keyword("const"):
		p.next()
		d := astDecl{Kind: declConst, Type: p.typ()}
		name := p.ident("constant name")
		d.Name, d.Pos = name.text, name.pos
		p.expect(tAssign)
		d.Value = p.expr()
		p.expectSemi("constant")
		f.Decls = append(f.Decls, d)
	case p.keyword("typedef"):
		p.next()
		d := astDecl{Kind: declTypedef, Type: p.typ()}
		name := p.ident("type name")
		d.Name, d.Pos = name.text, name.pos
		p.expectSemi("typedef")
		f.Decls = append(f.Decls, d)
	case p.keyword("struct") || p.keyword("union"):
		p.next()
		d := astDecl{Kind: declStruct}
		if kw.text == "union" {
			d.Kind = declUnion
		}
		name := p.ident(kw.text + " name")
		d.Name, d.Pos = name.text, name.pos
		d.Fields = p.fields(kw.text)
		f.Decls = append(f.Decls, d)
	case p.keyword("interface"):
		p.next()
		it := p.iface(kw)
		if f.Iface != nil {
			f.ExtraIfaces = append(f.ExtraIfaces, it)
			return
		}
		f.Iface = it
	default:
		p.failExpected(`"import", "const", "typedef", "struct", "union" or "interface"`)
	}
}

// expectSemi requires the ';' that ends a const, typedef, field or method.
func (p *parser) expectSemi(what string) {
	if p.tok.kind != tSemi {
		p.failExpected("';' after " + what)
	}
	p.next()
}

// fields parses "{ Type name; ... }" of a struct or union.
func (p *parser) fields(what string) []astField {
	p.expect(tLBrace)
	var out []astField
	for p.tok.kind != tRBrace {
		t := p.typ()
		name := p.ident(what + " field name")
		out = append(out, astField{Type: t, Name: name.text, Pos: name.pos})
		p.expectSemi(what + " field")
	}
	p.next()
	p.optSemi()
	return out
}

func (p *parser) iface(kw token) *astInterface {
	it := &astInterface{Pos: kw.pos}
	p.expect(tLBrace)
	for p.tok.kind != tRBrace {
		name := p.ident("method name")
		m := astMethod{Name: name.text, Pos: name.pos}
		p.expect(tLParen)
		for p.tok.kind != tRParen {
			if len(m.Params) > 0 {
				p.expect(tComma)
			}
			m.Params = append(m.Params, p.param())
		}
		p.next()
		p.expectSemi("method")
		it.Methods = append(it.Methods, m)
	}
	p.next()
	p.optSemi()
	return it
}

func (p *parser) param() astField {
	if !p.keyword("in") && !p.keyword("out") && !p.keyword("error") {
		p.failExpected(`parameter direction "in", "out" or "error"`)
	}
	dir := p.tok
	p.next()
	t := p.typ()
	name := p.ident("parameter name")
	return astField{Dir: dir.text, Type: t, Name: name.text, Pos: name.pos}
}

// typ parses a type expression; each generic is a level of nesting.
func (p *parser) typ() astType {
	q := p.qualified("type")
	if p.tok.kind != tLT {
		return astType{Name: q}
	}
	p.nest()
	defer p.unnest()
	switch q.Name {
	case "bytes", "string":
		p.next()
		t := astType{Name: q, Bound: p.expr()}
		p.expect(tGT)
		return t
	case "array", "sequence":
		p.next()
		elem := p.typ()
		p.expect(tComma)
		t := astType{Name: q, Elem: &elem, Bound: p.expr()}
		p.expect(tGT)
		return t
	}
	p.fail(q.Pos, "type %s takes no parameters (only bytes, string, array and sequence do)%s",
		q.Name, suggest(q.Name, []string{"bytes", "string", "array", "sequence"}))
	return astType{}
}

// Binary operator precedence, as in Go; ** binds tighter than all.
var binaryPrec = map[tokKind]int{
	tMul: 5, tQuo: 5, tRem: 5, tShl: 5, tShr: 5, tAnd: 5,
	tAdd: 4, tSub: 4, tOr: 4,
}

// expr parses a constant expression; a parenthesis is a level of nesting.
func (p *parser) expr() astExpr {
	p.nest()
	defer p.unnest()
	return p.binary(1)
}

func (p *parser) binary(minPrec int) astExpr {
	x := p.unary()
	// A chain 1 + 1 + ... builds a tree as deep as it is long, which
	// the checker evaluates recursively: each operator counts as a level.
	levels := 0
	defer func() { p.depth -= levels }()
	for {
		prec, ok := binaryPrec[p.tok.kind]
		if !ok || prec < minPrec {
			return x
		}
		op := p.tok
		p.nest()
		levels++
		p.next()
		y := p.binary(prec + 1)
		x = &binaryExpr{Op: op.kind, X: x, Y: y, Pos: op.pos}
	}
}

func (p *parser) unary() astExpr {
	if p.tok.kind == tSub || p.tok.kind == tAdd {
		op := p.tok
		p.nest()
		defer p.unnest()
		p.next()
		return &unaryExpr{Op: op.kind, X: p.unary(), Pos: op.pos}
	}
	return p.power()
}

// power parses "primary ** unary" (right-associative).
func (p *parser) power() astExpr {
	x := p.primary()
	if p.tok.kind == tPow {
		op := p.tok
		p.nest()
		defer p.unnest()
		p.next()
		return &binaryExpr{Op: tPow, X: x, Y: p.unary(), Pos: op.pos}
	}
	return x
}

func (p *parser) primary() astExpr {
	switch p.tok.kind {
	case tInt:
		t := p.tok
		p.next()
		return &intLit{Text: t.text, Pos: t.pos}
	case tIdent:
		return &nameRef{p.qualified("constant")}
	case tLParen:
		p.next()
		x := p.expr()
		p.expect(tRParen)
		return x
	}
	p.failExpected("constant expression")
	return nil
}
