package ipc

import (
	"context"
	"sync"
	"testing"
	"time"
)

type nopResponder struct{}

func (nopResponder) Reply(*Request, *Message) error { return nil }

// TestFairShare: a client with n requests held waits with its next one;
// another client is served at once.
func TestFairShare(t *testing.T) {
	release := make(chan struct{})
	started := make(chan uint32, 10)
	h := FairShare(HandlerFunc(func(ctx context.Context, req *Request, r Responder) {
		started <- req.Badge.ID
		if req.Badge.ID == 1 {
			<-release
		}
	}), 2)
	var wg sync.WaitGroup
	serve := func(id uint32) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Serve(context.Background(), &Request{Badge: &Badge{ID: id}}, nopResponder{})
		}()
	}
	serve(1)
	serve(1)
	serve(1) // the third of client 1 waits for a slot
	for range 2 {
		if id := <-started; id != 1 {
			t.Fatalf("started %d, want client 1", id)
		}
	}
	serve(2)
	if id := <-started; id != 2 {
		t.Fatalf("started %d; client 2 should not wait for client 1", id)
	}
	select {
	case id := <-started:
		t.Fatalf("client %d started a third request while two were held", id)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if id := <-started; id != 1 {
		t.Fatalf("started %d, want client 1's third", id)
	}
	wg.Wait()
}
