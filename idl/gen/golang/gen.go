package golang

import (
	"bytes"
	"fmt"
	"go/format"
	"sort"
	"strings"

	"capsim/diag"
	"capsim/idl"
)

// generator writes the Go file of one IDL package.
type generator struct {
	pkg     *idl.Package
	base    string            // import path of the output root
	src     string            // the IDL file as the header names it
	body    bytes.Buffer      // everything after the imports
	std     map[string]bool   // standard and capsim imports in use
	idlPkgs map[string]string // IDL package name → import alias
	names   map[string]string // top-level Go names → what declared them
	errs    diag.List
	at      diag.Pos // where the IDL declares what is being generated, for errors
	dv      string   // the decoder variable of decode statements
}

// Generate returns the gofmt'd Go source for pkg. base is the import path
// of the output root (the other IDL packages are imported as base +
// "/" + PackageDir(name)); src is the IDL file the header names.
func Generate(pkg *idl.Package, base, src string) ([]byte, error) {
	g := &generator{
		pkg: pkg, base: base, src: src, std: map[string]bool{},
		idlPkgs: map[string]string{}, names: map[string]string{}, dv: "d",
		at: packagePos(pkg),
	}
	g.assignImports()
	g.consts()
	g.types()
	if pkg.Interface != nil {
		g.iface(pkg.Interface)
	}
	if len(g.errs) > 0 { // names IDL allows that Go cannot tell apart
		g.errs.Sort()
		return nil, g.errs
	}
	raw := g.assemble()
	out, err := format.Source(raw)
	if err != nil {
		return nil, fmt.Errorf("generate Go for %s: generated code does not parse: %w\n%s", pkg.Name, err, numbered(raw))
	}
	return out, nil
}

