package policy

// The syntax tree of a policy file. It is exported so that static tools
// (capsim verify, diagrams) can read a compiled policy's bindings, rules and
// models without evaluating them.

import "capsim/diag"

// File is one parsed policy file.
type File struct {
	Path    string
	Src     string
	Header  string // "kl.core.Execute" from `execute: kl.core.Execute`, or ""
	Decls   []Decl
	Asserts []*TestSet
}

// Decl is a top-level declaration: *Use, *ObjectDecl, *AuditProfile,
// *AuditDefault or *Binding.
type Decl interface{ declPos() diag.Pos }

// Use is `use EDL a.b.C` (EDL true) or `use a.b.c._`.
type Use struct {
	EDL  bool
	Name string // "a.b.C" or "a.b.c" (without "._")
	Pos  diag.Pos
}

// ObjectDecl is `policy object NAME : Model { type ... config = ... }`.
type ObjectDecl struct {
	Name   string
	Model  string // "Flow", "HashSet", "StaticMap"
	Types  []*TypeDecl
	Config *Lit
	Pos    diag.Pos
}

// TypeDecl is `type Name = "a" | "b"` (States set) or `type Name = UInt32`.
type TypeDecl struct {
	Name   string
	Base   string   // a type name such as "UInt32" or "Text", or ""
	States []string // the strings of a union of string literals
	Pos    diag.Pos
}

// AuditProfile is `audit profile NAME = { LEVEL : { OBJECT : { kss : [...] } } }`.
type AuditProfile struct {
	Name  string
	Value *Lit
	Pos   diag.Pos
}

// AuditDefault is `audit default = NAME LEVEL`.
type AuditDefault struct {
	Profile string
	Level   int64
	Pos     diag.Pos
}

// Selector is one `key=value` of a binding, match section or test case.
type Selector struct {
	Key   string // src dst interface component endpoint method
	Value string
	Pos   diag.Pos
}

// Selectors are the selectors of a binding or match section; a field left
// empty matches anything.
type Selectors struct {
	Src, Dst, Interface, Component, Endpoint, Method string
	List                                             []Selector
}

// Get returns the selector with the given key, if present.
func (s *Selectors) Get(key string) (Selector, bool) {
	for _, x := range s.List {
		if x.Key == key {
			return x, true
		}
	}
	return Selector{}, false
}

// Binding is `KIND selectors { body }`.
type Binding struct {
	Kind EventKind
	Sel  Selectors
	Body []Stmt
	Pos  diag.Pos
}

// Stmt is a statement of a binding's body: *Match, *Choice or *Rule.
type Stmt interface{ stmtPos() diag.Pos }

// Match is a nested `match selectors { body }` section.
type Match struct {
	Sel  Selectors
	Body []Stmt
	Pos  diag.Pos
}

// Choice is `choice (expr) { "a" : ... _ : ... }`.
type Choice struct {
	Expr Expr
	Alts []*Alt
	Pos  diag.Pos
}

// Alt is one alternative of a choice; Default marks `_`.
type Alt struct {
	Value   string
	Default bool
	Body    []Stmt
	Pos     diag.Pos
}

// Rule is a call of a model rule: `grant ()`, `deny ()`, `assert (expr)`
// (Object "base") or `obj.method {args}`.
type Rule struct {
	Object string
	Method string
	Args   []*Arg // assert: one Arg named "" holding the expression
	Text   string // the rule as written
	Pos    diag.Pos
}

// Arg is `name : value` of a model call; Value is an Expr or, for lists,
// a *ListExpr.
type Arg struct {
	Name  string
	Value Expr
	Pos   diag.Pos
}

// Expr is an expression.
type Expr interface{ exprPos() diag.Pos }

