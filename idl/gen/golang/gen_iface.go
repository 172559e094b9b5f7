package golang

import (
	"fmt"
	"strings"

	"capsim/idl"
)

// method is a method's Go view: parameter names and types by direction.
type method struct {
	m          *idl.Method
	name       string // Go method name
	clientName string // Go method name on Client: name, or Call<name> when name is a Client field
	in, out    []param
	errs       []param
	errType    string // "<Name>Error" when the method has error parameters
	errnoParam bool   // exactly one integer error parameter
}

type param struct {
	f     *idl.Field
	local string // Go parameter or local name
	field string // Go field name (error struct)
	typ   string
}

func (g *generator) methodView(m *idl.Method) *method {
	imports := map[string]bool{}
	for _, a := range g.idlPkgs {
		imports[a] = true
	}
	mv := &method{m: m, name: exported(m.Name)}
	mv.clientName = mv.name
	if clientFields[mv.name] {
		mv.clientName = "Call" + mv.name
	}
	taken := map[string]bool{} // in, out and error parameters share the method's scope
	conv := func(fs []*idl.Field) []param {
		var out []param
		for _, f := range fs {
			local := paramName(f.Name, imports, taken)
			taken[local] = true
			out = append(out, param{f: f, local: local, field: exported(f.Name), typ: g.goType(f.Type)})
		}
		return out
	}
	mv.in, mv.out, mv.errs = conv(m.In.Fields), conv(m.Out.Fields), conv(m.Err.Fields)
	if len(mv.errs) > 0 {
		mv.errType = mv.name + "Error"
		k := m.Err.Fields[0].Type.Kind
		mv.errnoParam = len(mv.errs) == 1 && k >= idl.UInt8 && k <= idl.SInt64
	}
	return mv
}

// clientFields are the fields of Client, which a method must not shadow.
var clientFields = map[string]bool{"Caller": true, "Handle": true, "Endpoint": true}

// signature is "(ctx context.Context, a T, ...) (o T, ..., err error)".
func (g *generator) signature(mv *method) string {
	args := []string{"ctx " + g.use("context") + ".Context"}
	for _, p := range mv.in {
		args = append(args, p.local+" "+p.typ)
	}
	var res []string
	for _, p := range mv.out {
		res = append(res, p.local+" "+p.typ)
	}
	res = append(res, "err error")
	return "(" + strings.Join(args, ", ") + ") (" + strings.Join(res, ", ") + ")"
}

// iface writes the constants, error types, client and server of the
// package's interface.
func (g *generator) iface(it *idl.Interface) {
	var views []*method
	clientNames := map[string]bool{}
	for _, m := range it.Methods {
		mv := g.methodView(m)
		for clientNames[mv.clientName] || clientFields[mv.clientName] { // Caller and CallCaller
			mv.clientName += "_"
		}
		clientNames[mv.clientName] = true
		views = append(views, mv)
	}
	g.at = it.Pos // for the names the interface brings
	g.declare("InterfaceName", "the interface name")
	g.p("// InterfaceName is the IDL name of the interface.")
	g.p("const InterfaceName = %q\n", it.Name)
	g.p("// Method numbers (MID) of %s.", it.Name)
	g.p("const (")
	for _, mv := range views {
		g.at = mv.m.Pos
		g.declare("Method"+mv.name, "method number of "+mv.m.Name)
		g.p("\tMethod%s uint16 = %d", mv.name, mv.m.ID)
	}
	g.p(")\n")
	for _, mv := range views {
		if mv.errType != "" {
			g.errorType(mv)
		}
	}
	g.client(views)
	g.server(views)
}

// errorType writes the typed error that carries a method's error
// parameters.
func (g *generator) errorType(mv *method) {
	g.at = mv.m.Pos
	g.declare(mv.errType, "error type of "+mv.m.Name)
	full := g.pkg.Name + "." + mv.m.Name
	g.p("// %s carries the error parameters of %s: a server returns it to", mv.errType, full)
	g.p("// send them, and a client gets it when the server did.")
	g.p("type %s struct {", mv.errType)
	names := g.fieldNames(mv.m.Err.Fields, full+" error", "Error", "Unwrap")
	for i, p := range mv.errs {
		g.p("\t%s %s", names[i], p.typ)
	}
	g.p("}\n")
	if mv.errnoParam {
		sc := g.use("syscall")
		g.p("func (e *%s) Error() string {", mv.errType)
		g.p("\treturn %q + %s.Errno(e.%s).Error()", full+": ", sc, mv.errs[0].field)
		g.p("}\n")
		g.p("// Unwrap returns the error parameter as a syscall.Errno, so that")
		g.p("// errors.Is(err, syscall.ECONNREFUSED) and the like work.")
		g.p("func (e *%s) Unwrap() error { return %s.Errno(e.%s) }\n", mv.errType, sc, mv.errs[0].field)
		return
	}
	var format, args []string
	for _, p := range mv.errs {
		format = append(format, p.f.Name+"=%v")
		args = append(args, "e."+p.field)
	}
	g.p("func (e *%s) Error() string {", mv.errType)
	g.p("\treturn %s.Sprintf(%q, %s)", g.use("fmt"), full+": "+strings.Join(format, " "), strings.Join(args, ", "))
	g.p("}\n")
}

