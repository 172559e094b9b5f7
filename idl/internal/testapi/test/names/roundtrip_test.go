package names_test

import (
	"context"
	"errors"
	"reflect"
	"syscall"
	"testing"

	"capsim/idl/internal/testapi/test/names"
	"capsim/ipc"
)

// loop hands a call straight to a dispatcher.
type loop struct{ h ipc.Handler }

type capture struct{ m *ipc.Message }

func (c *capture) Reply(_ *ipc.Request, m *ipc.Message) error { c.m = m; return nil }

func (l loop) Call(ctx context.Context, h ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	var rep capture
	l.h.Serve(ctx, &ipc.Request{Txn: 1, Message: *m}, &rep)
	if rep.m.Status != ipc.OK && rep.m.Status != ipc.AppError {
		return nil, &ipc.Error{Status: rep.m.Status, Reason: string(rep.m.Payload)}
	}
	return rep.m, nil
}

// server answers with its arguments, so that a test sees each parameter
// reach its own place despite the renames.
type server struct{}

func (server) Clash(_ context.Context, a, b uint8) (uint8, error) { return a*10 + b, nil }
func (server) Keywords(_ context.Context, a, b, c, d uint8) error {
	if a != 1 || b != 2 || c != 3 || d != 4 {
		return syscall.EINVAL
	}
	return nil
}
func (server) Locals(_ context.Context, a, b, c uint8) (uint8, error) { return a + b + c, nil }
func (server) Loops(_ context.Context, i0, n0 []uint8) ([][]uint8, names.Inner, error) {
	return [][]uint8{i0[:1], n0[:1]}, names.Inner{X1x: 7, I0: n0}, nil
}
func (server) Caller(context.Context) error     { return nil }
func (server) CallCaller(context.Context) error { return syscall.ENOENT }
func (server) Digits(_ context.Context, x uint8) error {
	return syscall.Errno(300 + int(x)) // wider than the UInt8 error parameter
}

func TestNamesRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := &names.Client{Caller: loop{names.NewDispatcher(server{})}}
	if v, err := c.Clash(ctx, 1, 2); err != nil || v != 12 {
		t.Errorf("Clash = %d, %v; want 12", v, err)
	}
	if err := c.Keywords(ctx, 1, 2, 3, 4); err != nil {
		t.Errorf("Keywords: %v", err)
	}
	if v, err := c.Locals(ctx, 1, 2, 3); err != nil || v != 6 {
		t.Errorf("Locals = %d, %v; want 6", v, err)
	}
	grid, inner, err := c.Loops(ctx, []uint8{1, 2}, []uint8{3, 4})
	if err != nil || !reflect.DeepEqual(grid, [][]uint8{{1}, {3}}) || inner.X1x != 7 || !reflect.DeepEqual(inner.I0, []uint8{3, 4}) {
		t.Errorf("Loops = %v, %+v, %v", grid, inner, err)
	}
	if err := c.CallCaller(ctx); err != nil {
		t.Errorf("Caller: %v", err)
	}
	// CallCaller fails, and it has no error parameters: the dispatcher
	// says so, which shows the call reached CallCaller, not Caller.
	if err := c.CallCaller_(ctx); !errors.Is(err, ipc.ErrInvalid) {
		t.Errorf("CallCaller: %v, want invalid (it failed without error parameters)", err)
	}
	if err := c.Digits(ctx, 5); !errors.Is(err, syscall.EIO) {
		t.Errorf("an errno too wide for its UInt8 parameter: %v, want EIO (not a wrapped value)", err)
	}
}
