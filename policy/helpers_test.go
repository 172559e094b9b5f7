package policy

import (
	"testing"

	"capsim/idl"
)

// testOpts searches testdata (for lib/common.psl), the test IDL tree and
// the built-in idl/.
func testOpts() Options {
	return Options{Roots: []idl.Root{idl.DirRoot("testdata"), idl.DirRoot("testdata/idl"), idl.BuiltinRoot()}, Explain: true}
}

func mustCompile(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := CompileSource("t.psl", src, testOpts())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

// event builds an event of kind for the server class's endpoint and
// method, with the message's fields set from fields (others zero).
func event(t testing.TB, p *Policy, kind EventKind, src, dst, ep, method string, fields map[string]any) *Event {
	t.Helper()
	ev := &Event{Kind: kind, Src: Subject{Class: src, SID: 10}, Dst: Subject{Class: dst, SID: 20}}
	if kind == Execute {
		return ev
	}
	server := dst
	if kind != Request {
		server = src
	}
	cl, err := testOpts().classSource().Class(server)
	if err != nil {
		t.Fatal(err)
	}
	var iface *idl.Interface
	if kind == Security {
		iface = cl.Security
	}
	for _, e := range cl.Endpoints {
		if e.Name == ep {
			iface = e.Interface
		}
	}
	if iface == nil {
		t.Fatalf("no endpoint %s in %s", ep, server)
	}
	ev.Endpoint, ev.Interface = ep, iface.Name
	for _, m := range iface.Methods {
		if m.Name == method {
			ev.Method = m
		}
	}
	if ev.Method == nil {
		t.Fatalf("no method %s", method)
	}
	mt := messageType(kind, ev.Method)
	sv := zeroValue(mt).(*idl.StructValue)
	for k, v := range fields {
		i := fieldIndex(mt, k)
		if i < 0 {
			t.Fatalf("no field %s", k)
		}
		sv.Fields[i] = v
	}
	ev.Message = sv
	return ev
}
