package netstack

import (
	"context"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/waiter"
)

// MaxPoll is the most descriptors one Poll may name (capsim.Socket MaxPoll).
const MaxPoll = 1024

// PollFd asks for the events (POLLIN, POLLOUT, ...) of one descriptor; a
// negative Fd is skipped (its revents are 0).
type PollFd struct {
	Fd     int32
	Events uint16
}

// alwaysPolled are reported whether asked for or not, as in poll(2).
const alwaysPolled = POLLERR | POLLHUP

// Poll waits until one of fds is ready, timeoutMs passes (negative: no
// limit; 0: do not wait) or ctx ends, and returns the events of each
// (POLLNVAL for a descriptor the client does not have) and how many
// descriptors have any. Running out of time is not an error: ready is 0.
// A ctx that ends first gives EINTR (cancelled) or ETIMEDOUT (deadline).
func (s *Sockets) Poll(ctx context.Context, client uint32, fds []PollFd, timeoutMs int32) ([]uint16, uint32, error) {
	if len(fds) > MaxPoll {
		return nil, 0, syscall.EINVAL
	}
	socks := make([]*sock, len(fds))
	for i, p := range fds {
		if p.Fd >= 0 {
			socks[i], _ = s.lookup(client, p.Fd)
		}
	}
	revents := make([]uint16, len(fds))
	if n := scan(fds, socks, revents); n > 0 || timeoutMs == 0 {
		return revents, n, nil
	}
	notify := make(chan struct{}, 1)
	unregister := register(fds, socks, notify)
	defer unregister()
	var expired <-chan time.Time
	if timeoutMs > 0 {
		t := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
		defer t.Stop()
		expired = t.C
	}
	for {
		if n := scan(fds, socks, revents); n > 0 {
			return revents, n, nil
		}
		select {
		case <-notify:
		case <-expired:
			return revents, 0, nil
		case <-ctx.Done():
			return nil, 0, ctxErrno(ctx)
		}
	}
}

// scan fills revents and counts the ready descriptors.
func scan(fds []PollFd, socks []*sock, revents []uint16) uint32 {
	var n uint32
	for i, p := range fds {
		switch {
		case p.Fd < 0:
			revents[i] = 0
		case socks[i] == nil:
			revents[i] = POLLNVAL
		default:
			mask := waiter.EventMask(p.Events | alwaysPolled)
			revents[i] = uint16(socks[i].ep.Readiness(mask) & mask)
		}
		if revents[i] != 0 {
			n++
		}
	}
	return n
}

// register asks every socket's wait queue to signal notify; the returned
// function undoes it.
func register(fds []PollFd, socks []*sock, notify chan struct{}) func() {
	entries := make([]waiter.Entry, len(fds))
	wake := func(waiter.EventMask) {
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	for i, k := range socks {
		if k != nil {
			entries[i] = waiter.NewFunctionEntry(waiter.EventMask(fds[i].Events|alwaysPolled), wake)
			k.wq.EventRegister(&entries[i])
		}
	}
	return func() {
		for i, k := range socks {
			if k != nil {
				k.wq.EventUnregister(&entries[i])
			}
		}
	}
}
