package kernel

import (
	"testing"
	"unicode/utf8"

	"capsim/idl"
)

// FuzzDecodeCoreArgs checks the kernel's own reader of kernel-call
// parameters against the generic IDL decoder of kl.core.Core: whatever the
// IDL accepts must decode to the same values, and the kernel's reader may
// accept nothing the IDL refuses but a string that is not UTF-8 (which the
// IDL check, run first, refuses).
func FuzzDecodeCoreArgs(f *testing.F) {
	core, err := idl.NewLoader([]idl.Root{idl.BuiltinRoot()}, idl.Options{}).Class(CoreClass)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(epLocator), uint8(mConnect), []byte{4, 0, 0, 0, 'e', 'c', 'h', 'o'})
	f.Add(uint8(epLocator), uint8(mEndpoint), []byte{1, 0, 0, 0, 1, 0, 0, 0, 'x'})
	f.Add(uint8(epHandles), uint8(mDup), []byte{1, 0, 0, 0, 7, 0, 0, 0})
	f.Add(uint8(epTasks), uint8(mExit), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(epLocator), uint8(mConnect), []byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, ep, mid uint8, b []byte) {
		e := core.Endpoints[int(ep)%len(core.Endpoints)]
		m := e.Interface.Methods[int(mid)%len(e.Interface.Methods)]
		a, err := decodeCoreArgs(uint16(int(ep)%len(core.Endpoints)), uint16(m.ID), b)
		v, gerr := idl.Decode(m.In, b, 0)
		if gerr != nil {
			if err == nil && utf8.ValidString(a.id) && utf8.ValidString(a.name) {
				t.Fatalf("%s.%s %x: the IDL refuses it (%v), the kernel reads %+v", e.Name, m.Name, b, gerr, a)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s.%s %x: the IDL accepts it, the kernel refuses it: %v", e.Name, m.Name, b, err)
		}
		sv := v.(*idl.StructValue)
		var want coreArgs
		switch {
		case e.Name == "locator" && m.Name == "Connect":
			want.id = sv.Fields[0].(string)
		case e.Name == "locator" && m.Name == "Endpoint":
			want.handle, want.name = uint32(sv.Fields[0].(uint64)), sv.Fields[1].(string)
		case e.Name == "handles" && m.Name == "Close":
			want.handle = uint32(sv.Fields[0].(uint64))
		case e.Name == "handles" && m.Name == "Dup":
			want.handle, want.rights = uint32(sv.Fields[0].(uint64)), uint32(sv.Fields[1].(uint64))
		case e.Name == "tasks" && m.Name == "Exit":
			want.code = int32(sv.Fields[0].(int64))
		}
		if a != want {
			t.Fatalf("%s.%s %x: the kernel reads %+v, the IDL %+v", e.Name, m.Name, b, a, want)
		}
	})
}
