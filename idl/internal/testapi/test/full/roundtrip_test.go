package full_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"capsim/idl"
	"capsim/idl/internal/testapi/test/full"
	"capsim/idl/internal/testapi/test/types"
	"capsim/ipc"
)

// memCaller carries a call as the kernel would: it frames the message,
// validates the payload against the IDL with the generic codec (and checks
// that re-encoding gives the same bytes), hands the request to the
// dispatcher, and validates the reply the same way.
type memCaller struct {
	t     *testing.T
	iface *idl.Interface
	h     ipc.Handler
	calls int
}

type capture struct{ m *ipc.Message }

func (c *capture) Reply(_ *ipc.Request, m *ipc.Message) error { c.m = m; return nil }

func (mc *memCaller) Call(ctx context.Context, h ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	mc.calls++
	frame := ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(h), Endpoint: m.Endpoint, Method: m.Method}, m.Handles, m.Payload)
	f, err := ipc.Decode(frame, 0)
	if err != nil {
		return nil, err
	}
	if int(f.Method) >= len(mc.iface.Methods) {
		return nil, &ipc.Error{Status: ipc.Invalid, Reason: "no such method"}
	}
	method := mc.iface.Methods[f.Method]
	if err := mc.validate(method.In, f.Payload, len(f.Slots)); err != nil {
		return nil, &ipc.Error{Status: ipc.Invalid, Reason: err.Error()}
	}
	var rep capture
	req := &ipc.Request{Txn: 1, Badge: &ipc.Badge{Task: "client"}, Message: ipc.Message{Endpoint: f.Endpoint, Method: f.Method, Payload: f.Payload, Handles: f.Slots}}
	mc.h.Serve(ipc.WithBadge(ctx, req.Badge), req, &rep)
	if rep.m == nil {
		mc.t.Fatal("dispatcher did not reply")
	}
	switch rep.m.Status {
	case ipc.OK:
		err = mc.validate(method.Out, rep.m.Payload, len(rep.m.Handles))
	case ipc.AppError:
		err = mc.validate(method.Err, rep.m.Payload, len(rep.m.Handles))
	default:
		return nil, &ipc.Error{Status: rep.m.Status, Reason: string(rep.m.Payload)}
	}
	if err != nil {
		mc.t.Errorf("reply of %s does not match the IDL: %v", method.Name, err)
	}
	return rep.m, nil
}

func (mc *memCaller) validate(t *idl.Type, payload []byte, nslots int) error {
	v, err := idl.Decode(t, payload, nslots)
	if err != nil {
		return err
	}
	again, err := idl.Encode(t, v)
	if err != nil || !bytes.Equal(again, payload) {
		mc.t.Errorf("generic codec re-encodes differently: %v", err)
	}
	return nil
}

// server implements full.Server.
type server struct {
	t      *testing.T
	put    error
	get    error
	gotRec full.Record
	badge  *ipc.Badge
}

func (s *server) Ping(ctx context.Context, value uint32) (uint32, error) {
	s.badge = ipc.BadgeFromContext(ctx)
	return value + 1, nil
}

func (s *server) Put(_ context.Context, rec full.Record, extra ipc.Slot) (uint64, error) {
	s.gotRec = rec
	return uint64(extra.Handle) * 10, s.put
}

func (s *server) Get(_ context.Context, id uint64) (full.Record, ipc.Slot, error) {
	return sample(), ipc.Slot{Handle: ipc.Handle(id), Rights: ipc.RightCall}, s.get
}

func (s *server) Notify(context.Context) error { return errors.New("notify broke") }

func (s *server) Pick(_ context.Context, choice full.Choice, names []string) (full.Choice, [3]bool, error) {
	return choice, [3]bool{len(names) > 0, true, false}, nil
}

func (s *server) Kw(_ context.Context, typ string, fn int32) error {
	return fmt.Errorf("wrapped: %w", syscall.Errno(fn))
}

