package scenario

// BurntSushi/toml keeps key positions private and records array-of-table
// keys without their index, so the loader indexes positions itself: a small,
// lenient tokenizer walks the text (already accepted by the TOML parser) and
// maps every key path, with array indices, to the line and column where it
// was written. Paths join their parts with pathSep: "entity\x1f2\x1ftask".

import (
	"strconv"
	"strings"
)

const pathSep = "\x1f"

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNewline
	tokString // a quoted string; val is its unquoted text (escapes left as written)
	tokAtom   // a bare key, number, boolean or date
	tokPunct  // one of [ ] { } = ,
)

type token struct {
	kind      tokKind
	val       string
	line, col int
	off       int
}

// tokenize splits src into tokens, dropping comments and blanks.
func tokenize(src string) []token {
	var toks []token
	line, lineStart := 1, 0
	i := 0
	emit := func(k tokKind, val string, start int) {
		toks = append(toks, token{kind: k, val: val, line: line, col: start - lineStart + 1, off: start})
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			emit(tokNewline, "", i)
			i++
			line, lineStart = line+1, i
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			start, startLine, startCol := i, line, i-lineStart+1
			val, end := scanString(src, i)
			for j := i; j < end; j++ { // multi-line strings move the line count
				if src[j] == '\n' {
					line, lineStart = line+1, j+1
				}
			}
			toks = append(toks, token{kind: tokString, val: val, line: startLine, col: startCol, off: start})
			i = end
		case strings.IndexByte("[]{}=,", c) >= 0:
			emit(tokPunct, string(c), i)
			i++
		default:
			start := i
			for i < len(src) && strings.IndexByte(" \t\r\n#\"'[]{}=,", src[i]) < 0 {
				i++
			}
			emit(tokAtom, src[start:i], start)
		}
	}
	emit(tokEOF, "", i)
	return toks
}

// scanString scans the string starting at src[i] (a quote) and returns its
// content and the offset just past it. It never fails: an unterminated
// string runs to the end of the input.
func scanString(src string, i int) (string, int) {
	q := src[i]
	triple := strings.Repeat(string(q), 3)
	if strings.HasPrefix(src[i:], triple) {
		j := i + 3
		for j < len(src) {
			if q == '"' && src[j] == '\\' {
				j += 2
				continue
			}
			if strings.HasPrefix(src[j:], triple) {
				end := j + 3
				for k := 0; k < 2 && end < len(src) && src[end] == q; k++ {
					end++
				}
				return src[i+3 : end-3], end
			}
			j++
		}
		return src[min(i+3, len(src)):], len(src)
	}
	j := i + 1
	for j < len(src) && src[j] != q && src[j] != '\n' {
		if q == '"' && src[j] == '\\' {
			j++
		}
		j++
	}
	j = min(j, len(src))
	val := src[i+1 : j]
	if q == '"' {
		if u, err := strconv.Unquote(`"` + val + `"`); err == nil {
			val = u
		}
	}
	if j < len(src) && src[j] == q {
		j++
	}
	return val, j
}

// position is a line and column, both from 1.
type position struct{ line, col int }

// posIndex maps key paths (parts joined by pathSep) to where they were
// written.
type posIndex map[string]position

type indexer struct {
	toks  []token
	i     int
	idx   posIndex
	count map[string]int // elements so far of each array of tables, by path
}

// indexPositions indexes every key and array element of src.
func indexPositions(src string) posIndex {
	ix := &indexer{toks: tokenize(src), idx: posIndex{}, count: map[string]int{}}
	ix.document()
	return ix.idx
}

func (ix *indexer) peek() token { return ix.toks[ix.i] }

func (ix *indexer) next() token {
	t := ix.toks[ix.i]
	if t.kind != tokEOF {
		ix.i++
	}
	return t
}

func (ix *indexer) isPunct(s string) bool {
	t := ix.peek()
	return t.kind == tokPunct && t.val == s
}

