package policy

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"capsim/diag"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tString
	tPunct
)

// token is one lexical token. For tString, val holds the unquoted text;
// for tInt, num holds the value.
type token struct {
	kind tokKind
	text string
	val  string
	num  int64
	// minInt marks the literal 9223372036854775808 (num holds -1<<63): as
	// in Go, it is an integer only with a minus sign before it, which the
	// parser checks.
	minInt bool
	off    int // byte offset of the token in the source
	end    int // byte offset just after the token
	pos    diag.Pos
}

// puncts are the punctuation tokens, longest first.
var puncts = []string{
	"==>", "==", "!=", "<=", ">=", "<-", "&&", "||", "~>",
	"{", "}", "(", ")", "[", "]", ",", ":", "=", ".", "!", "<", ">",
	"+", "-", "*", "/", "%", "|",
}

// scanner turns a source file into tokens.
type scanner struct {
	file string
	src  string
	off  int
	line int
	col  int // column of src[off], from 1
	errs *diag.List
}

// scan returns the tokens of src, ending with a tEOF token. Errors go to
// errs; scanning goes on after them.
func scan(file, src string, errs *diag.List) []token {
	s := &scanner{file: file, src: src, line: 1, col: 1, errs: errs}
	if strings.HasPrefix(src, "\ufeff") { // a byte-order mark some editors write
		s.off = len("\ufeff")
	}
	toks := make([]token, 0, len(src)/8+1)
	for {
		t := s.next()
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks
		}
	}
}

func (s *scanner) pos() diag.Pos { return diag.Pos{File: s.file, Line: s.line, Col: s.col} }

// advance moves over n bytes, keeping line and column.
func (s *scanner) advance(n int) {
	for i := 0; i < n && s.off < len(s.src); i++ {
		if s.src[s.off] == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
		s.off++
	}
}

// skipSpace skips white space and comments.
func (s *scanner) skipSpace() {
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			s.advance(1)
		case strings.HasPrefix(s.src[s.off:], "//"):
			i := strings.IndexByte(s.src[s.off:], '\n')
			if i < 0 {
				i = len(s.src) - s.off
			}
			s.advance(i)
		case strings.HasPrefix(s.src[s.off:], "/*"):
			p := s.pos()
			i := strings.Index(s.src[s.off+2:], "*/")
			if i < 0 {
				s.errs.Add(p, "comment not terminated")
				s.advance(len(s.src) - s.off)
				return
			}
			s.advance(i + 4)
		default:
			return
		}
	}
}

func isLetter(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (s *scanner) next() token {
	for {
		if t, ok := s.token(); ok {
			return t
		}
	}
}

// token scans one token; it reports false after skipping a character
// that starts none.
func (s *scanner) token() (token, bool) {
	s.skipSpace()
	t := token{pos: s.pos(), off: s.off}
	if s.off >= len(s.src) {
		t.end = s.off
		return t, true
	}
	c := s.src[s.off]
	switch {
	case isLetter(c):
		n := 1
		for s.off+n < len(s.src) && (isLetter(s.src[s.off+n]) || isDigit(s.src[s.off+n])) {
			n++
		}
		t.kind, t.text = tIdent, s.src[s.off:s.off+n]
		s.advance(n)
	case isDigit(c):
		s.scanInt(&t)
	case c == '"':
		s.scanString(&t)
	default:
		for _, p := range puncts {
			if strings.HasPrefix(s.src[s.off:], p) {
				t.kind, t.text = tPunct, p
				s.advance(len(p))
				t.end = s.off
				return t, true
			}
		}
		r, n := utf8.DecodeRuneInString(s.src[s.off:])
		s.errs.Addf(t.pos, "unexpected character %q", r)
		s.advance(n)
		return t, false
	}
	t.end = s.off
	return t, true
}

func (s *scanner) scanInt(t *token) {
	n := 0
	for s.off+n < len(s.src) && (isLetter(s.src[s.off+n]) || isDigit(s.src[s.off+n])) {
		n++
	}
	t.kind, t.text = tInt, s.src[s.off:s.off+n]
	s.advance(n)
	var err error
	if len(t.text) > 2 && (t.text[:2] == "0x" || t.text[:2] == "0X") {
		var u uint64
		u, err = strconv.ParseUint(t.text[2:], 16, 64)
		if err == nil && u > 1<<63-1 {
			err = strconv.ErrRange
		}
		t.num = int64(u)
	} else {
		t.num, err = strconv.ParseInt(t.text, 10, 64)
	}
	if err != nil && t.text == "9223372036854775808" {
		t.num, t.minInt, err = math.MinInt64, true, nil
	}
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange || err == strconv.ErrRange {
			s.errs.Addf(t.pos, "integer %s overflows a 64-bit signed integer", t.text)
		} else {
			s.errs.Addf(t.pos, "malformed integer %s", t.text)
		}
	}
}

func (s *scanner) scanString(t *token) {
	n := 1
	for {
		if s.off+n >= len(s.src) || s.src[s.off+n] == '\n' {
			s.errs.Add(t.pos, "string not terminated")
			t.kind, t.text = tString, s.src[s.off:s.off+n]
			s.advance(n)
			return
		}
		c := s.src[s.off+n]
		if c == '\\' && s.off+n+1 < len(s.src) {
			n += 2
			continue
		}
		n++
		if c == '"' {
			break
		}
	}
	t.kind, t.text = tString, s.src[s.off:s.off+n]
	s.advance(n)
	v, err := strconv.Unquote(t.text)
	if err != nil {
		s.errs.Addf(t.pos, "malformed string %s", t.text)
	}
	t.val = v
}
