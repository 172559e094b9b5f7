package echo

// A hand-written client proxy and dispatcher for demo.Echo, in the shape the
// IDL code generator produces; replaced by the generated package.

import (
	"context"
	"encoding/binary"
	"errors"

	"capsim/ipc"
)

const (
	methodPing = 0
	methodPong = 1
	methodEcho = 2
)

// Client calls demo.Echo.
type Client struct {
	Caller   ipc.Caller
	Handle   ipc.Handle
	Endpoint uint16
}

func (c *Client) call(ctx context.Context, mid uint16, p []byte) ([]byte, error) {
	r, err := c.Caller.Call(ctx, c.Handle, &ipc.Message{Endpoint: c.Endpoint, Method: mid, Payload: p})
	if err != nil {
		return nil, err
	}
	if r.Status != ipc.OK {
		return nil, errors.New("echo: unexpected error reply")
	}
	return r.Payload, nil
}

func (c *Client) u32(ctx context.Context, mid uint16, v uint32) (uint32, error) {
	p, err := c.call(ctx, mid, binary.LittleEndian.AppendUint32(nil, v))
	if err != nil {
		return 0, err
	}
	if len(p) != 4 {
		return 0, errors.New("echo: malformed reply")
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (c *Client) Ping(ctx context.Context, value uint32) (uint32, error) {
	return c.u32(ctx, methodPing, value)
}
func (c *Client) Pong(ctx context.Context, value uint32) (uint32, error) {
	return c.u32(ctx, methodPong, value)
}

func (c *Client) Echo(ctx context.Context, data []byte) ([]byte, error) {
	p := binary.LittleEndian.AppendUint32(nil, uint32(len(data)))
	p, err := c.call(ctx, methodEcho, append(p, data...))
	if err != nil {
		return nil, err
	}
	if len(p) < 4 || int(binary.LittleEndian.Uint32(p)) != len(p)-4 {
		return nil, errors.New("echo: malformed reply")
	}
	return p[4:], nil
}

// Dispatcher serves demo.Echo.
type Dispatcher struct{ s Server }

func NewDispatcher(s Server) *Dispatcher { return &Dispatcher{s} }

func (d *Dispatcher) Serve(ctx context.Context, req *ipc.Request, r ipc.Responder) {
	p := req.Payload
	var out []byte
	switch req.Method {
	case methodPing, methodPong:
		if len(p) != 4 {
			break
		}
		v, _ := d.s.Ping(ctx, binary.LittleEndian.Uint32(p))
		out = binary.LittleEndian.AppendUint32(nil, v)
	case methodEcho:
		if len(p) < 4 || int(binary.LittleEndian.Uint32(p)) != len(p)-4 {
			break
		}
		out = p
	}
	if out == nil {
		_ = r.Reply(req, &ipc.Message{Status: ipc.Invalid})
		return
	}
	_ = r.Reply(req, &ipc.Message{Payload: out})
}
