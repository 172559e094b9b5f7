package idl

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"capsim/diag"
)

// builtinKinds maps the names of the built-in scalar types to their kinds.
var builtinKinds = map[string]Kind{
	"UInt8": UInt8, "UInt16": UInt16, "UInt32": UInt32, "UInt64": UInt64,
	"SInt8": SInt8, "SInt16": SInt16, "SInt32": SInt32, "SInt64": SInt64,
	"Bool": Bool, "Handle": Handle,
}

var genericKinds = map[string]Kind{"bytes": Bytes, "string": String, "array": Array, "sequence": Sequence}

var kindNames = map[Kind]string{
	Bytes: "bytes", String: "string", Array: "array", Sequence: "sequence", Struct: "struct", Union: "union",
}

func (k Kind) String() string {
	for name, kk := range builtinKinds {
		if kk == k {
			return name
		}
	}
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Declaration states during checking, for cycle detection.
const (
	stateNew uint8 = iota
	stateBusy
	stateDone
)

// checker turns one parsed IDL file into a Package.
type checker struct {
	f       *astFile
	pkg     *Package
	errs    *diag.List
	imports map[string]*Package
	decls   map[string]*astDecl
	state   map[string]uint8
	maxMsg  int
	sizes   *sizer

	depth   int           // declarations being resolved inside one another
	tooDeep bool          // depth went past maxNesting once (reported once)
	depths  map[*Type]int // typeDepth, remembered
}

// checkIDL checks f, whose imports are already loaded (a missing one is
// absent from imports and was reported), and returns the package.
func checkIDL(f *astFile, file string, imports map[string]*Package, maxMsg int, errs *diag.List) *Package {
	c := &checker{
		f: f, errs: errs, imports: imports, maxMsg: maxMsg, sizes: newSizer(),
		pkg: &Package{
			Name: f.Name.Name, File: file, Pos: f.Name.Pos,
			Consts: map[string]int64{}, ConstPos: map[string]diag.Pos{}, Types: map[string]*Type{},
		},
		decls: map[string]*astDecl{}, state: map[string]uint8{}, depths: map[*Type]int{},
	}
	for _, imp := range f.Imports {
		if !contains(c.pkg.Imports, imp.Name) {
			c.pkg.Imports = append(c.pkg.Imports, imp.Name)
		}
	}
	c.collect()
	for i := range f.Decls {
		c.resolveDecl(&f.Decls[i])
	}
	for _, it := range f.ExtraIfaces {
		errs.Addf(it.Pos, "second interface in package %s: a package declares at most one", c.pkg.Name)
	}
	if f.Iface != nil {
		c.pkg.Interface = c.iface(f.Iface)
	}
	return c.pkg
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// collect enters every declaration's name, rejecting duplicates.
func (c *checker) collect() {
	for i := range c.f.Decls {
		d := &c.f.Decls[i]
		if _, ok := builtinKinds[d.Name]; ok || genericKinds[d.Name] != 0 {
			c.errs.Addf(d.Pos, "%s is the name of a built-in type", d.Name)
			continue
		}
		if prev, ok := c.decls[d.Name]; ok {
			c.errs.Addf(d.Pos, "%s redeclared in package %s (first declared at %s)", d.Name, c.pkg.Name, prev.Pos)
			continue
		}
		c.decls[d.Name] = d
	}
}

// resolveDecl checks a declaration once, on first use or in order.
func (c *checker) resolveDecl(d *astDecl) {
	if c.decls[d.Name] != d || c.state[d.Name] == stateDone {
		return
	}
	if c.state[d.Name] == stateBusy {
		return // a cycle; reported where it closes
	}
	c.state[d.Name] = stateBusy
	defer func() { c.state[d.Name] = stateDone }()
	if c.depth++; c.depth > maxNesting {
		if !c.tooDeep {
			c.errs.Addf(d.Pos, "%s is reached through more than %d declarations that each use one declared after it: declare names before their use", d.Name, maxNesting)
		}
		c.tooDeep = true
	}
	defer func() { c.depth-- }()
	if c.depth > maxNesting {
		return // unresolved: its users fail quietly
	}
	switch d.Kind {
	case declConst:
		c.constDecl(d)
	case declTypedef:
		if t := c.typ(d.Type); t != nil {
			c.pkg.Types[d.Name] = c.typedef(d, t)
		}
	case declStruct, declUnion:
		c.structDecl(d)
	}
}

func (c *checker) typedef(d *astDecl, t *Type) *Type {
	if t.Kind == Struct || t.Kind == Union {
		return t // an alias of a named type: the same type
	}
	cp := *t
	cp.Name = c.pkg.Name + "." + d.Name
	cp.Pos = d.Pos
	return &cp
}

func (c *checker) constDecl(d *astDecl) {
	t := c.typ(d.Type)
	if t == nil {
		return
	}
	lo, hi, ok := intRange(t.Kind)
	if !ok {
		c.errs.Addf(d.Type.Name.Pos, "constant %s has type %s: constants are integers", d.Name, TypeString(t))
		return
	}
	v, ok := eval(d.Value, c.lookupConst, c.errs)
	if !ok {
		return
	}
	if bv := big.NewInt(v); bv.Cmp(lo) < 0 || bv.Cmp(hi) > 0 {
		c.errs.Addf(d.Value.exprPos(), "constant %d overflows %s", v, TypeString(t))
		return
	}
	c.pkg.Consts[d.Name] = v
	c.pkg.ConstPos[d.Name] = d.Pos
}

// lookupConst resolves a constant for eval, reporting what is wrong.
func (c *checker) lookupConst(q qname) (int64, bool) {
	pkg, name, ok := c.resolveQualified(q, "constant")
	if !ok {
		return 0, false
	}
	if pkg != nil {
		if v, ok := pkg.Consts[name]; ok {
			return v, true
		}
		c.errs.Addf(q.Pos, "undefined: constant %s%s", q.Name, suggest(name, keysOf(pkg.Consts)))
		return 0, false
	}
	d, ok := c.decls[name]
	if !ok {
		c.errs.Addf(q.Pos, "undefined: constant %s%s", q.Name, suggest(name, c.localNames()))
		return 0, false
	}
	if d.Kind != declConst {
		c.errs.Addf(q.Pos, "%s is a type, not a constant", q.Name)
		return 0, false
	}
	if c.state[name] == stateBusy {
		c.errs.Addf(q.Pos, "constant %s refers to itself", name)
		return 0, false
	}
	c.resolveDecl(d)
	v, ok := c.pkg.Consts[name]
	return v, ok
}

// splitName splits "a.b.C.Name" into an imported package and "Name"; a
// plain name, or one qualified by the package itself, gives a nil package.
func (c *checker) splitName(full string) (*Package, string) {
	i := strings.LastIndexByte(full, '.')
	if i < 0 || full[:i] == c.pkg.Name {
		return nil, full[i+1:]
	}
	return c.imports[full[:i]], full[i+1:]
}

// resolveQualified checks the package part of a qualified name.
func (c *checker) resolveQualified(q qname, what string) (*Package, string, bool) {
	i := strings.LastIndexByte(q.Name, '.')
	if i < 0 || q.Name[:i] == c.pkg.Name {
		return nil, q.Name[i+1:], true
	}
	prefix := q.Name[:i]
	if p, ok := c.imports[prefix]; ok {
		return p, q.Name[i+1:], true
	}
	if contains(c.pkg.Imports, prefix) {
		return nil, "", false // the import failed and was reported
	}
	for _, imp := range c.pkg.Imports {
		if strings.HasSuffix(imp, "."+prefix) { // Tiny.S for x.Tiny.S: names are qualified in full
			c.errs.Addf(q.Pos, "undefined: %s %s: package %s is not imported (did you mean %s.%s?)", what, q.Name, prefix, imp, q.Name[i+1:])
			return nil, "", false
		}
	}
	c.errs.Addf(q.Pos, "undefined: %s %s: package %s is not imported (add \"import %s\")", what, q.Name, prefix, prefix)
	return nil, "", false
}

func (c *checker) localNames() []string {
	var out []string
	for n := range c.decls {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