func (ix *indexer) record(path []string, t token) {
	k := strings.Join(path, pathSep)
	if _, ok := ix.idx[k]; !ok {
		ix.idx[k] = position{t.line, t.col}
	}
}

func (ix *indexer) document() {
	var table []string
	for ix.peek().kind != tokEOF {
		t := ix.peek()
		switch {
		case t.kind == tokNewline || (t.kind == tokPunct && t.val != "["):
			ix.next()
		case t.kind == tokPunct: // a table header
			table = ix.header()
		default:
			ix.keyValue(table)
		}
	}
}

// header reads [a.b] or [[a.b]] and returns the table's indexed path.
func (ix *indexer) header() []string {
	open := ix.next()
	array := ix.isPunct("[") && ix.peek().off == open.off+1
	if array {
		ix.next()
	}
	parts := ix.key()
	for ix.isPunct("]") {
		ix.next()
	}
	var path []string
	for n, p := range parts {
		path = append(path, p)
		last := n == len(parts)-1
		k := strings.Join(path, pathSep)
		if last && array {
			ix.record(path, open)
			path = append(path, strconv.Itoa(ix.count[k]))
			ix.count[k]++
		} else if c, ok := ix.count[k]; ok && c > 0 {
			path = append(path, strconv.Itoa(c-1))
		}
	}
	ix.record(path, open)
	return path
}

// key reads a dotted key up to "=", "]" or the end of the line.
func (ix *indexer) key() []string {
	var parts []string
	for {
		t := ix.peek()
		switch t.kind {
		case tokString:
			parts = append(parts, t.val)
		case tokAtom:
			for _, p := range strings.Split(t.val, ".") {
				if p != "" {
					parts = append(parts, p)
				}
			}
		default:
			return parts
		}
		ix.next()
	}
}

func (ix *indexer) keyValue(table []string) {
	first := ix.peek()
	parts := ix.key()
	if len(parts) == 0 || !ix.isPunct("=") {
		ix.next() // not a key: skip the token
		return
	}
	ix.next()
	path := append(append([]string(nil), table...), parts...)
	for n := len(table) + 1; n <= len(path); n++ {
		ix.record(path[:n], first)
	}
	ix.value(path)
}

func (ix *indexer) skipNewlines() {
	for ix.peek().kind == tokNewline {
		ix.next()
	}
}

func (ix *indexer) value(path []string) {
	t := ix.next()
	switch {
	case t.kind == tokPunct && t.val == "[":
		ix.array(path)
	case t.kind == tokPunct && t.val == "{":
		ix.inlineTable(path)
	default: // a scalar; a date-time may span two atoms
		for ix.peek().kind == tokAtom || ix.peek().kind == tokString {
			ix.next()
		}
	}
}

func (ix *indexer) array(path []string) {
	for n := 0; ; n++ {
		ix.skipNewlines()
		for ix.isPunct(",") {
			ix.next()
			ix.skipNewlines()
		}
		t := ix.peek()
		if t.kind == tokEOF || (t.kind == tokPunct && (t.val == "]" || t.val == "}" || t.val == "=")) {
			ix.next()
			return
		}
		elem := append(append([]string(nil), path...), strconv.Itoa(n))
		ix.record(elem, t)
		ix.value(elem)
	}
}

func (ix *indexer) inlineTable(path []string) {
	for {
		ix.skipNewlines()
		for ix.isPunct(",") {
			ix.next()
			ix.skipNewlines()
		}
		t := ix.peek()
		if t.kind == tokEOF || (t.kind == tokPunct && t.val != "=") || t.kind == tokNewline {
			ix.next()
			return
		}
		parts := ix.key()
		if len(parts) == 0 || !ix.isPunct("=") {
			ix.next()
			continue
		}
		ix.next()
		full := append(append([]string(nil), path...), parts...)
		for n := len(path) + 1; n <= len(full); n++ {
			ix.record(full[:n], t)
		}
		ix.value(full)
	}
}
