package netstack

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"capsim/api/capsim/socket"
	"capsim/idl"
	"capsim/idl/wire"
	"capsim/ipc"
)

type replyCapture struct{ m []*ipc.Message }

func (c *replyCapture) Reply(_ *ipc.Request, m *ipc.Message) error { c.m = append(c.m, m); return nil }

// socketRequest encodes a request the way an entity's client would.
func socketRequest(method uint16, fill func(e *wire.Encoder)) []byte {
	e := wire.NewEncoder(nil)
	fill(e)
	return append([]byte{byte(method)}, e.Bytes()...)
}

// FuzzSocketServer sends arbitrary capsim.Socket requests, as an entity
// could, to the netstack's server through the generated dispatcher: the
// first byte picks the method, the rest is the payload (addresses, socket
// option values, poll sets, names...). Each request must get exactly one
// reply; an OK or AppError reply must match the method's IDL (the kernel
// refuses any other); Invalid only for a payload the IDL refuses; a poll
// answers every descriptor and counts the ready ones; an option value
// fits the size asked for.
func FuzzSocketServer(f *testing.F) {
	iface, err := idl.NewLoader([]idl.Root{idl.BuiltinRoot()}, idl.Options{}).Package("capsim.Socket")
	if err != nil {
		f.Fatal(err)
	}
	p := newPair(f, 1500)
	srv := socket.NewDispatcher(NewServer(p.sa))
	f.Add(socketRequest(socket.MethodSocket, func(e *wire.Encoder) { e.Int32(AF_INET); e.Int32(SOCK_STREAM); e.Int32(0) }))
	f.Add(socketRequest(socket.MethodSocket, func(e *wire.Encoder) { e.Int32(AF_INET6); e.Int32(SOCK_DGRAM); e.Int32(0) }))
	f.Add(socketRequest(socket.MethodBind, func(e *wire.Encoder) {
		e.Int32(3)
		a := socket.Addr{Family: AF_INET, Port: 80, Ip: []byte{10, 0, 0, 1}}
		a.EncodeIDL(e)
	}))
	f.Add(socketRequest(socket.MethodSetSockOpt, func(e *wire.Encoder) {
		e.Int32(3)
		e.Int32(IPPROTO_TCP)
		e.Int32(TCP_KEEPIDLE)
		e.Blob(binary.LittleEndian.AppendUint32(nil, 30), MaxOpt, "")
	}))
	f.Add(socketRequest(socket.MethodGetSockOpt, func(e *wire.Encoder) { e.Int32(3); e.Int32(SOL_SOCKET); e.Int32(SO_RCVBUF); e.Uint32(2) }))
	f.Add(socketRequest(socket.MethodPoll, func(e *wire.Encoder) {
		e.Count(3, MaxPoll, "")
		for _, fd := range []int32{3, -1, 99} {
			pf := socket.PollFd{Fd: fd, Events: POLLIN | POLLOUT}
			pf.EncodeIDL(e)
		}
		e.Int32(0)
	}))
	f.Add(socketRequest(socket.MethodGetAddrInfo, func(e *wire.Encoder) { e.String("b", 255, "") }))
	f.Add(socketRequest(socket.MethodSendTo, func(e *wire.Encoder) {
		e.Int32(4)
		e.Blob([]byte("hi"), 65536, "")
		e.Uint32(0)
		a := socket.Addr{Family: AF_INET6, Port: 9, Ip: addrB6.AsSlice()}
		a.EncodeIDL(e)
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		methods := iface.Interface.Methods
		m := methods[int(b[0])%len(methods)]
		payload := b[1:]
		_, derr := idl.Decode(m.In, payload, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		badge := &ipc.Badge{ID: 1, Task: "fuzz"}
		req := &ipc.Request{Txn: 1, Badge: badge, Message: ipc.Message{Method: uint16(m.ID), Payload: append([]byte(nil), payload...)}}
		var rep replyCapture
		srv.Serve(ipc.WithBadge(ctx, badge), req, &rep)
		if len(rep.m) != 1 {
			t.Fatalf("%s: %d replies", m.Name, len(rep.m))
		}
		r := rep.m[0]
		if (r.Status == ipc.Invalid) != (derr != nil) {
			t.Fatalf("%s %x: reply status %v (%q), IDL says %v", m.Name, payload, r.Status, r.Payload, derr)
		}
		typ := m.Out
		switch r.Status {
		case ipc.Invalid:
			return
		case ipc.AppError:
			typ = m.Err
		case ipc.OK:
		default:
			t.Fatalf("%s: status %v", m.Name, r.Status)
		}
		v, err := idl.Decode(typ, r.Payload, len(r.Handles))
		if err != nil {
			t.Fatalf("%s %x: %v reply %x does not match the IDL: %v", m.Name, payload, r.Status, r.Payload, err)
		}
		if r.Status != ipc.OK {
			return
		}
		out := v.(*idl.StructValue)
		in, _ := idl.Decode(m.In, payload, 0)
		args := in.(*idl.StructValue)
		switch uint16(m.ID) {
		case socket.MethodPoll:
			fds, revents, ready := args.Fields[0].([]any), out.Fields[0].([]any), out.Fields[1].(uint64)
			if len(revents) != len(fds) {
				t.Fatalf("poll of %d descriptors answered %d", len(fds), len(revents))
			}
			n := 0
			for _, r := range revents {
				if r.(uint64) != 0 {
					n++
				}
			}
			if uint64(n) != ready {
				t.Fatalf("poll: %d ready, %d revents set", ready, n)
			}
		case socket.MethodGetSockOpt:
			if size := args.Fields[3].(uint64); uint64(len(out.Fields[0].([]byte))) > size {
				t.Fatalf("GetSockOpt of size %d gave %d bytes", size, len(out.Fields[0].([]byte)))
			}
		}
	})
	f.Cleanup(func() { p.sa.Drop(1) })
}
