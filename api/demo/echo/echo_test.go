package echo_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"capsim/api/demo/echo"
	"capsim/ipc"
)

// loop hands every call straight to a dispatcher, as the kernel would
// after validating it.
type loop struct{ h ipc.Handler }

type reply struct{ m *ipc.Message }

func (r *reply) Reply(_ *ipc.Request, m *ipc.Message) error { r.m = m; return nil }

func (l loop) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	var r reply
	l.h.Serve(ctx, &ipc.Request{Message: *m}, &r)
	if r.m.Status > ipc.AppError {
		return nil, &ipc.Error{Status: r.m.Status, Reason: string(r.m.Payload)}
	}
	return r.m, nil
}

type server struct{}

func (server) Ping(_ context.Context, v uint32) (uint32, error) { return v + 1, nil }
func (server) Pong(_ context.Context, v uint32) (uint32, error) { return v - 1, nil }
func (server) Echo(_ context.Context, data []byte) ([]byte, error) {
	return bytes.ToUpper(data), nil
}

func TestEcho(t *testing.T) {
	c := &echo.Client{Caller: loop{echo.NewDispatcher(server{})}}
	ctx := context.Background()
	if r, err := c.Ping(ctx, 1); err != nil || r != 2 {
		t.Errorf("Ping = %d, %v", r, err)
	}
	if r, err := c.Pong(ctx, 1); err != nil || r != 0 {
		t.Errorf("Pong = %d, %v", r, err)
	}
	if r, err := c.Echo(ctx, []byte("hi")); err != nil || string(r) != "HI" {
		t.Errorf("Echo = %q, %v", r, err)
	}
	if _, err := c.Echo(ctx, make([]byte, echo.MaxData+1)); !errors.Is(err, ipc.ErrInvalid) {
		t.Errorf("oversize Echo: %v", err)
	}
	if echo.InterfaceName != "demo.Echo" || echo.MethodEcho != 2 {
		t.Error("constants")
	}
}
