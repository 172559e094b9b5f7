package golang

import "capsim/idl"

// server writes the Server interface, the Dispatcher and one serve method
// per IDL method.
func (g *generator) server(views []*method) {
	ipc := g.use("capsim/ipc")
	g.at = g.pkg.Interface.Pos
	g.declare("Server", "the server interface")
	g.declare("Dispatcher", "the dispatcher")
	g.declare("NewDispatcher", "the dispatcher constructor")
	g.p("// Server is what a server of %s implements. ctx carries the caller's", g.pkg.Name)
	g.p("// badge (ipc.BadgeFromContext). To send error parameters, return the")
	g.p("// method's *<Method>Error; for a method whose one error parameter is an")
	g.p("// integer, any other error sends the syscall.Errno it wraps, or EIO.")
	g.p("type Server interface {")
	for _, mv := range views {
		g.p("\t%s%s", mv.name, g.signature(mv))
	}
	g.p("}\n")
	g.p("// Dispatcher serves requests of %s by calling a Server; it implements", g.pkg.Name)
	g.p("// ipc.Handler. An undecodable request or an unknown method gets status")
	g.p("// ipc.Invalid, and so does an error a method cannot send as its error")
	g.p("// parameters (a server bug; the payload holds the error text).")
	g.p("type Dispatcher struct {\n\ts Server\n}\n")
	g.p("// NewDispatcher returns a dispatcher that calls s.")
	g.p("func NewDispatcher(s Server) *Dispatcher { return &Dispatcher{s: s} }\n")
	g.p("// InterfaceName returns %q.", g.pkg.Name)
	g.p("func (d *Dispatcher) InterfaceName() string { return InterfaceName }\n")
	g.p("var _ %s.Handler = (*Dispatcher)(nil)\n", ipc)
	g.p("// Serve implements ipc.Handler.")
	g.p("func (d *Dispatcher) Serve(ctx %s.Context, req *%s.Request, r %s.Responder) {", g.use("context"), ipc, ipc)
	g.p("\tswitch req.Method {")
	for _, mv := range views {
		g.p("\tcase Method%s:", mv.name)
		g.p("\t\td.serve%s(ctx, req, r)", mv.name)
	}
	g.p("\tdefault:")
	g.p("\t\treplyInvalid(req, r, %s.Sprintf(\"%s has no method %%d\", req.Method))", g.use("fmt"), g.pkg.Name)
	g.p("\t}")
	g.p("}\n")
	g.p("// replyInvalid answers req with status ipc.Invalid and the reason.")
	g.p("func replyInvalid(req *%s.Request, r %s.Responder, reason string) {", ipc, ipc)
	g.p("\t_ = r.Reply(req, &%s.Message{Endpoint: req.Endpoint, Method: req.Method, Status: %s.Invalid, Payload: []byte(reason)})", ipc, ipc)
	g.p("}\n")
	for _, mv := range views {
		g.serveMethod(mv, ipc)
	}
}

func (g *generator) serveMethod(mv *method, ipc string) {
	full := g.pkg.Name + "." + mv.m.Name
	wire := g.use("capsim/idl/wire")
	g.p("func (d *Dispatcher) serve%s(ctx %s.Context, req *%s.Request, r %s.Responder) {", mv.name, g.use("context"), ipc, ipc)
	for _, p := range mv.in {
		g.p("\tvar %s %s", p.local, p.typ)
	}
	g.p("\tdec := %s.NewDecoder(req.Payload, req.Handles)", wire)
	g.p("\tdec.AliasBlobs() // the request is ours (ipc.Request)")
	g.dv = "dec"
	for _, p := range mv.in {
		g.decode(p.f.Type, p.local, p.f.Name, 0)
	}
	g.dv = "d"
	g.p("\tif err := dec.Finish(); err != nil {")
	g.p("\t\treplyInvalid(req, r, %q+err.Error())", full+": ")
	g.p("\t\treturn")
	g.p("\t}")
	var args []string
	for _, p := range mv.in {
		args = append(args, p.local)
	}
	g.p("\t%s := d.s.%s(ctx%s)", results(mv, "err"), mv.name, joinArgs(args))
	g.p("\te := %s.NewEncoder(nil)", wire)
	status := ipc + ".OK"
	if mv.errType != "" {
		g.p("\tstatus := %s.OK", ipc)
	}
	g.p("\tif err != nil {")
	g.serveError(mv, ipc, wire)
	if mv.errType == "" {
		g.p("\t}")
		for _, p := range mv.out {
			g.encode(p.f.Type, p.local, p.f.Name, 0)
		}
	} else {
		g.p("\t} else {")
		for _, p := range mv.out {
			g.encode(p.f.Type, p.local, p.f.Name, 0)
		}
		g.p("\t}")
	}
	g.p("\tif encErr := e.Err(); encErr != nil {")
	g.p("\t\treplyInvalid(req, r, %q+encErr.Error())", full+" reply: ")
	g.p("\t\treturn")
	g.p("\t}")
	if mv.errType != "" {
		status = "status"
	}
	g.p("\t_ = r.Reply(req, &%s.Message{Endpoint: req.Endpoint, Method: req.Method, Status: %s, Payload: e.Bytes(), Handles: e.Handles()})", ipc, status)
	g.p("}\n")
}

// serveError writes what a serve method does with a server's error.
func (g *generator) serveError(mv *method, ipc, wire string) {
	if mv.errType == "" {
		g.p("\t\treplyInvalid(req, r, %q+err.Error())", g.pkg.Name+"."+mv.m.Name+" failed without error parameters: ")
		g.p("\t\treturn")
		return
	}
	g.p("\t\tvar pe *%s", mv.errType)
	g.p("\t\tif !%s.As(err, &pe) {", g.use("errors"))
	if mv.errnoParam {
		g.p("\t\t\tpe = &%s{%s: %s(%s.ErrnoUpTo(err, %d))}", mv.errType, mv.errs[0].field, mv.errs[0].typ, wire, errnoMax(mv.errs[0].f.Type.Kind))
	} else {
		g.p("\t\t\treplyInvalid(req, r, %q+err.Error())", g.pkg.Name+"."+mv.m.Name+" failed without its error type: ")
		g.p("\t\t\treturn")
	}
	g.p("\t\t}")
	for _, p := range mv.errs {
		g.encode(p.f.Type, "pe."+p.field, p.f.Name, 0)
	}
	g.p("\t\tstatus = %s.AppError", ipc)
}

func joinArgs(args []string) string {
	s := ""
	for _, a := range args {
		s += ", " + a
	}
	return s
}

// errnoMax is the largest errno an integer error parameter of kind k holds.
func errnoMax(k idl.Kind) uint64 {
	switch k {
	case idl.UInt8:
		return 1<<8 - 1
	case idl.SInt8:
		return 1<<7 - 1
	case idl.UInt16:
		return 1<<16 - 1
	case idl.SInt16:
		return 1<<15 - 1
	case idl.UInt32:
		return 1<<32 - 1
	case idl.SInt32:
		return 1<<31 - 1
	}
	return 1<<63 - 1
}
