package golang

import (
	"fmt"

	"capsim/idl"
)

// structType writes a struct or union type with its EncodeIDL and
// DecodeIDL methods.
func (g *generator) structType(n string, t *idl.Type) {
	name := exported(n)
	g.at = t.Pos
	g.declare(name, "type "+n)
	if t.Kind == idl.Union {
		g.unionType(name, t)
		return
	}
	names := g.fieldNames(t.Fields, t.Name, "EncodeIDL", "DecodeIDL")
	g.p("// %s is the IDL struct %s.", name, t.Name)
	g.p("type %s struct {", name)
	for i, f := range t.Fields {
		g.p("\t%s %s // IDL %s %s", names[i], g.goType(f.Type), idl.TypeString(f.Type), f.Name)
	}
	g.p("}\n")
	wire := g.use("capsim/idl/wire")
	g.p("// EncodeIDL appends v in the IDL wire format; e keeps the first error.")
	g.p("func (v *%s) EncodeIDL(e *%s.Encoder) {", name, wire)
	for i, f := range t.Fields {
		g.encode(f.Type, "v."+names[i], f.Name, 0)
	}
	g.p("}\n")
	g.p("// DecodeIDL reads v in the IDL wire format; d keeps the first error.")
	g.p("func (v *%s) DecodeIDL(d *%s.Decoder) {", name, wire)
	for i, f := range t.Fields {
		g.decode(f.Type, "v."+names[i], f.Name, 0)
	}
	g.p("}\n")
}

// unionType writes a union as a struct with a Tag and one field per
// variant; only the variant Tag selects is encoded.
func (g *generator) unionType(name string, t *idl.Type) {
	names := g.fieldNames(t.Fields, t.Name, "Tag", "EncodeIDL", "DecodeIDL")
	g.p("// %s is the IDL union %s: Tag selects the variant that is set", name, t.Name)
	g.p("// and encoded (the %s... constants); the other variant fields are", name)
	g.p("// ignored when encoding and left zero when decoding.")
	g.p("type %s struct {", name)
	g.p("\tTag uint32")
	for i, f := range t.Fields {
		g.p("\t%s %s // IDL %s %s", names[i], g.goType(f.Type), idl.TypeString(f.Type), f.Name)
	}
	g.p("}\n")
	g.p("// Tags of %s.", name)
	g.p("const (")
	for i := range t.Fields {
		g.at = t.Fields[i].Pos
		g.declare(name+names[i], "tag of "+t.Name)
		g.p("\t%s%s uint32 = %d", name, names[i], i)
	}
	g.p(")\n")
	wire := g.use("capsim/idl/wire")
	g.p("// EncodeIDL appends v in the IDL wire format; e keeps the first error.")
	g.p("func (v *%s) EncodeIDL(e *%s.Encoder) {", name, wire)
	g.p("\te.Uint32(v.Tag)")
	g.p("\tswitch v.Tag {")
	for i, f := range t.Fields {
		g.p("\tcase %d:", i)
		g.encode(f.Type, "v."+names[i], f.Name, 0)
	}
	g.p("\tdefault:")
	g.p("\t\te.Fail(%q, \"union tag %%d out of range (%d variants)\", v.Tag)", "tag", len(t.Fields))
	g.p("\t}")
	g.p("}\n")
	g.p("// DecodeIDL reads v in the IDL wire format; d keeps the first error.")
	g.p("func (v *%s) DecodeIDL(d *%s.Decoder) {", name, wire)
	g.p("\t*v = %s{Tag: d.Uint32(%q)}", name, "tag")
	g.p("\tswitch v.Tag {")
	for i, f := range t.Fields {
		g.p("\tcase %d:", i)
		g.decode(f.Type, "v."+names[i], f.Name, 0)
	}
	g.p("\tdefault:")
	g.p("\t\td.Fail(%q, \"union tag %%d out of range (%d variants)\", v.Tag)", "tag", len(t.Fields))
	g.p("\t}")
	g.p("}\n")
}

// scalarMethod is the Encoder/Decoder method of a fixed-width kind.
var scalarMethod = map[idl.Kind]string{
	idl.UInt8: "Uint8", idl.UInt16: "Uint16", idl.UInt32: "Uint32", idl.UInt64: "Uint64",
	idl.SInt8: "Int8", idl.SInt16: "Int16", idl.SInt32: "Int32", idl.SInt64: "Int64",
	idl.Bool: "Bool", idl.Handle: "Handle",
}

// encode writes statements that encode expr (an addressable Go value of t)
// with the Encoder e.
func (g *generator) encode(t *idl.Type, expr, field string, depth int) {
	switch t.Kind {
	case idl.Bytes:
		g.p("\te.Blob(%s, %d, %q)", expr, t.Bound, field)
	case idl.String:
		g.p("\te.String(%s, %d, %q)", expr, t.Bound, field)
	case idl.Array, idl.Sequence:
		i := fmt.Sprintf("i%d", depth)
		if t.Kind == idl.Sequence {
			g.p("\te.Count(len(%s), %d, %q)", expr, t.Bound, field)
		}
		g.p("\tfor %s := range %s {", i, expr)
		g.encode(t.Elem, expr+"["+i+"]", field, depth+1)
		g.p("\t}")
	case idl.Struct, idl.Union:
		g.p("\t%s.EncodeIDL(e)", expr)
	default:
		g.p("\te.%s(%s)", scalarMethod[t.Kind], expr)
	}
}

// decode writes statements that decode into target (an addressable Go
// value of t) with the Decoder d.
func (g *generator) decode(t *idl.Type, target, field string, depth int) {
	switch t.Kind {
	case idl.Bytes:
		g.p("\t%s = %s.Blob(%d, %q)", target, g.dv, t.Bound, field)
	case idl.String:
		g.p("\t%s = %s.String(%d, %q)", target, g.dv, t.Bound, field)
	case idl.Array:
		i := fmt.Sprintf("i%d", depth)
		g.p("\tif %s.Need(%d, %d, %q) {", g.dv, t.Bound, idl.MinSize(t.Elem), field)
		g.p("\tfor %s := range %s {", i, target)
		g.decode(t.Elem, target+"["+i+"]", field, depth+1)
		g.p("\t}\n\t}")
	case idl.Sequence:
		i, n := fmt.Sprintf("i%d", depth), fmt.Sprintf("n%d", depth)
		g.p("\t%s = nil", target)
		g.p("\tif %s := %s.Count(%d, %d, %q); %s > 0 {", n, g.dv, t.Bound, idl.MinSize(t.Elem), field, n)
		g.p("\t%s = make(%s, %s)", target, g.goType(t), n)
		g.p("\tfor %s := range %s {", i, target)
		g.decode(t.Elem, target+"["+i+"]", field, depth+1)
		g.p("\t}\n\t}")
	case idl.Struct, idl.Union:
		g.p("\t%s.DecodeIDL(%s)", target, g.dv)
	default:
		g.p("\t%s = %s.%s(%q)", target, g.dv, scalarMethod[t.Kind], field)
	}
}
