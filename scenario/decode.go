package scenario

// The decoder fills the schema types from the generic value tree that
// BurntSushi/toml parses, by reflection over their `toml` tags. Unlike
// toml.Decode into the structs it keeps going after an error, matches keys
// exactly (no case folding), reports every unknown key at its own element
// and line, and records where each element and key was written.

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"capsim/diag"
)

type decoder struct {
	file string
	idx  posIndex
	errs diag.List
}

type noder interface{ node() *Node }

// arrayTables are the top-level keys written as [[name]].
var arrayTables = map[string]bool{
	"entity": true, "host": true, "link": true, "forward": true,
	"egress": true, "expect": true, "property": true,
}

// pos returns where path was written, or where its closest written parent
// was.
func (d *decoder) pos(path []string) diag.Pos {
	for n := len(path); n > 0; n-- {
		if p, ok := d.idx[strings.Join(path[:n], pathSep)]; ok {
			return diag.Pos{File: d.file, Line: p.line, Col: p.col}
		}
	}
	return diag.Pos{File: d.file, Line: 1, Col: 1}
}

func (d *decoder) errorf(path []string, format string, args ...any) {
	d.errs.Addf(d.pos(path), format, args...)
}

// where names the table that holds path's last key: "[[entity]]",
// "[[entity]].limits", "certs"; "" at the top level.
func where(path []string) string {
	var b strings.Builder
	for i, p := range path[:max(len(path)-1, 0)] {
		if _, err := strconv.Atoi(p); err == nil {
			continue
		}
		switch {
		case i == 0 && arrayTables[p]:
			b.WriteString("[[" + p + "]]")
		case i == 0:
			b.WriteString(p)
		default:
			b.WriteString("." + p)
		}
	}
	return b.String()
}

// keyName is "key \"mtu\" in [[link]]" for messages about a value.
func keyName(path []string) string {
	if len(path) == 0 {
		return "the document"
	}
	last := path[len(path)-1]
	if _, err := strconv.Atoi(last); err == nil && len(path) > 1 {
		return fmt.Sprintf("element %s of key %q%s", last, path[len(path)-2], inWhere(path[:len(path)-1]))
	}
	return fmt.Sprintf("key %q%s", last, inWhere(path))
}

func inWhere(path []string) string {
	if w := where(path); w != "" {
		return " in " + w
	}
	return ""
}

func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %g", v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date-time"
}

func (d *decoder) typeErr(path []string, want string, v any) {
	d.errorf(path, "%s: want %s, got %s", keyName(path), want, tomlType(v))
}

func appendPath(path []string, parts ...string) []string {
	return append(append(make([]string, 0, len(path)+len(parts)), path...), parts...)
}

// decode stores v, found at path, in rv.
func (d *decoder) decode(path []string, v any, rv reflect.Value) {
	if d.leaf(path, v, rv) {
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if !d.tableLike(path, v, rv.Type().Elem()) {
			return // left nil: a wrong value is one error, not an empty table's
		}
		nv := reflect.New(rv.Type().Elem())
		d.decode(path, v, nv.Elem())
		rv.Set(nv)
	case reflect.Struct:
		d.table(path, v, rv)
	case reflect.Slice:
		d.slice(path, v, rv)
	case reflect.Map:
		d.stringMap(path, v, rv)
	case reflect.String:
		if s, ok := v.(string); ok {
			rv.SetString(s)
		} else {
			d.typeErr(path, "a string", v)
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			rv.SetBool(b)
		} else {
			d.typeErr(path, "true or false", v)
		}
	case reflect.Int, reflect.Int64:
		n, ok := v.(int64)
		switch {
		case !ok:
			d.typeErr(path, "an integer", v)
		case rv.OverflowInt(n):
			d.errorf(path, "%s: %d is out of range", keyName(path), n)
		default:
			rv.SetInt(n)
		}
	default:
		panic(fmt.Sprintf("scenario: no decoder for %s", rv.Type()))
	}
}

// leaf decodes the typed scalar values; it reports whether rv is one.
func (d *decoder) leaf(path []string, v any, rv reflect.Value) bool {
	var key string
	if len(path) > 0 {
		key = path[len(path)-1]
	}
	var err error
	switch p := rv.Addr().Interface().(type) {
	case *time.Duration:
		switch n := v.(type) {
		case int64, float64:
			d.errorf(path, "%s: want a duration string with its unit, such as \"%vs\", got %s", keyName(path), n, tomlType(v))
			return true
		}
		err = leafString(v, func(s string) (e error) {
			*p, e = ParseDuration(s, key == "not_after" || key == "not_before")
			return e
		})
	case *Size:
		d.size(path, v, p)
		return true
	case *Rate:
		err = leafString(v, func(s string) (e error) { *p, e = ParseRate(s); return e })
	case *Ratio:
		limit := 100.0
		if key == "cpu" {
			limit = 0
		}
		err = leafString(v, func(s string) (e error) { *p, e = ParseRatio(s, limit); return e })
	case *netip.Prefix:
		err = leafString(v, func(s string) (e error) {
			*p, e = netip.ParsePrefix(s)
			return addrErr(e, s, `an address with its prefix length, like "10.0.0.1/24"`)
		})
	case *netip.Addr:
		err = leafString(v, func(s string) (e error) {
			*p, e = netip.ParseAddr(s)
			return addrErr(e, s, `an IP address, like "10.0.0.254"`)
		})
	case *netip.AddrPort:
		err = leafString(v, func(s string) (e error) {
			*p, e = netip.ParseAddrPort(s)
			return addrErr(e, s, `IP:PORT, like "127.0.0.1:8443" or "[::1]:8443"`)
		})
	case *HostPort:
		err = leafString(v, func(s string) (e error) { *p, e = ParseHostPort(s); return e })
	case *Hex:
		err = leafString(v, func(s string) error {
			b, e := hex.DecodeString(strings.Join(strings.Fields(s), ""))
			if e != nil {
				return fmt.Errorf("bad hex %q", s)
			}
			*p = b
			return nil
		})
	default:
		return false
	}
	if err != nil {
		d.errorf(path, "%s: %v", keyName(path), err)
	}
	return true
}