// Expressions.
type (
	IntLit struct {
		Val int64
		Pos diag.Pos
	}
	BoolLit struct {
		Val bool
		Pos diag.Pos
	}
	StrLit struct {
		Val string
		Pos diag.Pos
	}
	ListExpr struct {
		Elems []Expr
		Pos   diag.Pos
	}
	// Name is `message`, `src_sid` or `dst_sid`.
	Name struct {
		Name string
		Pos  diag.Pos
	}
	// FieldExpr is `X.Field`: a struct field or a union variant.
	FieldExpr struct {
		X     Expr
		Field string
		Pos   diag.Pos
	}
	IndexExpr struct {
		X, Index Expr
		Pos      diag.Pos
	}
	UnaryExpr struct {
		Op  string
		X   Expr
		Pos diag.Pos
	}
	BinaryExpr struct {
		Op   string
		X, Y Expr
		Pos  diag.Pos
	}
	SizeExpr struct {
		X   Expr
		Pos diag.Pos
	}
	// CallExpr is a model expression: `obj.method {args}`.
	CallExpr struct {
		Object, Method string
		Args           []*Arg
		Pos            diag.Pos
	}
)

// Lit is a literal value of configuration, audit profiles and PAL
// messages: an integer, string, bool, identifier, list or record.
type Lit struct {
	Kind   LitKind
	Int    int64
	Str    string // string value or identifier
	Bool   bool
	List   []*Lit
	Fields []*LitField
	Pos    diag.Pos
}

// LitKind is the kind of a Lit.
type LitKind uint8

const (
	LitInt LitKind = iota + 1
	LitString
	LitBool
	LitIdent
	LitList
	LitRecord
)

// LitField is `key : value` of a record literal.
type LitField struct {
	Key   string
	Value *Lit
	Pos   diag.Pos
}

// Field returns the value of a record's field, or nil.
func (l *Lit) Field(key string) *Lit {
	for _, f := range l.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// TestSet is a PAL `assert "name" { setup {...} sequence "..." {...} finally {...} }`.
type TestSet struct {
	Name      string
	Setup     []*TestStep
	Sequences []*Sequence
	Finally   []*TestStep
	Pos       diag.Pos
}

// Sequence is one `sequence "name" { steps }`.
type Sequence struct {
	Name  string
	Steps []*TestStep
	Pos   diag.Pos
}

// TestStep is a PAL case: `x <- execute dst=C` (Bind set, Expect "grant"),
// `grant|deny|any ["name"] KIND selectors { fields }` or the shorthand
// `c ~> s : endpoint.Method { fields }`.
type TestStep struct {
	Bind    string
	Expect  string // grant, deny, any
	Name    string
	Kind    EventKind
	Sel     Selectors
	Message *Lit // a record, or nil
	Text    string
	Pos     diag.Pos
}

func (d *Use) declPos() diag.Pos          { return d.Pos }
func (d *ObjectDecl) declPos() diag.Pos   { return d.Pos }
func (d *AuditProfile) declPos() diag.Pos { return d.Pos }
func (d *AuditDefault) declPos() diag.Pos { return d.Pos }
func (d *Binding) declPos() diag.Pos      { return d.Pos }

func (s *Match) stmtPos() diag.Pos  { return s.Pos }
func (s *Choice) stmtPos() diag.Pos { return s.Pos }
func (s *Rule) stmtPos() diag.Pos   { return s.Pos }

func (e *IntLit) exprPos() diag.Pos     { return e.Pos }
func (e *BoolLit) exprPos() diag.Pos    { return e.Pos }
func (e *StrLit) exprPos() diag.Pos     { return e.Pos }
func (e *ListExpr) exprPos() diag.Pos   { return e.Pos }
func (e *Name) exprPos() diag.Pos       { return e.Pos }
func (e *FieldExpr) exprPos() diag.Pos  { return e.Pos }
func (e *IndexExpr) exprPos() diag.Pos  { return e.Pos }
func (e *UnaryExpr) exprPos() diag.Pos  { return e.Pos }
func (e *BinaryExpr) exprPos() diag.Pos { return e.Pos }
func (e *SizeExpr) exprPos() diag.Pos   { return e.Pos }
func (e *CallExpr) exprPos() diag.Pos   { return e.Pos }
