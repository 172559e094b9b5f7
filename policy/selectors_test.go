package policy

import (
	"strings"
	"testing"

	"capsim/idl"
)

// selectorClasses builds, in memory, a server with components and a
// security interface.
func selectorClasses() memClasses {
	u32 := &idl.Type{Kind: idl.UInt32}
	iface := func(name, method string) *idl.Interface {
		in := &idl.Type{Kind: idl.Struct, Fields: []*idl.Field{{Name: "a", Type: u32}}}
		empty := &idl.Type{Kind: idl.Struct}
		i := &idl.Interface{Name: name}
		i.Methods = []*idl.Method{{Name: method, In: in, Out: empty, Err: empty, Interface: i}}
		return i
	}
	a, b := iface("x.A", "Get"), iface("x.B", "Put")
	return memClasses{
		"x.Cli": {Name: "x.Cli"},
		"x.Srv": {Name: "x.Srv", Security: iface("x.Sec", "Check"), Endpoints: []*idl.Endpoint{
			{Name: "store", Interface: a}, {Name: "db.store", ID: 1, Interface: a}, {Name: "db.admin", ID: 2, Interface: b}}},
	}
}

func TestComponentInterfaceSecuritySelectors(t *testing.T) {
	classes := selectorClasses()
	p, err := CompileSource("s.psl", `use nk.base._
use EDL x.Srv
use EDL x.Cli
request component=db { assert (message.a > 0) }
request interface=x.A method=Get { grant () }
security src=x.Srv interface=x.Sec method=Check { assert (message.a == 7) }
`, Options{Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Targets(0); len(got) != 2 || got[0].Endpoint.Name != "db.store" || got[1].Method.Name != "Put" {
		t.Errorf("Targets(component=db) = %v", got)
	}
	if got := p.Targets(2); len(got) != 1 || got[0].Endpoint != nil || got[0].Method.Name != "Check" {
		t.Errorf("Targets(security) = %v", got)
	}
	srv := classes["x.Srv"]
	ev := func(kind EventKind, ep string, iface *idl.Interface, a uint64) *Event {
		m := iface.Methods[0]
		return &Event{Kind: kind, Src: Subject{Class: "x.Cli"}, Dst: Subject{Class: "x.Srv"}, Endpoint: ep,
			Interface: iface.Name, Method: m, Message: &idl.StructValue{Type: m.In, Fields: []any{a}}}
	}
	tests := []struct {
		name  string
		ev    *Event
		grant bool
		rules int
	}{
		{"component and interface", ev(Request, "db.store", srv.Endpoints[1].Interface, 1), true, 2},
		{"interface only", ev(Request, "store", srv.Endpoints[0].Interface, 0), true, 1},
		{"component denies", ev(Request, "db.admin", srv.Endpoints[2].Interface, 0), false, 1},
		{"security", func() *Event {
			e := ev(Security, "", srv.Security, 7)
			e.Src, e.Dst = e.Dst, Subject{Class: coreClass}
			return e
		}(), true, 1},
	}
	for _, tt := range tests {
		d := p.Decide(tt.ev)
		if d.Grant != tt.grant || len(d.Rules) != tt.rules {
			t.Errorf("%s: grant %v with %d rules, want %v with %d (%s)", tt.name, d.Grant, len(d.Rules), tt.grant, tt.rules, d.Reason)
		}
	}
	bad := []struct{ src, want string }{
		{"request dst=x.Srv component=zz { grant () }", "s.psl:4:29: no component zz in class x.Srv"},
		{"request dst=x.Srv component=dbb { grant () }", "no component dbb in class x.Srv (did you mean db?)"},
		{"request interface=x.C { grant () }", "no interface x.C in any used class"},
		{"security src=x.Srv method=Chek { grant () }", "no security method Chek (did you mean Check?)"},
		{"security endpoint=store { grant () }", "security events have no endpoint"},
		{"execute endpoint=store { grant () }", "execute events have no endpoint"},
		{"execute interface=x.Store { grant () }", "execute events have one interface, kl.core.Execute, not x.Store"},
		{"request dst=x.Srv { match dst=x.Cli { grant () } }", "match can never apply"},
		{"request dst=x.Cli { assert (message.a > 1) }", "no method matches these selectors"},
	}
	// The execute interface may be named (REFERENCE §2: kl.core.Execute).
	p2, err := CompileSource("s.psl", "use nk.base._\nuse EDL x.Srv\nexecute interface=kl.core.Execute, method=main { grant () }", Options{Classes: classes})
	if err != nil {
		t.Fatalf("execute interface=kl.core.Execute: %v", err)
	}
	if d := p2.Decide(&Event{Kind: Execute, Src: Subject{Class: coreClass}, Dst: Subject{Class: "x.Srv", SID: 5}}); !d.Grant {
		t.Errorf("execute interface=kl.core.Execute did not grant: %s", d.Reason)
	}
	for _, tt := range bad {
		_, err := CompileSource("s.psl", "use nk.base._\nuse EDL x.Srv\nuse EDL x.Cli\n"+tt.src, Options{Classes: classes})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.src, err, tt.want)
		}
	}
}
