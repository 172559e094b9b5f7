package idlcmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"capsim/idl"
)

// runShow prints a package, class or component with its numbers.
func runShow(_ context.Context, env *cmdEnv) int {
	l := env.loader()
	name := env.args[0]
	var v any
	var err error
	switch {
	case strings.HasSuffix(name, ".idl") || strings.HasSuffix(name, ".edl") || strings.HasSuffix(name, ".cdl"):
		v, err = l.File(name)
	default:
		switch l.Lookup(name) {
		case "package":
			v, err = l.Package(name)
		case "task class":
			v, err = l.Class(name)
		case "component":
			var eps []*idl.Endpoint
			eps, err = l.Component(name)
			v = componentView{name, eps}
		default:
			fmt.Fprintf(env.stderr, "capsim idl show: no package, class or component %s below %s\n", name, strings.Join(append(env.includes, "the built-in files"), ", "))
			return exitUsage
		}
	}
	if err != nil {
		return report(env.stderr, err)
	}
	switch v := v.(type) {
	case *idl.Package:
		showPackage(env.stdout, v)
	case *idl.Class:
		showClass(env.stdout, v)
	case componentView:
		showComponent(env.stdout, v)
	case []*idl.Endpoint:
		showComponent(env.stdout, componentView{name, v})
	}
	return exitOK
}

type componentView struct {
	name string
	eps  []*idl.Endpoint
}

func showPackage(w io.Writer, p *idl.Package) {
	fmt.Fprintf(w, "package %s (%s)\n", p.Name, p.File)
	for _, imp := range p.Imports {
		fmt.Fprintf(w, "  import %s\n", imp)
	}
	consts := make([]string, 0, len(p.Consts))
	for n := range p.Consts {
		consts = append(consts, n)
	}
	sort.Strings(consts)
	for _, n := range consts {
		fmt.Fprintf(w, "  const %s = %d\n", n, p.Consts[n])
	}
	types := make([]string, 0, len(p.Types))
	for n := range p.Types {
		types = append(types, n)
	}
	sort.Strings(types)
	for _, n := range types {
		t := p.Types[n]
		fmt.Fprintf(w, "  type %s %s  (max %d bytes)\n", n, typeBody(t, p.Name+"."+n), idl.MaxSize(t))
	}
	if p.Interface != nil {
		fmt.Fprintf(w, "  interface %s\n", p.Interface.Name)
		showMethods(w, p.Interface, "    ")
	}
}

// typeBody shows a named type's definition rather than its name.
func typeBody(t *idl.Type, self string) string {
	if t.Name != self {
		return "= " + idl.TypeString(t)
	}
	anon := *t
	anon.Name = ""
	return idl.TypeString(&anon)
}

func showMethods(w io.Writer, it *idl.Interface, indent string) {
	for _, m := range it.Methods {
		fmt.Fprintf(w, "%sMID %-3d %s\n", indent, m.ID, idl.MethodString(m))
	}
}

func showClass(w io.Writer, c *idl.Class) {
	fmt.Fprintf(w, "task class %s (%s)\n", c.Name, c.File)
	if len(c.Endpoints) == 0 {
		fmt.Fprintln(w, "  no endpoints (it serves nothing)")
	}
	showEndpoints(w, c.Endpoints)
	if c.Security != nil {
		fmt.Fprintf(w, "  security %s\n", c.Security.Name)
		showMethods(w, c.Security, "    ")
	}
}

func showComponent(w io.Writer, c componentView) {
	fmt.Fprintf(w, "component %s\n", c.name)
	showEndpoints(w, c.eps)
}

func showEndpoints(w io.Writer, eps []*idl.Endpoint) {
	for _, ep := range eps {
		fmt.Fprintf(w, "  RIID %-3d %s : %s\n", ep.ID, ep.Name, ep.Interface.Name)
		showMethods(w, ep.Interface, "    ")
	}
}
