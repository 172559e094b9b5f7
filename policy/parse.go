package policy

import (
	"strings"

	"capsim/diag"
)

// parser builds the syntax tree of one file. A syntax error ends the
// declaration it is in (bailout); parsing resumes at the next line that
// starts a declaration, up to maxSyntaxErrors errors.
type parser struct {
	file string
	src  string
	toks []token
	i    int
	errs *diag.List
	// depth counts the blocks, expressions and values being parsed
	// inside one another, so that a hostile file ends in an error, not
	// in a stack overflow of the parser or of the passes after it.
	depth int
}

// maxNesting bounds depth; a parenthesis costs two levels.
const maxNesting = 1000

// nest enters one level of nesting; the caller leaves it with unnest.
func (p *parser) nest() {
	p.depth++
	if p.depth > maxNesting {
		p.errorf(p.tok().pos, "nested more than %d levels deep", maxNesting)
	}
}

func (p *parser) unnest() { p.depth-- }

// bailout is the panic value that ends a parse at its first syntax error.
type bailout struct{}

// Parse parses one policy file. The errors are positioned; on a syntax
// error the returned File holds what was parsed before it.
func Parse(path, src string) (*File, error) {
	var errs diag.List
	f := parseFile(path, src, &errs)
	errs.Sort()
	return f, errs.Err()
}

func parseFile(path, src string, errs *diag.List) *File {
	f := &File{Path: path, Src: src}
	n := len(*errs)
	toks := scan(path, src, errs)
	if len(*errs) > n {
		return f
	}
	p := &parser{file: path, src: src, toks: toks, errs: errs}
	for p.tok().kind != tEOF {
		start := p.i
		if p.decl(f) {
			continue
		}
		if len(*errs)-n >= maxSyntaxErrors {
			break
		}
		p.sync(start)
	}
	return f
}

// maxSyntaxErrors is how many syntax errors of one file are reported.
const maxSyntaxErrors = 10

// decl parses one declaration; it reports false after a syntax error.
func (p *parser) decl(f *File) (ok bool) {
	p.depth = 0 // a bailout leaves the levels it was in
	defer func() {
		if r := recover(); r != nil {
			if _, isBailout := r.(bailout); !isBailout {
				panic(r)
			}
			ok = false
		}
	}()
	p.parseDecl(f)
	return true
}

// sync skips to the next token that starts a line with a declaration's
// keyword, so that parsing resumes after a syntax error in the declaration
// that began at token start.
func (p *parser) sync(start int) {
	if p.i == start {
		p.next()
	}
	for t := p.tok(); t.kind != tEOF; t = p.tok() {
		if t.kind == tIdent && t.pos.Col == 1 && declStarters[t.text] {
			return
		}
		p.next()
	}
}

var declStarters = map[string]bool{
	"use": true, "policy": true, "audit": true, "assert": true,
	"execute": true, "request": true, "response": true, "error": true, "security": true,
}

func (p *parser) tok() *token { return &p.toks[p.i] }

func (p *parser) peek(n int) *token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) next() *token {
	t := &p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// is reports whether the current token is the punctuation or identifier text.
func (p *parser) is(text string) bool {
	t := p.tok()
	return (t.kind == tPunct || t.kind == tIdent) && t.text == text
}

func (p *parser) errorf(pos diag.Pos, format string, args ...any) {
	p.errs.Addf(pos, format, args...)
	panic(bailout{})
}

func describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tString:
		return "string " + t.text
	case tInt:
		return "integer " + t.text
	}
	return "\"" + t.text + "\""
}

func (p *parser) expect(text string) *token {
	if !p.is(text) {
		p.errorf(p.tok().pos, "expected %q, found %s", text, describe(p.tok()))
	}
	return p.next()
}

func (p *parser) ident(what string) *token {
	if p.tok().kind != tIdent {
		p.errorf(p.tok().pos, "expected %s, found %s", what, describe(p.tok()))
	}
	return p.next()
}

func (p *parser) str(what string) *token {
	if p.tok().kind != tString {
		p.errorf(p.tok().pos, "expected %s, found %s", what, describe(p.tok()))
	}
	return p.next()
}

// qualName parses `a.b.C`.
func (p *parser) qualName(what string) (string, diag.Pos) {
	t := p.ident(what)
	parts := []string{t.text}
	for p.is(".") && p.peek(1).kind == tIdent {
		p.next()
		parts = append(parts, p.next().text)
	}
	return strings.Join(parts, "."), t.pos
}

// text returns the source from token from up to the last consumed token.
func (p *parser) text(from int) string {
	if p.i == 0 || from >= p.i {
		return ""
	}
	return p.src[p.toks[from].off:p.toks[p.i-1].end]
}

