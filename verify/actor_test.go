package verify_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"capsim/entities"
	"capsim/idl/wire"
	"capsim/ipc"
)

// vt.Cap methods (testdata/real/idl/vt/Cap.idl).
const (
	mGive = iota
	mTake
	mPing
	mFail
)

// actorProgram is capsim:vt-actor, the program of every entity of the
// differential tests. Its arguments are steps, run in order:
//
//	serve            serve vt.Cap (Give keeps the handle, Take and Fail
//	                 hand back the offered one, Ping answers v+1)
//	conn:ID          look up channel ID under the name ID
//	give:H:X         call Give on H, passing X
//	take:H:NAME      call Take on H, naming the handle it returns NAME
//	fail:H:NAME      call Fail on H, naming the handle its error carries NAME
//	ping:H[:TAG]     call Ping on H
//	got:NAME         wait for a handle given to it, naming it NAME
//	offer:X          hand X to Take and Fail from now on
//	sleep:D          wait D
//	done             stop serving after the last step
//
// A step that fails is printed and skipped. After the last step a serving
// actor serves until the run ends.
func actorProgram() *entities.Program {
	return &entities.Program{Name: "vt-actor", Class: "vt.Client", Summary: "verify's differential test actor",
		Run: func(ctx context.Context, rt *entities.Runtime, args []string) int {
			a := &actor{rt: rt, pool: map[string]ipc.Slot{}, given: make(chan ipc.Slot, 16)}
			return a.run(ctx, args)
		}}
}

type actor struct {
	rt      *entities.Runtime
	mu      sync.Mutex
	pool    map[string]ipc.Slot
	offered *ipc.Slot
	given   chan ipc.Slot
	serving bool
}

func (a *actor) run(ctx context.Context, args []string) int {
	for _, step := range args {
		f := strings.Split(step, ":")
		if err := a.step(ctx, f); err != nil {
			fmt.Printf("%s: %v\n", step, err)
		} else {
			fmt.Printf("%s: ok\n", step)
		}
	}
	if a.serving {
		_ = a.rt.Serve(ctx)
	}
	return 0
}

func (a *actor) step(ctx context.Context, f []string) error {
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	switch f[0] {
	case "serve":
		a.serving = true
		return a.rt.Handle("cap", ipc.HandlerFunc(a.serve))
	case "conn":
		h, err := a.rt.Channel(ctx, arg(1))
		if err == nil {
			a.put(arg(1), ipc.Slot{Handle: h, Rights: ipc.RightsAll})
		}
		return err
	case "give":
		x, ok := a.get(arg(2))
		if !ok {
			return fmt.Errorf("no handle %s", arg(2))
		}
		_, err := a.call(ctx, arg(1), mGive, u32(0), []ipc.Slot{x})
		return err
	case "take", "fail":
		m := map[string]uint16{"take": mTake, "fail": mFail}[f[0]]
		r, err := a.call(ctx, arg(1), m, u32(0), nil)
		if err != nil {
			return err
		}
		if len(r.Handles) != 1 {
			return fmt.Errorf("no handle in the reply")
		}
		a.put(arg(2), r.Handles[0])
		return nil
	case "ping":
		e := wire.NewEncoder(u32(1))
		e.String(arg(2), 16, "tag")
		_, err := a.call(ctx, arg(1), mPing, e.Bytes(), nil)
		return err
	case "got":
		select {
		case s := <-a.given:
			a.put(arg(1), s)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case "offer":
		x, ok := a.get(arg(1))
		if !ok {
			return fmt.Errorf("no handle %s", arg(1))
		}
		a.mu.Lock()
		a.offered = &x
		a.mu.Unlock()
		return nil
	case "done":
		a.serving = false
		return nil
	case "sleep":
		d, err := time.ParseDuration(arg(1))
		if err == nil {
			time.Sleep(d)
		}
		return err
	}
	return fmt.Errorf("unknown step")
}

// call calls method m of vt.Cap (endpoint 0 of every serving class).
func (a *actor) call(ctx context.Context, h string, m uint16, payload []byte, slots []ipc.Slot) (*ipc.Message, error) {
	s, ok := a.get(h)
	if !ok {
		return nil, fmt.Errorf("no handle %s", h)
	}
	r, err := a.rt.Call(ctx, s.Handle, &ipc.Message{Endpoint: 0, Method: m, Payload: payload, Handles: slots})
	if err == nil && r.Status != ipc.OK {
		err = fmt.Errorf("application error")
		if len(r.Handles) > 0 {
			err = nil // Fail's error carries the handle
		}
	}
	return r, err
}

func (a *actor) serve(ctx context.Context, req *ipc.Request, r ipc.Responder) {
	a.mu.Lock()
	offered := a.offered
	a.mu.Unlock()
	switch req.Method {
	case mGive:
		if len(req.Handles) == 1 {
			a.given <- req.Handles[0]
		}
		_ = r.Reply(req, &ipc.Message{Payload: u32(0)})
	case mTake, mFail:
		var slots []ipc.Slot
		if offered != nil {
			slots = []ipc.Slot{*offered}
		}
		if req.Method == mTake {
			_ = r.Reply(req, &ipc.Message{Payload: u32(0), Handles: slots})
		} else {
			_ = r.Reply(req, &ipc.Message{Status: ipc.AppError, Payload: u32(0), Handles: slots})
		}
	default:
		_ = r.Reply(req, &ipc.Message{Payload: u32(2)})
	}
}

func (a *actor) put(name string, s ipc.Slot) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pool[name] = s
}

func (a *actor) get(name string) (ipc.Slot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.pool[name]
	return s, ok
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
