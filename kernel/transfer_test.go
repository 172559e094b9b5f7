package kernel_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"capsim/entities"
	"capsim/ipc"
	"capsim/kernel"
)

// Carrier methods (testdata/idl/ktest/Carrier.idl).
const (
	mGive = 0
	mFill = 1
)

// runDeafHolder reads nothing for args[0], then answers each Give with
// the number of the handle it received.
func runDeafHolder(ctx context.Context, rt *entities.Runtime, args []string) int {
	d, _ := time.ParseDuration(args[0])
	time.Sleep(d)
	if err := rt.Handle("carrier", numberingHolder{}); err != nil {
		return exitf(1, "%v", err)
	}
	_ = rt.Serve(ctx)
	return 0
}

// numberingHolder answers Give with the number of the handle it got.
type numberingHolder struct{}

func (numberingHolder) Serve(ctx context.Context, req *ipc.Request, r ipc.Responder) {
	if req.Method != mGive {
		_ = r.Reply(req, &ipc.Message{})
		return
	}
	var n uint32
	if len(req.Handles) == 1 {
		n = uint32(req.Handles[0].Handle)
	}
	_ = r.Reply(req, &ipc.Message{Payload: binary.LittleEndian.AppendUint32(nil, n)})
}

// runGiver fills the deaf holder's queue, then gives it handles the
// kernel cannot deliver, then, once the holder reads again, one it can:
// it prints the number the holder got for that one.
func runGiver(ctx context.Context, rt *entities.Runtime, args []string) int {
	h, err := rt.Channel(ctx, "carrier")
	if err != nil {
		return exitf(1, "channel: %v", err)
	}
	fill := binary.LittleEndian.AppendUint32(nil, 60000)
	fill = append(fill, make([]byte, 60000)...)
	// Calls that wait at the deaf holder, each size until one is refused,
	// from 60000 bytes down to none: then no frame fits in its queue.
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for size := 60000; ; size /= 2 {
		refused := make(chan struct{}, 1)
		for n := 0; n < 100; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := binary.LittleEndian.AppendUint32(nil, uint32(size))
				_, err := rt.Call(cctx, h, &ipc.Message{Endpoint: 0, Method: mFill, Payload: append(p, make([]byte, size)...)})
				if ipc.StatusOf(err) == ipc.Limit {
					select {
					case refused <- struct{}{}:
					default:
					}
				}
			}()
			select {
			case <-refused:
				n = 100
			case <-time.After(20 * time.Millisecond):
			}
		}
		if size == 0 {
			break
		}
	}
	lost := 0
	give := binary.LittleEndian.AppendUint32(nil, 0) // slot 0
	for range 200 {
		_, err := rt.Call(ctx, h, &ipc.Message{Endpoint: 0, Method: mGive, Payload: give,
			Handles: []ipc.Slot{{Handle: h, Rights: ipc.RightCall}}})
		if ipc.StatusOf(err) == ipc.Limit {
			lost++
		}
	}
	cancel()
	wg.Wait()
	fmt.Printf("refused gives: %d\n", lost)
	for range 200 {
		m, err := rt.Call(ctx, h, &ipc.Message{Endpoint: 0, Method: mGive, Payload: give,
			Handles: []ipc.Slot{{Handle: h, Rights: ipc.RightCall}}})
		if err == nil && len(m.Payload) == 4 {
			return exitf(0, "delivered give: handle %d", binary.LittleEndian.Uint32(m.Payload))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return exitf(1, "no give was delivered")
}

// TestUndeliveredMessageLeavesNoHandles: handles in a message the kernel
// refuses (the receiver's queue is full) must not stay in the receiver's
// table.
func TestUndeliveredMessageLeavesNoHandles(t *testing.T) {
	holder := entity(t, "holder", "ktest.Holder", "test-deaf-holder", "4s")
	// Room for 50 handles: had the 200 refused gives left theirs, the
	// table would be full and no later give could be delivered.
	holder.Limits = kernel.Limits{Message: 128 << 10, Queued: 256 << 10, Handles: 50}
	giver := entity(t, "giver", "ktest.Giver", "test-giver")
	giver.Main = true
	giver.Limits = kernel.Limits{Inflight: 1000}
	giver.Connections = []kernel.Connection{{Target: "holder", ID: "carrier"}}
	s := startSystem(t, kernel.Config{Entities: []kernel.EntitySpec{holder, giver}}, nil)
	s.wait(t)
	s.expectExit(t, "giver", 0)
	out := s.k.Output("giver")
	if !strings.Contains(out, "refused gives: 200") {
		t.Fatalf("the holder's queue was not full for every give:\n%s", out)
	}
	if !strings.Contains(out, "delivered give: handle") {
		t.Errorf("no give reached the holder after it woke:\n%s", out)
	}
}