func sample() full.Record {
	return full.Record{
		U8: 1, U16: 2, U32: 3, U64: 1<<64 - 1, S8: -1, S16: -2, S32: -3, S64: -1 << 63,
		Flag: true, H: ipc.Slot{Handle: 7, Rights: ipc.RightsAll}, Blob: []byte("blob"), Text: "text ✓",
		Quad:   [4]uint8{1, 2, 3, 4},
		Points: []types.Point{{X: 1, Y: 2}, {X: -3, Y: 4}},
		Shape:  types.Shape{Tag: types.ShapeLabel, Label: "label"},
		Origin: types.Point{X: 5, Y: 6}, Grid: [2][]uint16{{1}, {2, 3, 4}}, MtimeNs: 99,
	}
}

func setup(t *testing.T) (*full.Client, *server, *memCaller) {
	p, err := idl.NewLoader([]idl.Root{idl.DirRoot("../../../../testdata/ok")}, idl.Options{}).Package("test.Full")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t}
	mc := &memCaller{t: t, iface: p.Interface, h: full.NewDispatcher(s)}
	return &full.Client{Caller: mc, Handle: 3}, s, mc
}

func TestRoundTrip(t *testing.T) {
	c, s, _ := setup(t)
	ctx := context.Background()
	if r, err := c.Ping(ctx, 41); err != nil || r != 42 {
		t.Fatalf("Ping = %d, %v", r, err)
	}
	if s.badge == nil || s.badge.Task != "client" {
		t.Errorf("badge not in ctx: %v", s.badge)
	}
	rec := sample()
	id, err := c.Put(ctx, rec, ipc.Slot{Handle: 9})
	if err != nil || id != 90 {
		t.Fatalf("Put = %d, %v", id, err)
	}
	if !reflect.DeepEqual(s.gotRec, rec) {
		t.Errorf("server got %+v\nwant %+v", s.gotRec, rec)
	}
	got, h, err := c.Get(ctx, 5)
	if err != nil || !reflect.DeepEqual(got, rec) || h != (ipc.Slot{Handle: 5, Rights: ipc.RightCall}) {
		t.Errorf("Get = %+v, %v, %v", got, h, err)
	}
	in := full.Choice{Tag: full.ChoiceRec, Rec: rec}
	echoed, bits, err := c.Pick(ctx, in, []string{"a", "bc"})
	if err != nil || !reflect.DeepEqual(echoed, in) || bits != [3]bool{true, true, false} {
		t.Errorf("Pick = %+v, %v, %v", echoed, bits, err)
	}
}

func TestErrors(t *testing.T) {
	c, s, mc := setup(t)
	ctx := context.Background()

	s.put = &full.PutError{Errno: uint32(syscall.ECONNREFUSED)}
	_, err := c.Put(ctx, sample(), ipc.Slot{})
	var pe *full.PutError
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &pe) {
		t.Errorf("typed error: %v", err)
	}
	s.put = fmt.Errorf("deep: %w", syscall.ENOENT)
	if _, err = c.Put(ctx, sample(), ipc.Slot{}); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("wrapped errno: %v", err)
	}
	s.put = errors.New("no errno")
	if _, err = c.Put(ctx, sample(), ipc.Slot{}); !errors.Is(err, syscall.EIO) {
		t.Errorf("untyped error: %v, want EIO", err)
	}
	// A server that sends errno 0 as an error: its client sees EIO, not
	// an error that errors.Is matches with nothing ("errno 0").
	s.put = &full.PutError{}
	if _, err = c.Put(ctx, sample(), ipc.Slot{}); !errors.Is(err, syscall.EIO) {
		t.Errorf("errno 0: %v, want EIO", err)
	}
	s.get = &full.GetError{Code: 7, Why: "because"}
	var ge *full.GetError
	if _, _, err = c.Get(ctx, 1); !errors.As(err, &ge) || *ge != (full.GetError{Code: 7, Why: "because"}) {
		t.Errorf("multi-parameter error: %v", err)
	}
	s.get = errors.New("untyped")
	if _, _, err = c.Get(ctx, 1); !errors.Is(err, ipc.ErrInvalid) || !strings.Contains(err.Error(), "untyped") {
		t.Errorf("untyped error without errno parameter: %v", err)
	}
	if err = c.Notify(ctx); !errors.Is(err, ipc.ErrInvalid) || !strings.Contains(err.Error(), "notify broke") {
		t.Errorf("error from a method without error parameters: %v", err)
	}
	if err = c.Kw(ctx, "x", int32(syscall.EPERM)); !errors.Is(err, syscall.EPERM) {
		t.Errorf("signed errno: %v", err)
	}

	bad := sample()
	bad.Blob = make([]byte, 17)
	before := mc.calls
	if _, err = c.Put(ctx, bad, ipc.Slot{}); !errors.Is(err, ipc.ErrInvalid) || !strings.Contains(err.Error(), "field blob: length 17 exceeds bound 16") {
		t.Errorf("oversize field: %v", err)
	}
	if mc.calls != before {
		t.Error("an invalid call reached the caller")
	}
}

