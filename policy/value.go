package policy

import (
	"fmt"
	"math"
	"unsafe"

	"capsim/idl"
)

// vkind is the type of a policy value.
type vkind uint8

const (
	vInvalid vkind = iota
	vInt
	vBool
	vText
	vBytes
	vSID
	vComp // a struct, union, array or sequence of the message
	vList // a list literal (model arguments only)
	// vUBig is, at run time only, an integer of static type vInt read from
	// a UInt64 field above MaxInt64: n holds its bits. It compares
	// correctly; arithmetic and indexing with it are overflow errors.
	vUBig
)

var vkindNames = [...]string{"invalid", "integer", "Bool", "Text", "bytes", "SID", "composite", "list", "integer"}

func (k vkind) String() string { return vkindNames[k] }

// value is a policy value. It is a plain struct so that evaluating an
// expression allocates nothing: n holds integers, bools (0/1) and SIDs; s
// holds Text and bytes (a read-only view); ref holds composite message
// values (*idl.StructValue, *idl.UnionValue, []any).
type value struct {
	k   vkind
	n   int64
	s   string
	ref any
}

func intVal(n int64) value   { return value{k: vInt, n: n} }
func textVal(s string) value { return value{k: vText, s: s} }
func sidVal(s SID) value     { return value{k: vSID, n: int64(s)} }
func boolVal(b bool) value {
	if b {
		return value{k: vBool, n: 1}
	}
	return value{k: vBool}
}

func (v value) bool() bool { return v.n != 0 }
func (v value) sid() SID   { return SID(uint64(v.n)) }

// evalError is an expression error: it makes the rule that met it deny.
type evalError struct{ msg string }

func (e *evalError) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &evalError{msg: fmt.Sprintf(format, args...)}
}

// fromIDL converts a decoded message value to a policy value.
func fromIDL(v any, ev *Event) (value, error) {
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return value{k: vUBig, n: int64(x)}, nil
		}
		return intVal(int64(x)), nil
	case int64:
		return intVal(x), nil
	case bool:
		return boolVal(x), nil
	case string:
		return textVal(x), nil
	case []byte:
		return value{k: vBytes, s: unsafe.String(unsafe.SliceData(x), len(x))}, nil
	case idl.HandleSlot:
		if int(x) >= len(ev.HandleSIDs) {
			return value{}, errorf("handle slot %d has no SID (message carries %d handles)", x, len(ev.HandleSIDs))
		}
		return sidVal(ev.HandleSIDs[x]), nil
	case *idl.StructValue, *idl.UnionValue, []any:
		return value{k: vComp, ref: v}, nil
	case uint32:
		return intVal(int64(x)), nil
	case int32:
		return intVal(int64(x)), nil
	case uint16:
		return intVal(int64(x)), nil
	case int16:
		return intVal(int64(x)), nil
	case uint8:
		return intVal(int64(x)), nil
	case int8:
		return intVal(int64(x)), nil
	case int:
		return intVal(int64(x)), nil
	case nil:
		return value{}, errorf("missing value")
	}
	return value{}, errorf("unexpected message value of type %T", v)
}

// field reads a struct field or a union variant of a composite value.
func field(v value, name string, ev *Event) (value, error) {
	switch x := v.ref.(type) {
	case *idl.StructValue:
		if x == nil {
			return value{}, errorf("no message")
		}
		for i, f := range x.Type.Fields {
			if f.Name == name {
				if i >= len(x.Fields) {
					return value{}, errorf("field %s missing from the message", name)
				}
				return fromIDL(x.Fields[i], ev)
			}
		}
		return value{}, errorf("the message has no field %s", name)
	case *idl.UnionValue:
		if x.Tag < 0 || x.Tag >= len(x.Type.Fields) {
			return value{}, errorf("union tag %d out of range", x.Tag)
		}
		if got := x.Type.Fields[x.Tag].Name; got != name {
			return value{}, errorf("union variant %s is not set (%s is)", name, got)
		}
		return fromIDL(x.Value, ev)
	}
	return value{}, errorf("%s is not a struct or union", name)
}

// overflow is the error of arithmetic on an integer above MaxInt64.
func overflow(v value) error {
	return errorf("integer overflow: %d does not fit a 64-bit signed integer", uint64(v.n))
}

// index reads element i of an array or sequence.
func index(v value, i int64, ev *Event) (value, error) {
	l, ok := v.ref.([]any)
	if !ok {
		return value{}, errorf("indexing a value that is not a list")
	}
	if i < 0 || i >= int64(len(l)) {
		return value{}, errorf("index %d out of range [0, %d)", i, len(l))
	}
	return fromIDL(l[i], ev)
}

// size is the length of a sequence, array, string or bytes value.
func size(v value) (value, error) {
	switch v.k {
	case vText, vBytes:
		return intVal(int64(len(v.s))), nil
	case vComp:
		if l, ok := v.ref.([]any); ok {
			return intVal(int64(len(l))), nil
		}
	}
	return value{}, errorf("size of a value that is not a sequence, string or bytes")
}

// arith applies an integer operator with overflow checks.
func arith(op string, a, b int64) (int64, error) {
	switch op {
	case "+":
		r := a + b
		if (r > a) != (b > 0) {
			return 0, errorf("integer overflow: %d + %d", a, b)
		}
		return r, nil
	case "-":
		r := a - b
		if (r < a) != (b > 0) {
			return 0, errorf("integer overflow: %d - %d", a, b)
		}
		return r, nil
	case "*":
		if a == 0 || b == 0 {
			return 0, nil
		}
		r := a * b
		if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
			return 0, errorf("integer overflow: %d * %d", a, b)
		}
		return r, nil
	case "/", "%":
		if b == 0 {
			return 0, errorf("division by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return 0, errorf("integer overflow: %d %s %d", a, op, b)
		}
		if op == "/" {
			return a / b, nil
		}
		return a % b, nil
	}
	return 0, errorf("unknown operator %s", op)
}

// compare applies a comparison operator to two values of comparable kinds.
func compare(op string, a, b value) bool {
	var c int
	switch {
	case a.k == vUBig || b.k == vUBig:
		c = compareBig(a, b)
	case a.k == vText || a.k == vBytes:
		switch {
		case a.s < b.s:
			c = -1
		case a.s > b.s:
			c = 1
		}
	default:
		switch {
		case a.n < b.n:
			c = -1
		case a.n > b.n:
			c = 1
		}
	}
	return cmpResult(op, c)
}

// compareBig compares integers of which at least one is above MaxInt64.
func compareBig(a, b value) int {
	switch {
	case a.k == vUBig && b.k == vUBig:
		switch {
		case uint64(a.n) < uint64(b.n):
			return -1
		case uint64(a.n) > uint64(b.n):
			return 1
		}
		return 0
	case a.k == vUBig:
		return 1
	}
	return -1
}

// cmpResult turns a three-way comparison into the operator's result.
func cmpResult(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}
