package idl

import "capsim/diag"

// The syntax tree that the parser produces and the checker consumes.

// fileKind says which language a source file is written in.
type fileKind uint8

const (
	kindIDL fileKind = iota + 1 // package ...
	kindEDL                     // task class ... (or entity ...)
	kindCDL                     // component ...
)

var fileKindExt = map[fileKind]string{kindIDL: ".idl", kindEDL: ".edl", kindCDL: ".cdl"}

// qname is a possibly qualified name (a.b.C) with its position.
type qname struct {
	Name string
	Pos  diag.Pos
}

// astFile is one parsed IDL, EDL or CDL file.
type astFile struct {
	Kind    fileKind
	Name    qname
	Imports []qname
	Decls   []astDecl
	Iface   *astInterface
	// ExtraIfaces are interfaces after the first, which the checker rejects.
	ExtraIfaces []*astInterface

	Endpoints  []astBinding // EDL, CDL
	Components []astBinding // EDL, CDL
	Security   *qname       // EDL
}

// astBinding is an EDL/CDL entry "name : a.b.C".
type astBinding struct {
	Name   string
	Pos    diag.Pos
	Target qname
}

// declKind is the kind of a named IDL declaration.
type declKind uint8

const (
	declConst declKind = iota + 1
	declTypedef
	declStruct
	declUnion
)

// astDecl is a const, typedef, struct or union.
type astDecl struct {
	Kind   declKind
	Name   string
	Pos    diag.Pos
	Type   astType    // const: its type; typedef: the type it names
	Value  astExpr    // const
	Fields []astField // struct, union
}

// astField is a struct field, union variant or method parameter.
type astField struct {
	Dir  string // parameters: "in", "out" or "error"
	Type astType
	Name string
	Pos  diag.Pos
}

// astType is a type expression: a name, or a generic with a bound.
type astType struct {
	Name  qname    // a named type, or the generic's keyword (bytes, string, array, sequence)
	Elem  *astType // array, sequence
	Bound astExpr  // bytes, string, array, sequence; nil for a named type
}

type astInterface struct {
	Pos     diag.Pos
	Methods []astMethod
}

type astMethod struct {
	Name   string
	Pos    diag.Pos
	Params []astField
}

// astExpr is an integer constant expression.
type astExpr interface{ exprPos() diag.Pos }

type (
	intLit struct {
		Text string
		Pos  diag.Pos
	}
	nameRef   struct{ qname }
	unaryExpr struct {
		Op  tokKind
		X   astExpr
		Pos diag.Pos
	}
	binaryExpr struct {
		Op   tokKind
		X, Y astExpr
		Pos  diag.Pos // the operator's
	}
)

func (e *intLit) exprPos() diag.Pos     { return e.Pos }
func (e *nameRef) exprPos() diag.Pos    { return e.Pos }
func (e *unaryExpr) exprPos() diag.Pos  { return e.Pos }
func (e *binaryExpr) exprPos() diag.Pos { return e.X.exprPos() }
