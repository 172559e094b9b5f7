package netstack

import (
	"context"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
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
			revents[i] = socks[i].readiness(p.Events | alwaysPolled)
		}
		if revents[i] != 0 {
			n++
		}
	}
	return n
}

// readiness is which of events k has, as Linux's poll reports them.
// There is no urgent data, so never POLLPRI.
func (k *sock) readiness(events uint16) uint16 {
	var r uint16
	if ep, ok := k.ep.(*tcp.Endpoint); ok {
		r = k.tcpReadiness(ep)
	} else {
		r = uint16(k.ep.Readiness(waiter.EventMask(events)))
	}
	return r & events &^ POLLPRI
}

// tcpReadiness follows Linux's tcp_poll rather than gVisor's Readiness,
// which reports every event in a closed state (POLLERR and POLLPRI after
// an orderly close too), POLLHUP never while the connection is open (not
// even when both directions are shut down), POLLRDHUP not once the
// sending side is shut down as well, and nothing but POLLHUP for a socket
// never connected (Linux: POLLOUT|POLLHUP).
func (k *sock) tcpReadiness(ep *tcp.Endpoint) uint16 {
	state := ep.EndpointState()
	switch state {
	case tcp.StateListen:
		if k.shutRd.Load() {
			return POLLOUT | POLLHUP // shut down: closed, as on Linux
		}
		return uint16(ep.Readiness(waiter.ReadableEvents))
	case tcp.StateConnecting, tcp.StateSynSent, tcp.StateSynRecv:
		return 0
	}
	var closed, peerFIN, finSent bool
	switch state {
	case tcp.StateInitial, tcp.StateBound:
		closed = true
	case tcp.StateClose, tcp.StateError, tcp.StateTimeWait:
		closed, peerFIN, finSent = true, true, true
	case tcp.StateCloseWait:
		peerFIN = true
	case tcp.StateFinWait1, tcp.StateFinWait2:
		finSent = true
	case tcp.StateClosing, tcp.StateLastAck:
		peerFIN, finSent = true, true
	}
	rcvShut := peerFIN || k.shutRd.Load()
	sndShut := finSent || k.shutWr.Load()
	var r uint16
	if closed || rcvShut && sndShut {
		r |= POLLHUP
	}
	if rcvShut {
		r |= POLLIN | POLLRDHUP
	}
	if closed || sndShut {
		r |= POLLOUT
	} else {
		r |= uint16(ep.Readiness(waiter.ReadableEvents|waiter.WritableEvents)) & (POLLIN | POLLOUT)
	}
	// An error, as far as it shows without consuming it (SO_ERROR): the
	// error state, or a closed connection that never sent its FIN, so was
	// reset (a graceful close in both directions ends in TIME_WAIT, or
	// closed after our SHUT_WR).
	if state == tcp.StateError || state == tcp.StateClose && !k.shutWr.Load() {
		r |= POLLERR
	}
	return r
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
			// Any event, whatever was asked: gVisor signals a peer's FIN
			// as readable (not POLLRDHUP), a full close as POLLHUP only
			// sometimes; each wake-up merely scans again.
			entries[i] = waiter.NewFunctionEntry(waiter.AllEvents, wake)
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
