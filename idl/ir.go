package idl

// This file is the contract between the IDL front end and its users (the
// kernel's validation, the policy compiler, the code generator, diagrams):
// the checked, resolved form of IDL, EDL and CDL files.

import (
	"capsim/diag"
)

// Kind is the kind of a type.
type Kind uint8

const (
	Invalid Kind = iota
	UInt8
	UInt16
	UInt32
	UInt64
	SInt8
	SInt16
	SInt32
	SInt64
	Bool
	Handle
	Bytes    // bytes<N>: at most N bytes
	String   // string<N>: at most N bytes of UTF-8
	Array    // array<T,N>: exactly N elements
	Sequence // sequence<T,N>: at most N elements
	Struct
	Union // tagged: the tag is the variant's index
)

// Type is a resolved type. Named types (struct, union, typedef'd) are shared
// pointers; a typedef resolves to the type it names, keeping Name.
type Type struct {
	Kind   Kind
	Name   string   // qualified name of a named type ("demo.Types.Point"); "" when anonymous
	Elem   *Type    // Array, Sequence
	Bound  int      // Bytes, String: max bytes; Array: exact count; Sequence: max count
	Fields []*Field // Struct: fields in order; Union: variants in order
	Pos    diag.Pos
}

// Field is a struct field, a union variant or a method parameter.
type Field struct {
	Name string
	Type *Type
	Pos  diag.Pos
}

// Method is one method of an interface. In, Out and Err are Struct types
// whose fields are the method's parameters of that direction (empty structs
// when there are none).
type Method struct {
	Name      string
	ID        int // MID: position from 0 in its interface
	In        *Type
	Out       *Type
	Err       *Type
	Pos       diag.Pos
	Interface *Interface
}

// Interface is the interface of an IDL package; its name is the package's.
type Interface struct {
	Name    string // "demo.Echo"
	Methods []*Method
	Pos     diag.Pos
}

// Package is one checked IDL file.
type Package struct {
	Name      string   // "demo.Echo"
	File      string   // the file it was read from, as positions print it
	Pos       diag.Pos // the name in the package clause
	Imports   []string
	Consts    map[string]int64
	ConstPos  map[string]diag.Pos // where each of Consts is declared
	Types     map[string]*Type
	Interface *Interface // nil when the package declares none
}

// Endpoint is a named interface instance served by an entity class.
type Endpoint struct {
	Name      string // "echo", or "comp.endpoint" through components
	ID        int    // RIID: position from 0 in the class's flattened endpoint list
	Interface *Interface
	Pos       diag.Pos
}

// Class is one checked EDL file (with its components flattened).
type Class struct {
	Name      string // "demo.EchoServer"
	File      string
	Endpoints []*Endpoint
	Security  *Interface // nil when the class declares none
	Pos       diag.Pos
}
