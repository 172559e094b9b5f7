package idl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"capsim/idl/wire"
	"unicode/utf8"
)

// errPath collects, while a failed encode or decode unwinds, the names of
// the fields it was in (innermost first), so that the error can name the
// field ("peer.ip", "addrs[3].port") at no cost when nothing fails.
type errPath struct {
	msg    string
	failed bool
	path   []string
}

func (p *errPath) fail(msg string) {
	if !p.failed {
		p.failed, p.msg = true, msg
	}
}

// field notes that the failure happened inside the named field.
func (p *errPath) field(name string) { p.path = append(p.path, name) }

// elem notes that the failure happened inside element i.
func (p *errPath) elem(i int) { p.path = append(p.path, "["+strconv.Itoa(i)+"]") }

func (p *errPath) err() error {
	if !p.failed {
		return nil
	}
	if len(p.path) == 0 {
		return errors.New(p.msg)
	}
	var b strings.Builder
	b.WriteString("field ")
	for i := len(p.path) - 1; i >= 0; i-- {
		if i < len(p.path)-1 && p.path[i][0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(p.path[i])
	}
	return errors.New(b.String() + ": " + p.msg)
}

// Decode decodes a whole buffer as a value of t (see value.go for the
// representation). A Handle's slot index must be below nslots; trailing
// bytes are an error. It never panics and allocates no more than the bytes
// present justify.
func Decode(t *Type, b []byte, nslots int) (any, error) {
	return decode(wire.NewSlotDecoder(b, nslots), t)
}

// DecodeView is Decode whose bytes values alias b instead of copying it:
// for a caller that is done with the value before b changes, as the
// kernel's validation is.
func DecodeView(t *Type, b []byte, nslots int) (any, error) {
	d := wire.NewSlotDecoder(b, nslots)
	d.AliasBlobs()
	return decode(d, t)
}

func decode(d *wire.Decoder, t *Type) (any, error) {
	c := &decoder{d: d}
	v := c.value(t)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := c.d.Finish(); err != nil {
		return nil, err
	}
	return v, nil
}

type decoder struct {
	errPath
	d  *wire.Decoder
	sz *sizer // made on first use
}

// check records the wire decoder's error, if any.
func (c *decoder) check() bool {
	if c.failed {
		return false
	}
	if err := c.d.Err(); err != nil {
		c.fail(err.Error())
		return false
	}
	return true
}

func (c *decoder) minSize(t *Type) int {
	if int(t.Kind) < len(fixedSize) && fixedSize[t.Kind] > 0 {
		return fixedSize[t.Kind]
	}
	if c.sz == nil {
		c.sz = newSizer()
	}
	return c.sz.minSize(t)
}

func (c *decoder) value(t *Type) any {
	var v any
	switch t.Kind {
	case UInt8:
		v = uint64(c.d.Uint8(""))
	case UInt16:
		v = uint64(c.d.Uint16(""))
	case UInt32:
		v = uint64(c.d.Uint32(""))
	case UInt64:
		v = c.d.Uint64("")
	case SInt8:
		v = int64(c.d.Int8(""))
	case SInt16:
		v = int64(c.d.Int16(""))
	case SInt32:
		v = int64(c.d.Int32(""))
	case SInt64:
		v = c.d.Int64("")
	case Bool:
		v = c.d.Bool("")
	case Handle:
		v = HandleSlot(c.d.Slot(""))
	case Bytes:
		v = c.d.Blob(t.Bound, "")
	case String:
		v = c.d.String(t.Bound, "")
	case Array, Sequence:
		return c.list(t)
	case Struct:
		return c.structValue(t)
	case Union:
		return c.union(t)
	default:
		c.fail(fmt.Sprintf("type of kind %s cannot be decoded", t.Kind))
		return nil
	}
	if !c.check() {
		return nil
	}
	return v
}

func (c *decoder) list(t *Type) any {
	minElem := c.minSize(t.Elem)
	n := t.Bound
	if t.Kind == Sequence {
		n = c.d.Count(t.Bound, minElem, "")
	} else {
		c.d.Need(n, minElem, "")
	}
	if !c.check() {
		return nil
	}
	out := make([]any, n)
	for i := range out {
		if out[i] = c.value(t.Elem); c.failed {
			c.elem(i)
			return nil
		}
	}
	return out
}

func (c *decoder) structValue(t *Type) any {
	s := &StructValue{Type: t, Fields: make([]any, len(t.Fields))}
	for i, f := range t.Fields {
		if s.Fields[i] = c.value(f.Type); c.failed {
			c.field(f.Name)
			return nil
		}
	}
	return s
}

func (c *decoder) union(t *Type) any {
	tag := c.d.Uint32("")
	if !c.check() {
		return nil
	}
	if uint64(tag) >= uint64(len(t.Fields)) {
		c.fail(fmt.Sprintf("union tag %d out of range (%d variants)", tag, len(t.Fields)))
		return nil
	}
	f := t.Fields[tag]
	v := c.value(f.Type)
	if c.failed {
		c.field(f.Name)
		return nil
	}
	return &UnionValue{Type: t, Tag: int(tag), Value: v}
}

// Encode encodes v as a value of t, checking it against t's bounds.
func Encode(t *Type, v any) ([]byte, error) {
	e := &encoder{w: wire.NewEncoder(make([]byte, 0, 64)), write: true}
	e.value(t, v)
	if err := e.err(); err != nil {
		return nil, err
	}
	return e.w.Bytes(), nil
}

// Validate checks v against t as Encode would, without encoding it.
func Validate(t *Type, v any) error {
	e := &encoder{w: wire.NewEncoder(nil)}
	e.value(t, v)
	return e.err()
}

type encoder struct {
	errPath
	w     *wire.Encoder
	write bool // false: only validate
}

func (e *encoder) failf(format string, args ...any) { e.fail(fmt.Sprintf(format, args...)) }

func (e *encoder) value(t *Type, v any) {
	if e.failed {
		return
	}
	switch t.Kind {
	case UInt8, UInt16, UInt32, UInt64, SInt8, SInt16, SInt32, SInt64:
		e.integer(t, v)
	case Bool:
		b, ok := v.(bool)
		if !ok {
			e.failf("%s is not a Bool", describe(v))
		} else if e.write {
			e.w.Bool(b)
		}
	case Handle:
		h, ok := v.(HandleSlot)
		if !ok {
			e.failf("%s is not a Handle slot", describe(v))
		} else if e.write {
			e.w.Uint32(uint32(h))
		}
	case Bytes, String:
		e.blob(t, v)
	case Array, Sequence:
		e.list(t, v)
	case Struct:
		e.structValue(t, v)
	case Union:
		e.union(t, v)
	default:
		e.failf("type of kind %s cannot be encoded", t.Kind)
	}
}

func describe(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("value of Go type %T", v)
}

// integer accepts any Go integer that fits the kind.
func (e *encoder) integer(t *Type, v any) {
	var u uint64
	var neg bool
	switch x := v.(type) {
	case uint64:
		u = x
	case uint32:
		u = uint64(x)
	case uint16:
		u = uint64(x)
	case uint8:
		u = uint64(x)
	case uint:
		u = uint64(x)
	case int64:
		u, neg = uint64(x), x < 0
	case int32:
		u, neg = uint64(int64(x)), x < 0
	case int16:
		u, neg = uint64(int64(x)), x < 0
	case int8:
		u, neg = uint64(int64(x)), x < 0
	case int:
		u, neg = uint64(int64(x)), x < 0
	default:
		e.failf("%s is not an integer", describe(v))
		return
	}
	size := fixedSize[t.Kind]
	bits := uint(size * 8)
	signed := t.Kind >= SInt8
	switch {
	case !signed && neg:
		e.failf("%d is negative, not a %s", int64(u), t.Kind)
		return
	case !signed && bits < 64 && u >= 1<<bits:
		e.failf("%d overflows %s", u, t.Kind)
		return
	case signed && !neg && (u > math.MaxInt64 || bits < 64 && u >= 1<<(bits-1)):
		e.failf("%d overflows %s", u, t.Kind)
		return
	case signed && neg && bits < 64 && int64(u) < -(1<<(bits-1)):
		e.failf("%d overflows %s", int64(u), t.Kind)
		return
	}
	if !e.write {
		return
	}
	switch size {
	case 1:
		e.w.Uint8(uint8(u))
	case 2:
		e.w.Uint16(uint16(u))
	case 4:
		e.w.Uint32(uint32(u))
	default:
		e.w.Uint64(u)
	}
}

func (e *encoder) blob(t *Type, v any) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		if t.Kind == Bytes {
			b = []byte(x)
			break
		}
		if len(x) > t.Bound {
			e.failf("length %d exceeds bound %d", len(x), t.Bound)
		} else if !utf8.ValidString(x) {
			e.failf("string is not valid UTF-8")
		} else if e.write {
			e.w.String(x, t.Bound, "")
		}
		return
	default:
		e.failf("%s is not %s", describe(v), TypeString(t))
		return
	}
	if t.Kind == String {
		e.blob(t, string(b))
		return
	}
	if len(b) > t.Bound {
		e.failf("length %d exceeds bound %d", len(b), t.Bound)
	} else if e.write {
		e.w.Blob(b, t.Bound, "")
	}
}