func numbered(src []byte) string {
	var b strings.Builder
	for i, line := range strings.Split(string(src), "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}

func (g *generator) p(format string, args ...any) {
	fmt.Fprintf(&g.body, format, args...)
	g.body.WriteByte('\n')
}

// fail reports a problem at g.at, the declaration being generated.
func (g *generator) fail(format string, args ...any) {
	g.errs.Addf(g.at, format, args...)
}

// declare claims a top-level Go name, reporting a clash.
func (g *generator) declare(name, what string) {
	if prev, ok := g.names[name]; ok {
		g.fail("Go name %s of %s clashes with %s; rename one", name, what, prev)
		return
	}
	g.names[name] = what
}

// use marks a standard or capsim import as needed and returns its name.
func (g *generator) use(path string) string {
	g.std[path] = true
	return path[strings.LastIndexByte(path, '/')+1:]
}

// assignImports gives every IDL package that pkg's types refer to an
// import alias, in sorted order so that output is deterministic.
func (g *generator) assignImports() {
	refs := map[string]bool{}
	var walk func(t *idl.Type)
	seen := map[*idl.Type]bool{}
	walk = func(t *idl.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		if owner := ownerOf(t); owner != "" && owner != g.pkg.Name {
			refs[owner] = true
			return
		}
		walk(t.Elem)
		for _, f := range t.Fields {
			walk(f.Type)
		}
	}
	for _, t := range g.pkg.Types {
		walk(t)
	}
	if it := g.pkg.Interface; it != nil {
		for _, m := range it.Methods {
			walk(m.In)
			walk(m.Out)
			walk(m.Err)
		}
	}
	taken := map[string]bool{"context": true, "errors": true, "fmt": true, "syscall": true, "ipc": true, "wire": true}
	for _, name := range sortedKeys(refs) {
		alias := packageName(name)
		for i := 2; taken[alias]; i++ {
			alias = fmt.Sprintf("%s%d", packageName(name), i)
		}
		taken[alias] = true
		g.idlPkgs[name] = alias
	}
}

// ownerOf returns the IDL package that declares a named struct or union.
func ownerOf(t *idl.Type) string {
	if t.Name == "" || t.Kind != idl.Struct && t.Kind != idl.Union {
		return ""
	}
	return t.Name[:strings.LastIndexByte(t.Name, '.')]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// goType is the Go type of an IDL type.
func (g *generator) goType(t *idl.Type) string {
	switch t.Kind {
	case idl.UInt8, idl.UInt16, idl.UInt32, idl.UInt64:
		return fmt.Sprintf("uint%d", 8*fixed[t.Kind])
	case idl.SInt8, idl.SInt16, idl.SInt32, idl.SInt64:
		return fmt.Sprintf("int%d", 8*fixed[t.Kind])
	case idl.Bool:
		return "bool"
	case idl.Handle:
		return g.use("capsim/ipc") + ".Slot"
	case idl.Bytes:
		return "[]byte"
	case idl.String:
		return "string"
	case idl.Array:
		return fmt.Sprintf("[%d]%s", t.Bound, g.goType(t.Elem))
	case idl.Sequence:
		return "[]" + g.goType(t.Elem)
	case idl.Struct, idl.Union:
		owner := ownerOf(t)
		if owner == "" {
			g.fail("anonymous %s type has no Go name", t.Kind)
			return "struct{}"
		}
		ident := exported(t.Name[len(owner)+1:])
		if owner == g.pkg.Name {
			return ident
		}
		return g.idlPkgs[owner] + "." + ident
	}
	g.fail("type %s has no Go form", idl.TypeString(t))
	return "struct{}"
}

var fixed = map[idl.Kind]int{
	idl.UInt8: 1, idl.UInt16: 2, idl.UInt32: 4, idl.UInt64: 8,
	idl.SInt8: 1, idl.SInt16: 2, idl.SInt32: 4, idl.SInt64: 8,
}

// assemble puts header, package clause, imports and body together.
func (g *generator) assemble() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by capsim idl gen from %s. DO NOT EDIT.\n\n", g.src)
	fmt.Fprintf(&b, "// Package %s is the Go binding of the IDL package %s: its types and\n", packageName(g.pkg.Name), g.pkg.Name)
	b.WriteString("// constants")
	if g.pkg.Interface != nil {
		b.WriteString(", a client proxy (Client), and the server side (Server,\n// NewDispatcher)")
	}
	b.WriteString(".\n")
	fmt.Fprintf(&b, "package %s\n\nimport (\n", packageName(g.pkg.Name))
	for _, path := range sortedKeys(g.std) {
		if !strings.Contains(path, "/") {
			fmt.Fprintf(&b, "\t%q\n", path)
		}
	}
	b.WriteString("\n")
	for _, path := range sortedKeys(g.std) {
		if strings.Contains(path, "/") {
			fmt.Fprintf(&b, "\t%q\n", path)
		}
	}
	for _, name := range sortedKeys(g.idlPkgs) {
		fmt.Fprintf(&b, "\t%s %q\n", g.idlPkgs[name], g.base+"/"+PackageDir(name))
	}
	b.WriteString(")\n\n")
	b.Write(g.body.Bytes())
	return b.Bytes()
}

func (g *generator) consts() {
	names := sortedKeys(g.pkg.Consts)
	if len(names) == 0 {
		return
	}
	g.p("// Constants of %s.", g.pkg.Name)
	g.p("const (")
	for _, n := range names {
		if g.at = g.pkg.ConstPos[n]; !g.at.IsValid() {
			g.at = packagePos(g.pkg)
		}
		g.declare(exported(n), "constant "+n)
		g.p("\t%s = %d", exported(n), g.pkg.Consts[n])
	}
	g.p(")\n")
}

// types writes the package's structs, unions and typedefs: own structs and
// unions in declaration order, then aliases by name.
func (g *generator) types() {
	var own, aliases []string
	for _, n := range sortedKeys(g.pkg.Types) {
		t := g.pkg.Types[n]
		if (t.Kind == idl.Struct || t.Kind == idl.Union) && t.Name == g.pkg.Name+"."+n {
			own = append(own, n)
		} else {
			aliases = append(aliases, n)
		}
	}
	sort.SliceStable(own, func(i, j int) bool {
		a, b := g.pkg.Types[own[i]].Pos, g.pkg.Types[own[j]].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	for _, n := range own {
		g.structType(n, g.pkg.Types[n])
	}
	for _, n := range aliases {
		g.at = g.pkg.Types[n].Pos
		g.declare(exported(n), "typedef "+n)
		g.p("// %s is the IDL typedef %s.%s.", exported(n), g.pkg.Name, n)
		g.p("type %s = %s\n", exported(n), g.goType(g.pkg.Types[n]))
	}
}

// fieldNames returns the Go names of fields, reporting clashes.
// reserved are the generated fields and methods of the type (Tag;
// EncodeIDL and DecodeIDL of structs and unions; Error and Unwrap of error
// types).
func (g *generator) fieldNames(fs []*idl.Field, owner string, reserved ...string) []string {
	seen := map[string]string{}
	for _, r := range reserved {
		seen[r] = "a generated field or method"
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = exported(f.Name)
		if prev, ok := seen[out[i]]; ok {
			g.errs.Addf(f.Pos, "%s: Go field name %s of %s clashes with %s; rename one", owner, out[i], f.Name, prev)
		}
		seen[out[i]] = f.Name
	}
	return out
}
