package kernel_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	echoapi "capsim/api/demo/echo"
	"capsim/entities"
	"capsim/ipc"
)

// Entity programs used only by the kernel's tests.
func testPrograms() []*entities.Program {
	return []*entities.Program{
		{Name: "test-hold-server", Class: "demo.EchoServer", Run: runHoldServer},
		{Name: "test-restart-client", Class: "demo.EchoClient", Run: runRestartClient},
		{Name: "test-raw", Class: "demo.EchoClient", Run: runRaw},
		{Name: "test-net-probe", Class: "demo.EchoClient", Run: runNetProbe},
		{Name: "bench-client", Class: "demo.EchoClient", Run: runBenchClient},
		{Name: "test-gone-server", Class: "demo.EchoServer", Run: runGoneServer},
		{Name: "test-handle-limit", Class: "demo.EchoClient", Run: runHandleLimit},
		{Name: "test-deaf-holder", Class: "ktest.Holder", Run: runDeafHolder},
		{Name: "test-giver", Class: "ktest.Giver", Run: runGiver},
	}
}

// holdServer answers Ping(v) with v+1, except Ping(7), which it holds until
// the kernel cancels it.
type holdServer struct{}

func (holdServer) Serve(ctx context.Context, req *ipc.Request, r ipc.Responder) {
	if len(req.Payload) != 4 {
		_ = r.Reply(req, &ipc.Message{Status: ipc.Invalid})
		return
	}
	v := binary.LittleEndian.Uint32(req.Payload)
	if v == 7 {
		<-ctx.Done()
		return
	}
	_ = r.Reply(req, &ipc.Message{Payload: binary.LittleEndian.AppendUint32(nil, v+1)})
}

func runHoldServer(ctx context.Context, rt *entities.Runtime, args []string) int {
	if err := rt.Handle("echo", holdServer{}); err != nil {
		return exitf(1, "%v", err)
	}
	_ = rt.Serve(ctx)
	return 0
}

// runRestartClient holds a call at the server, expects "peer gone" when the
// server is killed, then calls until the restarted server answers.
func runRestartClient(ctx context.Context, rt *entities.Runtime, args []string) int {
	h, riid, err := rt.Lookup(ctx, "echo", "demo.Echo")
	if err != nil {
		return exitf(1, "lookup: %v", err)
	}
	c := &echoapi.Client{Caller: rt, Handle: h, Endpoint: riid}
	fmt.Println("holding")
	_, err = c.Ping(ctx, 7)
	if !errors.Is(err, ipc.ErrPeerGone) {
		return exitf(1, "held call: got %v, want peer gone", err)
	}
	fmt.Printf("held call: %v\n", err)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		v, err := c.Ping(cctx, 1)
		cancel()
		if err == nil && v == 2 {
			return exitf(0, "server back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return exitf(1, "server did not come back")
}

// runRaw attacks the kernel with malformed frames and bad handles, checking
// each answer, and proves the kernel still serves a good call at the end.
func runRaw(ctx context.Context, rt *entities.Runtime, args []string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, riid, err := rt.Lookup(ctx, "echo", "demo.Echo")
	if err != nil {
		return exitf(1, "lookup: %v", err)
	}
	ping := binary.LittleEndian.AppendUint32(nil, 1)
	frame := func(mut func(h *ipc.Header) []ipc.Slot, payload []byte) []byte {
		hdr := ipc.Header{Kind: ipc.KindCall, Handle: uint32(h), Txn: rt.NextTxn(), Endpoint: riid}
		slots := mut(&hdr)
		return ipc.Append(nil, hdr, slots, payload)
	}
	cases := []struct {
		name string
		do   func() error
		want ipc.Status
	}{
		{"forged handle", func() error {
			_, err := rt.Call(ctx, 999, &ipc.Message{Endpoint: riid, Payload: ping})
			return err
		}, ipc.BadHandle},
		{"unknown endpoint", func() error {
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: 9, Payload: ping})
			return err
		}, ipc.Invalid},
		{"unknown method", func() error {
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: 40, Payload: ping})
			return err
		}, ipc.Invalid},
		{"payload breaks the IDL", func() error {
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: ping[:3]})
			return err
		}, ipc.Invalid},
		{"trailing bytes", func() error {
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: append(ping, 0)})
			return err
		}, ipc.Invalid},
		{"reserved flags", func() error {
			b := frame(func(*ipc.Header) []ipc.Slot { return nil }, ping)
			b[1] = 0x80
			_, err := rt.CallRaw(ctx, b)
			return err
		}, ipc.Invalid},
		{"handle slots beyond the frame", func() error {
			b := frame(func(*ipc.Header) []ipc.Slot { return nil }, ping)
			b[2] = 9
			_, err := rt.CallRaw(ctx, b)
			return err
		}, ipc.Invalid},
		{"forged handle in a slot", func() error {
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: ping, Handles: []ipc.Slot{{Handle: 4242, Rights: ipc.RightCall}}})
			return err
		}, ipc.BadHandle},
		{"transfer with more rights than held", func() error {
			dup, err := dupHandle(ctx, rt, h, ipc.RightCall) // a handle without the transfer right
			if err != nil {
				return err
			}
			_, err = rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: ping, Handles: []ipc.Slot{{Handle: dup, Rights: ipc.RightCall}}})
			return err
		}, ipc.BadHandle},
		{"a handle no parameter names", func() error {
			// Ping has no Handle parameter: a handle in a slot would
			// travel past the policy's view of the message.
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: ping, Handles: []ipc.Slot{{Handle: h, Rights: ipc.RightCall}}})
			return err
		}, ipc.Invalid},
		{"a message over limits.message (64 bytes)", func() error {
			p := binary.LittleEndian.AppendUint32(nil, 100)
			_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: 2, Payload: append(p, make([]byte, 100)...)})
			return err
		}, ipc.Limit},
		{"a deadline already past", func() error {
			b := frame(func(hdr *ipc.Header) []ipc.Slot { hdr.Deadline = 1; return nil }, ping)
			_, err := rt.CallRaw(ctx, b)
			return err
		}, ipc.DeadlineExceeded},
		{"kernel call with garbage", func() error {
			_, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Payload: []byte{0xff, 0xff, 0xff, 0xff, 1}})
			return err
		}, ipc.Invalid},
	}
	failed := 0
	for _, c := range cases {
		err := c.do()
		if got := ipc.StatusOf(err); got != c.want {
			failed++
			fmt.Printf("FAIL %s: got %v (%v), want %v\n", c.name, got, err, c.want)
			continue
		}
		fmt.Printf("ok %s: %v\n", c.name, err)
	}
	// Frames with no answer: garbage too short for a header, and a reply
	// to a call that never came. The kernel must drop them and go on.
	_, _ = rt.CallRaw(ctx, []byte{1, 2, 3})
	_, _ = rt.CallRaw(ctx, ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: 12345}, nil, []byte("forged reply")))
	c := &echoapi.Client{Caller: rt, Handle: h, Endpoint: riid}
	if v, err := c.Ping(ctx, 41); err != nil || v != 42 {
		return exitf(1, "kernel broken after the attacks: Ping(41) = %d, %v", v, err)
	}
	if failed > 0 {
		return exitf(1, "%d attacks were answered wrongly", failed)
	}
	return exitf(0, "all attacks answered; kernel still serving")
}

