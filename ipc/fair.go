package ipc

import (
	"context"
	"sync"
)

// FairShare returns a Handler that serves at most n requests of one
// client (by badge) at a time; a client's further requests wait for its
// own earlier ones, others' do not. A server that forwards blocking calls
// (a VFS in front of a netstack, a TLS entity) has only so many calls in
// flight downstream (limits.inflight): without a share, one client's
// blocked receives would take them all and stall every other client.
// Requests without a badge share one allowance.
func FairShare(h Handler, n int) Handler {
	return &fairShare{h: h, n: n, busy: make(map[uint32]*clientShare)}
}

type fairShare struct {
	h    Handler
	n    int
	mu   sync.Mutex
	busy map[uint32]*clientShare
}

type clientShare struct {
	slots chan struct{}
	users int // requests holding or waiting for a slot
}

func (f *fairShare) Serve(ctx context.Context, req *Request, r Responder) {
	var id uint32
	if req.Badge != nil {
		id = req.Badge.ID
	}
	f.mu.Lock()
	cs := f.busy[id]
	if cs == nil {
		cs = &clientShare{slots: make(chan struct{}, f.n)}
		f.busy[id] = cs
	}
	cs.users++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if cs.users--; cs.users == 0 {
			delete(f.busy, id)
		}
		f.mu.Unlock()
	}()
	select {
	case cs.slots <- struct{}{}:
	case <-ctx.Done(): // cancelled or past its deadline while waiting
		_ = r.Reply(req, &Message{Status: DeadlineExceeded})
		return
	}
	defer func() { <-cs.slots }()
	f.h.Serve(ctx, req, r)
}
