package idl

import (
	"fmt"

	"capsim/diag"
)

// maxSyntaxErrors caps the syntax errors reported for one file.
const maxSyntaxErrors = 10

// bailout unwinds the parser out of a declaration after a syntax error.
type bailout struct{}

// parser builds an astFile from tokens, one token of look-ahead.
type parser struct {
	sc   *scanner
	tok  token
	prev token
	errs *diag.List
	n    int // syntax errors so far

	pending *token // the second half of a split '>>'

	// depth counts the type expressions, parentheses and operators being
	// parsed inside one another, so that a hostile file ends in an error,
	// not in a stack overflow of the parser or of the passes after it.
	depth int
}

// maxNesting bounds the parser's depth, and how deep the checker follows
// declarations that refer to one another and types that contain types.
const maxNesting = 1000

// nest enters one level of nesting; the caller leaves it with unnest.
func (p *parser) nest() {
	p.depth++
	if p.depth > maxNesting {
		p.fail(p.tok.pos, "nested more than %d levels deep", maxNesting)
	}
}

func (p *parser) unnest() { p.depth-- }

// parseFile parses an IDL, EDL or CDL source. It returns the tree (possibly
// partial) and adds every syntax error to errs.
func parseFile(file string, src []byte, errs *diag.List) *astFile {
	p := &parser{sc: newScanner(file, src, errs), errs: errs}
	p.next()
	f := &astFile{}
	p.guard(func() { p.header(f) })
	if f.Kind == 0 {
		return f
	}
	for p.tok.kind != tEOF && p.n < maxSyntaxErrors {
		p.guard(func() { p.topLevel(f) })
	}
	return f
}

// guard runs fn; after a syntax error it skips to where a new top-level
// declaration may start.
func (p *parser) guard(fn func()) {
	p.depth = 0 // a bailout leaves the levels it was in
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			p.sync()
		}
	}()
	fn()
}

var topKeywords = map[string]bool{
	"import": true, "const": true, "typedef": true, "struct": true, "union": true,
	"interface": true, "endpoints": true, "interfaces": true, "components": true, "security": true,
}

// sync skips tokens up to the next top-level keyword that starts a line.
func (p *parser) sync() {
	for p.tok.kind != tEOF {
		line := p.tok.pos.Line
		p.next()
		if p.tok.kind == tIdent && topKeywords[p.tok.text] && p.tok.pos.Line > line {
			return
		}
	}
}

func (p *parser) next() {
	p.prev = p.tok
	if p.pending != nil {
		p.tok, p.pending = *p.pending, nil
		return
	}
	p.tok = p.sc.next()
}

// fail records a syntax error at pos and abandons the declaration.
func (p *parser) fail(pos diag.Pos, format string, args ...any) {
	p.n++
	p.errs.Addf(pos, format, args...)
	panic(bailout{})
}

// failExpected reports that what was found is not what was expected. An
// illegal character was already reported by the scanner.
func (p *parser) failExpected(what string) {
	if p.tok.kind == tIllegal {
		p.n++
		panic(bailout{})
	}
	p.fail(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

func (p *parser) expect(k tokKind) token {
	if p.tok.kind != k && !p.splitShr(k) {
		p.failExpected(k.String())
	}
	t := p.tok
	p.next()
	return t
}

// splitShr turns a '>>' into two '>' when a '>' is expected, as in
// sequence<array<UInt8,4>,2>> written by an author who closes two generics.
func (p *parser) splitShr(k tokKind) bool {
	if k != tGT || p.tok.kind != tShr {
		return false
	}
	second := token{kind: tGT, text: ">", pos: p.tok.pos}
	second.pos.Col++
	p.tok = token{kind: tGT, text: ">", pos: p.tok.pos}
	p.pending = &second
	return true
}

// keyword reports whether the current token is the identifier kw.
func (p *parser) keyword(kw string) bool { return p.tok.kind == tIdent && p.tok.text == kw }

func (p *parser) expectKeyword(kw string) {
	if !p.keyword(kw) {
		p.failExpected(fmt.Sprintf("%q", kw))
	}
	p.next()
}

func (p *parser) optSemi() {
	if p.tok.kind == tSemi {
		p.next()
	}
}

func (p *parser) ident(what string) token {
	if p.tok.kind != tIdent {
		p.failExpected(what)
	}
	t := p.tok
	p.next()
	return t
}

// qualified parses a dotted name a.b.C.
func (p *parser) qualified(what string) qname {
	t := p.ident(what)
	q := qname{Name: t.text, Pos: t.pos}
	for p.tok.kind == tDot {
		p.next()
		q.Name += "." + p.ident("identifier after '.'").text
	}
	return q
}

// header parses the first declaration, which says the file's language.
func (p *parser) header(f *astFile) {
	switch {
	case p.keyword("package"):
		p.next()
		f.Kind = kindIDL
	case p.keyword("task"):
		p.next()
		p.expectKeyword("class")
		f.Kind = kindEDL
	case p.keyword("entity"):
		p.next()
		f.Kind = kindEDL
	case p.keyword("component"):
		p.next()
		f.Kind = kindCDL
	default:
		p.failExpected(`"package", "task class", "entity" or "component"`)
	}
	f.Name = p.qualified("name")
	p.optSemi()
}

// topLevel parses one declaration after the header.
func (p *parser) topLevel(f *astFile) {
	if p.tok.kind == tSemi { // a stray ';' between declarations
		p.next()
		return
	}
	if f.Kind == kindIDL {
		p.idlDecl(f)
		return
	}
	p.edlSection(f)
}

func (p *parser) edlSection(f *astFile) {
	switch {
	case p.keyword("endpoints") || p.keyword("interfaces"):
		p.next()
		f.Endpoints = append(f.Endpoints, p.bindings()...)
	case p.keyword("components"):
		p.next()
		f.Components = append(f.Components, p.bindings()...)
	case p.keyword("security") && f.Kind == kindEDL:
		pos := p.tok.pos
		p.next()
		if f.Security != nil {
			p.fail(pos, "security interface declared twice")
		}
		q := p.qualified("security interface name")
		f.Security = &q
		p.optSemi()
	default:
		want := `"endpoints", "components" or "security"`
		if f.Kind == kindCDL {
			want = `"endpoints" or "components"`
		}
		p.failExpected(want)
	}
}

// bindings parses "{ name : a.b.C ... }", one entry per line.
func (p *parser) bindings() []astBinding {
	p.expect(tLBrace)
	var out []astBinding
	for p.tok.kind != tRBrace {
		if len(out) > 0 && p.prev.kind != tSemi && p.tok.pos.Line == p.prev.pos.Line {
			p.failExpected("';' or a new line")
		}
		name := p.ident("entry name")
		p.expect(tColon)
		out = append(out, astBinding{Name: name.text, Pos: name.pos, Target: p.qualified("interface or component name")})
		p.optSemi()
	}
	p.next()
	return out
}