func dupHandle(ctx context.Context, rt *entities.Runtime, h ipc.Handle, rights ipc.Rights) (ipc.Handle, error) {
	p := binary.LittleEndian.AppendUint32(nil, uint32(h))
	p = binary.LittleEndian.AppendUint32(p, uint32(rights))
	r, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: 1, Method: 1, Payload: p})
	if err != nil {
		return 0, err
	}
	if r.Status != ipc.OK || len(r.Payload) != 4 {
		return 0, fmt.Errorf("dup failed")
	}
	return ipc.Handle(binary.LittleEndian.Uint32(r.Payload)), nil
}

// runNetProbe tries to reach a TCP listener on the host's loopback and
// prints the outcome.
func runNetProbe(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) != 1 {
		return exitf(2, "usage: test-net-probe ADDR")
	}
	c, err := net.DialTimeout("tcp", args[0], 2*time.Second)
	if err != nil {
		return exitf(0, "connect %s: %v", args[0], err)
	}
	c.Close()
	return exitf(3, "connect %s: reached the host's loopback", args[0])
}

// runGoneServer serves demo.Echo and prints each gone notice it gets.
func runGoneServer(ctx context.Context, rt *entities.Runtime, args []string) int {
	rt.OnGone(func(b *ipc.Badge) { fmt.Printf("gone: %s (badge %d, channel %s)\n", b.Task, b.ID, b.Channel) })
	if err := rt.Handle("echo", holdServer{}); err != nil {
		return exitf(1, "%v", err)
	}
	_ = rt.Serve(ctx)
	return 0
}

// runHandleLimit duplicates its channel until the kernel refuses with
// EMFILE, prints how many handles it then holds, and shows that closing
// one makes room for one more.
func runHandleLimit(ctx context.Context, rt *entities.Runtime, args []string) int {
	h, _, err := rt.Lookup(ctx, "echo", "demo.Echo")
	if err != nil {
		return exitf(1, "lookup: %v", err)
	}
	dup := func() (ipc.Handle, uint32, error) {
		p := binary.LittleEndian.AppendUint32(nil, uint32(h))
		p = binary.LittleEndian.AppendUint32(p, uint32(ipc.RightCall))
		r, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: 1, Method: 1, Payload: p})
		switch {
		case err != nil:
			return 0, 0, err
		case r.Status == ipc.AppError && len(r.Payload) == 4:
			return 0, binary.LittleEndian.Uint32(r.Payload), nil
		case r.Status != ipc.OK || len(r.Payload) != 4:
			return 0, 0, fmt.Errorf("dup: status %v", r.Status)
		}
		return ipc.Handle(binary.LittleEndian.Uint32(r.Payload)), 0, nil
	}
	held := 1
	var last ipc.Handle
	for range 100000 {
		nh, errno, err := dup()
		if err != nil {
			return exitf(1, "dup %d: %v", held, err)
		}
		if errno != 0 {
			fmt.Printf("refused at %d handles: errno %d\n", held, errno)
			break
		}
		held++
		last = nh
	}
	p := binary.LittleEndian.AppendUint32(nil, uint32(last))
	if r, err := rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: 1, Method: 0, Payload: p}); err != nil || r.Status != ipc.OK {
		return exitf(1, "close: %v", err)
	}
	if _, errno, err := dup(); err != nil || errno != 0 {
		return exitf(1, "dup after close: errno %d, %v", errno, err)
	}
	return exitf(0, "room again after close")
}