var eventKinds = map[string]EventKind{
	"execute": Execute, "request": Request, "response": Response, "error": Error, "security": Security,
}

func (p *parser) parseDecl(f *File) {
	t := p.tok()
	if t.kind != tIdent {
		p.errorf(t.pos, "expected a declaration, found %s", describe(t))
	}
	switch {
	case t.text == "execute" && p.peek(1).kind == tPunct && p.peek(1).text == ":":
		p.next()
		p.next()
		if f.Header != "" {
			p.errorf(t.pos, "execute interface declared twice")
		}
		f.Header, _ = p.qualName("an interface name")
	case t.text == "use":
		f.Decls = append(f.Decls, p.parseUse())
	case t.text == "policy":
		f.Decls = append(f.Decls, p.parseObject())
	case t.text == "audit":
		f.Decls = append(f.Decls, p.parseAudit())
	case t.text == "assert":
		f.Asserts = append(f.Asserts, p.parseTestSet())
	case eventKinds[t.text] != 0:
		p.next()
		b := &Binding{Kind: eventKinds[t.text], Pos: t.pos}
		b.Sel = p.parseSelectors()
		b.Body = p.parseBlock()
		f.Decls = append(f.Decls, b)
	default:
		p.errorf(t.pos, "expected a declaration (use, policy object, audit, assert or an event binding), found %s", describe(t))
	}
}

func (p *parser) parseUse() *Use {
	u := &Use{Pos: p.next().pos}
	if p.is("EDL") {
		p.next()
		u.EDL = true
		u.Name, _ = p.qualName("an entity class name")
		return u
	}
	var parts []string
	namePos := p.tok().pos
	for {
		t := p.ident("a module name")
		if t.text == "_" {
			break
		}
		parts = append(parts, t.text)
		if !p.is(".") {
			p.errorf(namePos, "expected \"._\" after module name %s", strings.Join(parts, "."))
		}
		p.next()
	}
	if len(parts) == 0 {
		p.errorf(u.Pos, "expected a module name")
	}
	u.Name = strings.Join(parts, ".")
	return u
}

func (p *parser) parseObject() *ObjectDecl {
	pos := p.next().pos
	if !p.is("object") {
		p.errorf(p.tok().pos, "expected \"object\" after \"policy\", found %s", describe(p.tok()))
	}
	p.next()
	o := &ObjectDecl{Name: p.ident("an object name").text, Pos: pos}
	p.expect(":")
	o.Model = p.ident("a model name (Flow, HashSet, StaticMap)").text
	p.expect("{")
	for !p.is("}") {
		switch t := p.ident("\"type\" or \"config\""); t.text {
		case "type":
			o.Types = append(o.Types, p.parseTypeDecl(t.pos))
		case "config":
			if o.Config != nil {
				p.errorf(t.pos, "config given twice")
			}
			p.expect("=")
			o.Config = p.parseLit()
		default:
			p.errorf(t.pos, "expected \"type\" or \"config\", found %s", describe(t))
		}
	}
	p.next()
	return o
}

func (p *parser) parseTypeDecl(pos diag.Pos) *TypeDecl {
	d := &TypeDecl{Name: p.ident("a type name").text, Pos: pos}
	p.expect("=")
	if p.tok().kind != tString {
		d.Base, _ = p.qualName("a type")
		return d
	}
	for {
		d.States = append(d.States, p.str("a state string").val)
		if !p.is("|") {
			return d
		}
		p.next()
	}
}

func (p *parser) parseAudit() Decl {
	pos := p.next().pos
	switch t := p.ident("\"profile\" or \"default\""); t.text {
	case "profile":
		a := &AuditProfile{Name: p.ident("a profile name").text, Pos: pos}
		p.expect("=")
		a.Value = p.parseLit()
		return a
	case "default":
		p.expect("=")
		a := &AuditDefault{Profile: p.ident("a profile name").text, Pos: pos}
		if p.tok().kind != tInt {
			p.errorf(p.tok().pos, "expected an audit level, found %s", describe(p.tok()))
		}
		a.Level = p.intLit()
		return a
	default:
		p.errorf(t.pos, "expected \"profile\" or \"default\" after \"audit\", found %s", describe(t))
	}
	return nil
}

var selectorKeys = map[string]bool{
	"src": true, "dst": true, "interface": true, "component": true, "endpoint": true, "method": true,
}

