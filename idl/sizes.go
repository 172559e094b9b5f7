package idl

import "math"

// Encoded sizes of types. Arithmetic saturates at math.MaxInt so that
// absurd bounds compare as "too large" instead of wrapping.

// fixedSize is the encoded size of the fixed-width kinds (0 for the others).
var fixedSize = [...]int{
	UInt8: 1, UInt16: 2, UInt32: 4, UInt64: 8,
	SInt8: 1, SInt16: 2, SInt32: 4, SInt64: 8,
	Bool: 1, Handle: 4,
}

// lenSize is the size of the u32 length, count or tag of bytes, string,
// sequence and union.
const lenSize = 4

func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// sizer computes sizes, remembering named types so that shared types cost
// once.
type sizer struct {
	max, min map[*Type]int
}

func newSizer() *sizer { return &sizer{max: map[*Type]int{}, min: map[*Type]int{}} }

// MaxSize returns the largest encoding of a value of t, in bytes
// (math.MaxInt when it does not fit an int).
func MaxSize(t *Type) int { return newSizer().maxSize(t) }

// MinSize returns the smallest encoding of a value of t, in bytes.
func MinSize(t *Type) int { return newSizer().minSize(t) }

func (s *sizer) maxSize(t *Type) int {
	if n, ok := s.max[t]; ok {
		return n
	}
	n := 0
	switch t.Kind {
	case Bytes, String:
		n = satAdd(lenSize, t.Bound)
	case Array:
		n = satMul(t.Bound, s.maxSize(t.Elem))
	case Sequence:
		n = satAdd(lenSize, satMul(t.Bound, s.maxSize(t.Elem)))
	case Struct:
		for _, f := range t.Fields {
			n = satAdd(n, s.maxSize(f.Type))
		}
	case Union:
		for _, f := range t.Fields {
			n = max(n, s.maxSize(f.Type))
		}
		n = satAdd(lenSize, n)
	default:
		n = kindSize(t.Kind)
	}
	s.max[t] = n
	return n
}

func (s *sizer) minSize(t *Type) int {
	if n, ok := s.min[t]; ok {
		return n
	}
	n := 0
	switch t.Kind {
	case Bytes, String, Sequence:
		n = lenSize
	case Array:
		n = satMul(t.Bound, s.minSize(t.Elem))
	case Struct:
		for _, f := range t.Fields {
			n = satAdd(n, s.minSize(f.Type))
		}
	case Union:
		n = math.MaxInt
		for _, f := range t.Fields {
			n = min(n, s.minSize(f.Type))
		}
		if len(t.Fields) == 0 {
			n = 0
		}
		n = satAdd(lenSize, n)
	default:
		n = kindSize(t.Kind)
	}
	s.min[t] = n
	return n
}

// kindSize is fixedSize[k], or 0 for a kind beyond the table.
func kindSize(k Kind) int {
	if int(k) < len(fixedSize) {
		return fixedSize[k]
	}
	return 0
}
