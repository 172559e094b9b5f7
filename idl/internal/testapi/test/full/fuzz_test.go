package full_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"capsim/idl"
	"capsim/idl/internal/testapi/test/full"
	"capsim/ipc"
)

// recorder is a full.Server that notes that it was called and replays each
// request through a generated Client, capturing the message the client
// encodes: decoding by the dispatcher and encoding by the client must give
// back the request's bytes.
type recorder struct {
	called bool
	again  *ipc.Message
}

func (r *recorder) client() *full.Client {
	return &full.Client{Caller: callerFunc(func(m *ipc.Message) { r.again = m })}
}

func (r *recorder) Ping(ctx context.Context, v uint32) (uint32, error) {
	r.called = true
	_, _ = r.client().Ping(ctx, v)
	return 0, nil
}

func (r *recorder) Put(ctx context.Context, rec full.Record, extra ipc.Slot) (uint64, error) {
	r.called = true
	_, _ = r.client().Put(ctx, rec, extra)
	return 0, nil
}

func (r *recorder) Get(ctx context.Context, id uint64) (full.Record, ipc.Slot, error) {
	r.called = true
	_, _, _ = r.client().Get(ctx, id)
	return full.Record{}, ipc.Slot{}, &full.GetError{}
}

func (r *recorder) Notify(ctx context.Context) error {
	r.called = true
	_ = r.client().Notify(ctx)
	return nil
}

func (r *recorder) Pick(ctx context.Context, c full.Choice, names []string) (full.Choice, [3]bool, error) {
	r.called = true
	_, _, _ = r.client().Pick(ctx, c, names)
	return c, [3]bool{}, nil
}

func (r *recorder) Kw(ctx context.Context, typ string, fn int32) error {
	r.called = true
	_ = r.client().Kw(ctx, typ, fn)
	return nil
}

// replyCaller answers every call with one fixed reply.
type replyCaller struct{ rep *ipc.Message }

func (c replyCaller) Call(context.Context, ipc.Handle, *ipc.Message) (*ipc.Message, error) {
	return c.rep, nil
}

// callMethod calls method mid of c, returning only the error.
func callMethod(c *full.Client, mid uint16) error {
	ctx := context.Background()
	var err error
	switch mid {
	case full.MethodPing:
		_, err = c.Ping(ctx, 1)
	case full.MethodPut:
		_, err = c.Put(ctx, full.Record{}, ipc.Slot{})
	case full.MethodGet:
		_, _, err = c.Get(ctx, 1)
	case full.MethodNotify:
		err = c.Notify(ctx)
	case full.MethodPick:
		_, _, err = c.Pick(ctx, full.Choice{Tag: full.ChoiceNone}, nil)
	case full.MethodKw:
		err = c.Kw(ctx, "t", 1)
	}
	return err
}

// remapSlots rewrites every HandleSlot of v through m.
func remapSlots(v any, m []uint32) any {
	switch v := v.(type) {
	case idl.HandleSlot:
		return idl.HandleSlot(m[v])
	case *idl.StructValue:
		for i, f := range v.Fields {
			v.Fields[i] = remapSlots(f, m)
		}
	case *idl.UnionValue:
		v.Value = remapSlots(v.Value, m)
	case []any:
		for i, e := range v {
			v[i] = remapSlots(e, m)
		}
	}
	return v
}

// FuzzGenerated checks the generated code against the generic codec that
// the kernel validates with. As a request (reply false), a payload reaches
// the server exactly when idl.Decode accepts it, and what the server got
// encodes back, through the generated client, to the same bytes. As a reply
// (reply true), the generated client rejects it as invalid exactly when
// idl.Decode rejects it.
func FuzzGenerated(f *testing.F) {
	p, err := idl.NewLoader([]idl.Root{idl.DirRoot("../../../../testdata/ok")}, idl.Options{}).Package("test.Full")
	if err != nil {
		f.Fatal(err)
	}
	methods := p.Interface.Methods
	f.Add(uint8(full.MethodPut), uint8(2), false, false, encodePut(f, 0))
	f.Add(uint8(full.MethodPing), uint8(0), false, false, []byte{1, 0, 0, 0})
	f.Add(uint8(full.MethodPick), uint8(0), false, false, []byte{1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 'a'})
	f.Add(uint8(full.MethodKw), uint8(0), true, true, []byte{1, 0, 0, 0})
	f.Add(uint8(full.MethodGet), uint8(1), true, false, encodePut(f, 0)[:len(encodePut(f, 0))-4])
	f.Fuzz(func(t *testing.T, mid, nslots uint8, reply, appErr bool, payload []byte) {
		m := methods[int(mid)%len(methods)]
		handles := make([]ipc.Slot, nslots%4)
		for i := range handles {
			handles[i] = ipc.Slot{Handle: ipc.Handle(100 + i), Rights: ipc.RightCall}
		}
		if reply {
			typ, status := m.Out, ipc.OK
			if appErr && len(m.Err.Fields) > 0 {
				typ, status = m.Err, ipc.AppError
			}
			_, gerr := idl.Decode(typ, payload, len(handles))
			c := &full.Client{Caller: replyCaller{&ipc.Message{Status: status, Payload: payload, Handles: handles}}}
			err := callMethod(c, uint16(m.ID))
			var ie *ipc.Error
			rejected := errors.As(err, &ie) && ie.Status == ipc.Invalid && strings.Contains(ie.Reason, "reply: ")
			if rejected != (gerr != nil) {
				t.Fatalf("%s reply %x (status %v): generic decoder says %v, generated client %v", m.Name, payload, status, gerr, err)
			}
			return
		}
		v, gerr := idl.Decode(m.In, payload, len(handles))
		r := &recorder{}
		var rep capture
		req := &ipc.Request{Message: ipc.Message{Method: uint16(m.ID), Payload: bytes.Clone(payload), Handles: handles}}
		full.NewDispatcher(r).Serve(context.Background(), req, &rep)
		if r.called != (gerr == nil) {
			t.Fatalf("%s request %x: generic decoder says %v, generated dispatcher called the server: %v (reply %+v)", m.Name, payload, gerr, r.called, rep.m)
		}
		if !r.called {
			if rep.m == nil || rep.m.Status != ipc.Invalid {
				t.Fatalf("rejected request answered %+v", rep.m)
			}
			return
		}
		if r.again == nil {
			t.Fatalf("%s: the client did not send", m.Name)
		}
		back, err := idl.Decode(m.In, r.again.Payload, len(r.again.Handles))
		if err != nil {
			t.Fatalf("%s: the client's re-encoding does not decode: %v", m.Name, err)
		}
		slots := make([]uint32, len(r.again.Handles))
		for i, h := range r.again.Handles {
			slots[i] = uint32(h.Handle - 100)
		}
		enc, err := idl.Encode(m.In, remapSlots(back, slots))
		if err != nil || !bytes.Equal(enc, payload) {
			t.Fatalf("%s: request %x came back as %x (%v); generic value %v", m.Name, payload, enc, err, v)
		}
	})
}