func (e *encoder) list(t *Type, v any) {
	l, ok := v.([]any)
	if !ok && v != nil {
		e.failf("%s is not a list ([]any)", describe(v))
		return
	}
	switch {
	case t.Kind == Array && len(l) != t.Bound:
		e.failf("array has %d elements, want exactly %d", len(l), t.Bound)
		return
	case t.Kind == Sequence && len(l) > t.Bound:
		e.failf("count %d exceeds bound %d", len(l), t.Bound)
		return
	case t.Kind == Sequence && e.write:
		e.w.Uint32(uint32(len(l)))
	}
	for i, x := range l {
		if e.value(t.Elem, x); e.failed {
			e.elem(i)
			return
		}
	}
}

func (e *encoder) structValue(t *Type, v any) {
	s, ok := v.(*StructValue)
	if !ok || s == nil {
		e.failf("%s is not a struct value", describe(v))
		return
	}
	if len(s.Fields) != len(t.Fields) {
		e.failf("struct value has %d fields, %s has %d", len(s.Fields), TypeString(t), len(t.Fields))
		return
	}
	for i, f := range t.Fields {
		if e.value(f.Type, s.Fields[i]); e.failed {
			e.field(f.Name)
			return
		}
	}
}

func (e *encoder) union(t *Type, v any) {
	u, ok := v.(*UnionValue)
	if !ok || u == nil {
		e.failf("%s is not a union value", describe(v))
		return
	}
	if u.Tag < 0 || u.Tag >= len(t.Fields) {
		e.failf("union tag %d out of range (%d variants)", u.Tag, len(t.Fields))
		return
	}
	if e.write {
		e.w.Uint32(uint32(u.Tag))
	}
	f := t.Fields[u.Tag]
	if e.value(f.Type, u.Value); e.failed {
		e.field(f.Name)
	}
}

// Zero returns the zero value of t: zero numbers, empty bytes, strings and
// sequences, arrays and structs filled, unions set to their first variant.
func Zero(t *Type) any {
	switch t.Kind {
	case UInt8, UInt16, UInt32, UInt64:
		return uint64(0)
	case SInt8, SInt16, SInt32, SInt64:
		return int64(0)
	case Bool:
		return false
	case Handle:
		return HandleSlot(0)
	case Bytes:
		return []byte{}
	case String:
		return ""
	case Array:
		l := make([]any, t.Bound)
		for i := range l {
			l[i] = Zero(t.Elem)
		}
		return l
	case Sequence:
		return []any{}
	case Struct:
		s := &StructValue{Type: t, Fields: make([]any, len(t.Fields))}
		for i, f := range t.Fields {
			s.Fields[i] = Zero(f.Type)
		}
		return s
	case Union:
		if len(t.Fields) == 0 {
			return nil
		}
		return &UnionValue{Type: t, Value: Zero(t.Fields[0].Type)}
	}
	return nil
}
