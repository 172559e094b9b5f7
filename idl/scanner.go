package idl

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"capsim/diag"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tLBrace
	tRBrace
	tLParen
	tRParen
	tLT
	tGT
	tComma
	tSemi
	tColon
	tDot
	tAssign
	tAdd
	tSub
	tMul
	tQuo
	tRem
	tShl
	tShr
	tAnd
	tOr
	tPow
	tIllegal
)

var tokNames = [...]string{
	tEOF: "end of file", tIdent: "identifier", tInt: "integer",
	tLBrace: "'{'", tRBrace: "'}'", tLParen: "'('", tRParen: "')'",
	tLT: "'<'", tGT: "'>'", tComma: "','", tSemi: "';'", tColon: "':'",
	tDot: "'.'", tAssign: "'='", tAdd: "'+'", tSub: "'-'", tMul: "'*'",
	tQuo: "'/'", tRem: "'%'", tShl: "'<<'", tShr: "'>>'", tAnd: "'&'",
	tOr: "'|'", tPow: "'**'", tIllegal: "illegal character",
}

func (k tokKind) String() string { return tokNames[k] }

// token is one lexical token with its position.
type token struct {
	kind tokKind
	text string
	pos  diag.Pos
}

// describe names the token for an error message ("identifier foo").
func (t token) describe() string {
	switch t.kind {
	case tIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tInt:
		return "integer " + t.text
	case tIllegal:
		return fmt.Sprintf("illegal character %q", t.text)
	}
	return t.kind.String()
}

// scanner splits a source file into tokens. Errors go to errs.
type scanner struct {
	file string
	src  []byte
	off  int
	line int
	col  int
	errs *diag.List
}

func newScanner(file string, src []byte, errs *diag.List) *scanner {
	s := &scanner{file: file, src: src, line: 1, col: 1, errs: errs}
	if bytes.HasPrefix(src, utf8BOM) { // as editors on Windows write; Go skips it too
		s.off = len(utf8BOM)
	}
	return s
}

var utf8BOM = []byte("\uFEFF")

func (s *scanner) pos() diag.Pos { return diag.Pos{File: s.file, Line: s.line, Col: s.col} }

func (s *scanner) peekByte(k int) byte {
	if s.off+k < len(s.src) {
		return s.src[s.off+k]
	}
	return 0
}

func (s *scanner) advance() {
	if s.src[s.off] == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	s.off++
}

// skipSpace skips white space and comments.
func (s *scanner) skipSpace() {
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.advance()
		case c == '/' && s.peekByte(1) == '/':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.advance()
			}
		case c == '/' && s.peekByte(1) == '*':
			start := s.pos()
			s.advance()
			s.advance()
			for s.off < len(s.src) && (s.src[s.off] != '*' || s.peekByte(1) != '/') {
				s.advance()
			}
			if s.off >= len(s.src) {
				s.errs.Add(start, "comment not terminated")
				return
			}
			s.advance()
			s.advance()
		default:
			return
		}
	}
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

var twoCharOps = map[string]tokKind{"<<": tShl, ">>": tShr, "**": tPow}

var oneCharOps = map[byte]tokKind{
	'{': tLBrace, '}': tRBrace, '(': tLParen, ')': tRParen, '<': tLT, '>': tGT,
	',': tComma, ';': tSemi, ':': tColon, '.': tDot, '=': tAssign, '+': tAdd,
	'-': tSub, '*': tMul, '/': tQuo, '%': tRem, '&': tAnd, '|': tOr,
}

// next returns the next token.
func (s *scanner) next() token {
	s.skipSpace()
	p := s.pos()
	if s.off >= len(s.src) {
		return token{kind: tEOF, pos: p}
	}
	start := s.off
	c := s.src[s.off]
	switch {
	case isLetter(c) || s.wordRune(s.off):
		return s.ident(p)
	case isDigit(c):
		return s.number(p)
	}
	if s.off+1 < len(s.src) {
		if k, ok := twoCharOps[string(s.src[s.off:s.off+2])]; ok {
			s.advance()
			s.advance()
			return token{kind: k, text: string(s.src[start:s.off]), pos: p}
		}
	}
	if k, ok := oneCharOps[c]; ok {
		s.advance()
		return token{kind: k, text: string(c), pos: p}
	}
	s.advance()
	for s.off < len(s.src) && s.src[s.off]&0xC0 == 0x80 { // rest of a UTF-8 sequence
		s.advance()
	}
	t := token{kind: tIllegal, text: string(s.src[start:s.off]), pos: p}
	s.errs.Addf(p, "illegal character %q", t.text)
	return t
}

// wordRune reports whether a non-ASCII letter or digit starts at off:
// part of an identifier as an author sees it, which IDL does not allow.
func (s *scanner) wordRune(off int) bool {
	if off >= len(s.src) || s.src[off] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRune(s.src[off:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// ident scans an identifier. A word with non-ASCII letters (Größe) is one
// error, not one per letter, and still an identifier for the parser.
func (s *scanner) ident(p diag.Pos) token {
	start, ascii := s.off, true
	for s.off < len(s.src) {
		switch c := s.src[s.off]; {
		case isLetter(c) || isDigit(c):
			s.advance()
		case s.wordRune(s.off):
			ascii = false
			_, n := utf8.DecodeRune(s.src[s.off:])
			for range n { // columns count bytes, as in Go
				s.advance()
			}
		default:
			return s.identToken(p, string(s.src[start:s.off]), ascii)
		}
	}
	return s.identToken(p, string(s.src[start:s.off]), ascii)
}

func (s *scanner) identToken(p diag.Pos, text string, ascii bool) token {
	if !ascii {
		s.errs.Addf(p, "identifier %q is not ASCII: identifiers are ASCII letters, digits and '_'", text)
	}
	return token{kind: tIdent, text: text, pos: p}
}

// number scans a decimal or 0x-hexadecimal integer literal.
func (s *scanner) number(p diag.Pos) token {
	start := s.off
	digit := isDigit
	if s.src[s.off] == '0' && (s.peekByte(1) == 'x' || s.peekByte(1) == 'X') {
		s.advance()
		s.advance()
		digit = isHex
	}
	for s.off < len(s.src) && digit(s.src[s.off]) {
		s.advance()
	}
	for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
		s.advance()
		digit = nil
	}
	text := string(s.src[start:s.off])
	if digit == nil || text == "0x" || text == "0X" {
		s.errs.Addf(p, "malformed integer literal %q", text)
		return token{kind: tIllegal, text: text, pos: p}
	}
	return token{kind: tInt, text: text, pos: p}
}