// kernelCaller answers every call with a kernel status.
type kernelCaller struct{ err error }

func (k kernelCaller) Call(context.Context, ipc.Handle, *ipc.Message) (*ipc.Message, error) {
	return nil, k.err
}

func TestKernelStatusPassesThrough(t *testing.T) {
	denied := &ipc.Error{Status: ipc.Denied, Reason: "policy.psl:3:1"}
	c := &full.Client{Caller: kernelCaller{denied}}
	if _, err := c.Ping(context.Background(), 1); err != denied {
		t.Errorf("err = %v, want the caller's *ipc.Error", err)
	}
}

// TestDispatcherRejects sends hand-made malformed requests straight to the
// dispatcher: each is answered ipc.Invalid and never reaches the server.
func TestDispatcherRejects(t *testing.T) {
	s := &server{t: t}
	d := full.NewDispatcher(s)
	if d.InterfaceName() != "test.Full" {
		t.Errorf("InterfaceName = %q", d.InterfaceName())
	}
	tests := []struct {
		name    string
		method  uint16
		payload []byte
		handles []ipc.Slot
		want    string
	}{
		{"trailing", full.MethodPing, []byte{1, 0, 0, 0, 9}, nil, "1 trailing bytes"},
		{"short", full.MethodPing, []byte{1, 0}, nil, "message ends early"},
		{"unknown method", 99, nil, nil, "test.Full has no method 99"},
		{"handle slot", full.MethodPut, encodePut(t, 0), nil, "field h: handle slot 0 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep capture
			s.gotRec = full.Record{}
			req := &ipc.Request{Message: ipc.Message{Method: tt.method, Payload: tt.payload, Handles: tt.handles}}
			d.Serve(context.Background(), req, &rep)
			if rep.m == nil || rep.m.Status != ipc.Invalid || !strings.Contains(string(rep.m.Payload), tt.want) {
				t.Errorf("reply = %+v, want Invalid with %q", rep.m, tt.want)
			}
			if s.gotRec.Text != "" {
				t.Error("the server was called")
			}
		})
	}
}

// encodePut returns a valid Put payload (its handles dropped).
func encodePut(t testing.TB, _ int) []byte {
	var got *ipc.Message
	c := &full.Client{Caller: callerFunc(func(m *ipc.Message) { got = m })}
	_, _ = c.Put(context.Background(), sample(), ipc.Slot{})
	if got == nil {
		t.Fatal("no message")
	}
	return got.Payload
}

type callerFunc func(m *ipc.Message)

func (f callerFunc) Call(_ context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	f(m)
	return nil, ipc.ErrPeerGone
}