// results is the return list with err.
func results(mv *method, err string) string {
	var out []string
	for _, p := range mv.out {
		out = append(out, p.local)
	}
	return strings.Join(append(out, err), ", ")
}

func (g *generator) client(views []*method) {
	ipc := g.use("capsim/ipc")
	g.at = g.pkg.Interface.Pos
	g.declare("Client", "the client proxy")
	g.p("// Client calls %s on the channel Handle, at endpoint number (RIID)", g.pkg.Name)
	g.p("// Endpoint of the server's class, through Caller. A kernel status")
	g.p("// comes back as the *ipc.Error of the Caller; error parameters as the")
	g.p("// method's typed error (*<Method>Error). A method named like a field")
	g.p("// (Caller, Handle, Endpoint) is Call<Method> here.")
	g.p("type Client struct {")
	g.p("\tCaller %s.Caller", ipc)
	g.p("\tHandle %s.Handle", ipc)
	g.p("\tEndpoint uint16")
	g.p("}\n")
	for _, mv := range views {
		g.clientMethod(mv, ipc)
	}
}

func (g *generator) clientMethod(mv *method, ipc string) {
	full := g.pkg.Name + "." + mv.m.Name
	wire := g.use("capsim/idl/wire")
	if mv.clientName != mv.name {
		g.p("// %s calls %s (MID %d); it is not named %s, which is a field of Client.", mv.clientName, full, mv.m.ID, mv.name)
	} else {
		g.p("// %s calls %s (MID %d).", mv.name, full, mv.m.ID)
	}
	g.p("func (c *Client) %s%s {", mv.clientName, g.signature(mv))
	g.p("\te := %s.NewEncoder(nil)", wire)
	for _, p := range mv.in {
		g.encode(p.f.Type, p.local, p.f.Name, 0)
	}
	g.p("\tif err = e.Err(); err != nil {")
	g.p("\t\treturn %s", results(mv, fmt.Sprintf("&%s.Error{Status: %s.Invalid, Reason: %q + err.Error()}", ipc, ipc, full+": ")))
	g.p("\t}")
	g.p("\trep, err := c.Caller.Call(ctx, c.Handle, &%s.Message{Endpoint: c.Endpoint, Method: Method%s, Payload: e.Bytes(), Handles: e.Handles()})", ipc, mv.name)
	g.p("\tif err != nil {\n\t\treturn %s\n\t}", results(mv, "err"))
	g.p("\td := %s.NewDecoder(rep.Payload, rep.Handles)", wire)
	g.p("\td.AliasBlobs() // the reply is ours (ipc.Caller)")
	g.p("\tswitch rep.Status {")
	g.p("\tcase %s.OK:", ipc)
	for _, p := range mv.out {
		g.decode(p.f.Type, p.local, p.f.Name, 0)
	}
	g.p("\t\tif err = d.Finish(); err != nil {")
	g.p("\t\t\treturn %s", results(mv, fmt.Sprintf("&%s.Error{Status: %s.Invalid, Reason: %q + err.Error()}", ipc, ipc, full+" reply: ")))
	g.p("\t\t}")
	g.p("\t\treturn %s", results(mv, "nil"))
	if mv.errType != "" {
		g.p("\tcase %s.AppError:", ipc)
		g.p("\t\tpe := &%s{}", mv.errType)
		for _, p := range mv.errs {
			g.decode(p.f.Type, "pe."+p.field, p.f.Name, 0)
		}
		g.p("\t\tif err = d.Finish(); err != nil {")
		g.p("\t\t\treturn %s", results(mv, fmt.Sprintf("&%s.Error{Status: %s.Invalid, Reason: %q + err.Error()}", ipc, ipc, full+" error reply: ")))
		g.p("\t\t}")
		if mv.errnoParam {
			// errno 0 is no error: a server that sends it as one has failed
			// in a way its client can only take for an I/O error.
			p := mv.errs[0]
			g.p("\t\tif pe.%s == 0 {", p.field)
			g.p("\t\t\tpe.%s = %s(%s.EIO) // an error reply without an errno", p.field, p.typ, g.use("syscall"))
			g.p("\t\t}")
		}
		g.p("\t\treturn %s", results(mv, "pe"))
	}
	g.p("\t}")
	g.p("\treturn %s", results(mv, fmt.Sprintf("&%s.Error{Status: rep.Status, Reason: string(rep.Payload)}", ipc)))
	g.p("}\n")
}