// parseSelectors parses `key=value` pairs separated by spaces or commas,
// up to the first token that does not start one.
func (p *parser) parseSelectors() Selectors {
	var s Selectors
	for {
		if p.is(",") && len(s.List) > 0 {
			p.next()
		}
		t := p.tok()
		if t.kind != tIdent || !(p.peek(1).kind == tPunct && p.peek(1).text == "=") {
			return s
		}
		if !selectorKeys[t.text] {
			p.errorf(t.pos, "unknown selector %q (want src, dst, interface, component, endpoint or method)", t.text)
		}
		p.next()
		p.next()
		v, vpos := p.qualName("a selector value")
		if _, dup := s.Get(t.text); dup {
			p.errorf(t.pos, "selector %s given twice", t.text)
		}
		s.List = append(s.List, Selector{Key: t.text, Value: v, Pos: vpos})
		switch t.text {
		case "src":
			s.Src = v
		case "dst":
			s.Dst = v
		case "interface":
			s.Interface = v
		case "component":
			s.Component = v
		case "endpoint":
			s.Endpoint = v
		case "method":
			s.Method = v
		}
	}
}

// parseBlock parses `{ stmt... }`.
func (p *parser) parseBlock() []Stmt {
	p.nest()
	defer p.unnest()
	open := p.tok().pos
	p.expect("{")
	var body []Stmt
	for !p.is("}") {
		if t := p.tok(); t.kind == tEOF {
			p.errorf(t.pos, "unclosed { (opened at %d:%d): the file ends", open.Line, open.Col)
		}
		if t := p.tok(); p.startsDecl() {
			// A forgotten "}": say where the block opened, and leave the
			// declaration to the file's level, so what follows parses.
			p.errorf(t.pos, "unclosed { (opened at %d:%d): found %s, which starts a declaration", open.Line, open.Col, describe(t))
			return body
		}
		body = append(body, p.parseStmt())
	}
	p.next()
	return body
}

// startsDecl reports whether the current token begins a top-level
// declaration rather than a rule: an event kind, use, audit or policy, or
// assert with a test-set name (the assert rule takes a parenthesis).
func (p *parser) startsDecl() bool {
	t := p.tok()
	if t.kind != tIdent || p.peek(1).kind == tPunct && p.peek(1).text == "." {
		return false
	}
	switch t.text {
	case "execute", "request", "response", "error", "security", "use", "audit", "policy":
		return true
	case "assert":
		return p.peek(1).kind == tString
	}
	return false
}

func (p *parser) parseStmt() Stmt {
	t := p.tok()
	switch {
	case t.kind == tIdent && t.text == "match":
		p.next()
		m := &Match{Pos: t.pos}
		m.Sel = p.parseSelectors()
		if len(m.Sel.List) == 0 {
			p.errorf(p.tok().pos, "match needs at least one selector")
		}
		m.Body = p.parseBlock()
		return m
	case t.kind == tIdent && t.text == "choice":
		return p.parseChoice()
	}
	return p.parseRule()
}

func (p *parser) parseChoice() *Choice {
	c := &Choice{Pos: p.next().pos}
	p.expect("(")
	c.Expr = p.parseExpr()
	p.expect(")")
	p.expect("{")
	for !p.is("}") {
		a := &Alt{Pos: p.tok().pos}
		switch {
		case p.tok().kind == tString:
			a.Value = p.next().val
		case p.is("_"):
			p.next()
			a.Default = true
		default:
			p.errorf(p.tok().pos, "expected a string or _ as a choice alternative, found %s", describe(p.tok()))
		}
		p.expect(":")
		if p.is("{") {
			a.Body = p.parseBlock()
		} else {
			a.Body = []Stmt{p.parseStmt()}
		}
		c.Alts = append(c.Alts, a)
	}
	p.next()
	return c
}

func (p *parser) parseRule() *Rule {
	start := p.i
	t := p.ident("a rule")
	r := &Rule{Object: "base", Method: t.text, Pos: t.pos}
	switch t.text {
	case "grant", "deny":
		p.expect("(")
		p.expect(")")
	case "assert":
		p.expect("(")
		r.Args = []*Arg{{Value: p.parseExpr(), Pos: p.tok().pos}}
		p.expect(")")
	default:
		if !p.is(".") {
			p.errorf(t.pos, "expected a rule (grant, deny, assert or object.method {...}), found %s", describe(t))
		}
		p.next()
		r.Object = t.text
		r.Method = p.ident("a method name").text
		r.Args = p.parseArgs()
	}
	r.Text = p.text(start)
	return r
}

// parseArgs parses `{ name : expr, ... }`.
func (p *parser) parseArgs() []*Arg {
	p.expect("{")
	var args []*Arg
	for !p.is("}") {
		if len(args) > 0 {
			p.expect(",")
		}
		t := p.ident("an argument name")
		p.expect(":")
		args = append(args, &Arg{Name: t.text, Value: p.parseExpr(), Pos: t.pos})
	}
	p.next()
	return args
}