// size decodes a size: bytes as an integer, or a string with a unit.
func (d *decoder) size(path []string, v any, p *Size) {
	switch n := v.(type) {
	case int64:
		if n < 0 {
			d.errorf(path, "%s: a size must not be negative, got %s", keyName(path), tomlType(v))
			return
		}
		*p = Size(n)
	case string:
		s, err := ParseSize(n)
		if err != nil {
			d.errorf(path, "%s: %v", keyName(path), err)
			return
		}
		*p = s
	default:
		d.typeErr(path, `a size (bytes as an integer, or a string such as "4MiB")`, v)
	}
}

func addrErr(err error, s, want string) error {
	if err != nil {
		return fmt.Errorf("bad address %q: want %s", s, want)
	}
	return nil
}

func leafString(v any, parse func(string) error) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want a string, got %s", tomlType(v))
	}
	return parse(s)
}

// table decodes a TOML table into the struct rv.
func (d *decoder) table(path []string, v any, rv reflect.Value) {
	// The position first: a value that is not a table still leaves an
	// element (of an array of tables) that validation reports errors on.
	n, hasNode := rv.Addr().Interface().(noder)
	if hasNode {
		n.node().Pos = d.pos(path)
		n.node().keys = map[string]diag.Pos{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.typeErr(path, "a table", v)
		return
	}
	t := rv.Type()
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			fields[tag] = i
			names = append(names, tag)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kp := appendPath(path, k)
		i, ok := fields[k]
		if !ok {
			d.errorf(kp, "unknown key %q%s%s", k, inWhere(kp), suggest(k, names))
			continue
		}
		if hasNode {
			n.node().keys[k] = d.pos(kp)
		}
		before := len(d.errs)
		d.decode(kp, m[k], rv.Field(i))
		if hasNode && len(d.errs) > before {
			if n.node().bad == nil {
				n.node().bad = map[string]bool{}
			}
			n.node().bad[k] = true
		}
	}
}

func (d *decoder) slice(path []string, v any, rv reflect.Value) {
	var elems []any
	switch v := v.(type) {
	case []any:
		elems = v
	case []map[string]any:
		for _, e := range v {
			elems = append(elems, e)
		}
	default:
		d.typeErr(path, "an array", v)
		return
	}
	out := reflect.MakeSlice(rv.Type(), 0, len(elems))
	for i, e := range elems {
		ep := appendPath(path, strconv.Itoa(i))
		if !d.tableLike(ep, e, rv.Type().Elem()) {
			continue // dropped: an element that is no table has no keys to check
		}
		before := len(d.errs)
		out = reflect.Append(out, reflect.Zero(rv.Type().Elem()))
		d.decode(ep, e, out.Index(out.Len()-1))
		if len(d.errs) > before && rv.Type().Elem().Kind() == reflect.String {
			out = out.Slice(0, out.Len()-1) // a bad name is reported once, not again as ""
		}
	}
	rv.Set(out)
}

// leafStructs are the struct types that decode from a string.
var leafStructs = map[reflect.Type]bool{
	reflect.TypeFor[netip.Prefix](): true, reflect.TypeFor[netip.Addr](): true,
	reflect.TypeFor[netip.AddrPort](): true, reflect.TypeFor[HostPort](): true,
}

// tableLike reports whether v may decode into type t: anything but a
// struct, or a table for a struct. It reports the type error otherwise.
func (d *decoder) tableLike(path []string, v any, t reflect.Type) bool {
	if t.Kind() != reflect.Struct || leafStructs[t] {
		return true
	}
	if _, ok := v.(map[string]any); ok {
		return true
	}
	d.typeErr(path, "a table", v)
	return false
}

// stringMap decodes a table of strings (env).
func (d *decoder) stringMap(path []string, v any, rv reflect.Value) {
	m, ok := v.(map[string]any)
	if !ok {
		d.typeErr(path, "a table", v)
		return
	}
	out := reflect.MakeMapWithSize(rv.Type(), len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			d.typeErr(appendPath(path, k), "a string", e)
			continue
		}
		out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(s))
	}
	rv.Set(out)
}
