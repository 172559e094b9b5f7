package idl

// Decoded values. The wire codec (Decode, Encode) and the policy engine use
// one representation, by kind:
//
//	UInt8..UInt64   uint64
//	SInt8..SInt64   int64
//	Bool            bool
//	Handle          HandleSlot (an index into the message's handle slots)
//	Bytes           []byte
//	String          string
//	Array, Sequence []any
//	Struct          *StructValue
//	Union           *UnionValue

// HandleSlot is a Handle field's value: the index of the handle among the
// message's handle slots (package ipc), never a raw handle number.
type HandleSlot uint32

// StructValue is a struct value, or a method's parameters of one direction.
type StructValue struct {
	Type   *Type
	Fields []any // in the order of Type.Fields
}

// Get returns the named field's value.
func (s *StructValue) Get(name string) (any, bool) {
	for i, f := range s.Type.Fields {
		if f.Name == name {
			return s.Fields[i], true
		}
	}
	return nil, false
}

// UnionValue is a union value: the variant set and its value.
type UnionValue struct {
	Type  *Type
	Tag   int // index of the variant in Type.Fields
	Value any
}

// Variant returns the name of the variant set.
func (u *UnionValue) Variant() string { return u.Type.Fields[u.Tag].Name }
