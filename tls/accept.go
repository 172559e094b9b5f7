package tls

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// acceptor runs the server handshakes of one listening socket in the
// background: it accepts downstream connections as they come and shakes
// hands with each in a goroutine of its own, and Accept hands out the
// sessions that are established, in the order they finished. A slow or
// silent peer so holds only its own handshake (up to the handshake
// timeout), never the listener and the clients behind it.
//
// At most maxPending connections are in hand at once (in handshake, or
// established and not yet accepted); beyond that the acceptor stops
// accepting downstream, and the backlog of the downstream listener takes
// the rest, as a kernel's accept queue would.
type acceptor struct {
	t      *Terminator
	down   int32 // the downstream listening descriptor
	cancel context.CancelFunc
	slots  chan struct{}  // one per connection in hand
	wg     sync.WaitGroup // the loop and the handshakes

	mu      sync.Mutex
	ready   []accepted
	changed chan struct{} // closed (and replaced) when ready or err change
	err     error         // why the acceptor ended; nil while it runs
	stopped bool
}

type accepted struct {
	s    *tsock
	peer socket.Addr
}

// maxPending bounds the connections an acceptor holds. Each handshake
// holds a downstream call (its Recv), and the entity has only so many
// calls in flight (limits.inflight, 64 by default): half of them is the
// most silent peers can take, so the listener and the sessions keep the
// rest.
const maxPending = 32

// errListenerClosed ends an acceptor whose listener was closed.
var errListenerClosed = errors.New("listener closed")

// startAcceptor starts the acceptor of listening descriptor down. ctx is
// the owner's request context: its values (the client's badge, which the
// plug-in hooks see) are kept, its cancellation is not.
func (t *Terminator) startAcceptor(ctx context.Context, down int32) *acceptor {
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &acceptor{t: t, down: down, cancel: cancel, slots: make(chan struct{}, maxPending),
		changed: make(chan struct{})}
	a.wg.Add(1)
	go a.run(actx)
	return a
}

// run accepts downstream connections until the listener closes or fails;
// after a transient error it tries again, backing off.
func (a *acceptor) run(ctx context.Context) {
	defer a.wg.Done()
	var backoff time.Duration
	for {
		select {
		case a.slots <- struct{}{}:
		case <-ctx.Done():
			a.end(errListenerClosed)
			return
		}
		conn, peer, err := a.acceptDown(ctx)
		switch {
		case err == nil:
			backoff = 0
			a.wg.Add(1)
			go a.handshake(ctx, conn, peer)
			continue
		case ctx.Err() != nil:
			err = errListenerClosed
		case transientAccept(err):
			<-a.slots
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			a.t.log.Info("accept: retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-ctx.Done():
				a.end(errListenerClosed)
				return
			}
		}
		<-a.slots
		a.end(err)
		return
	}
}

// transientAccept reports an accept error that concerns one connection or
// a passing shortage, after which the listener works on (as accept(2)
// says of ECONNABORTED and the resource errors).
func transientAccept(err error) bool {
	for _, e := range []syscall.Errno{syscall.ECONNABORTED, syscall.EINTR, syscall.EMFILE,
		syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.EPROTO} {
		if errors.Is(err, e) {
			return true
		}
	}
	// The kernel refused the downstream call for a limit of this entity
	// (calls in flight, queued bytes): a shortage that passes, not the
	// end of the listener.
	return errors.Is(err, ipc.ErrLimit)
}

// acceptDown accepts one downstream connection, waiting in Poll when the
// downstream listener is non-blocking.
func (a *acceptor) acceptDown(ctx context.Context) (int32, socket.Addr, error) {
	for {
		conn, peer, err := a.t.down.Accept(ctx, a.down, 0)
		if !errors.Is(err, syscall.EAGAIN) {
			return conn, peer, err
		}
		if _, _, err := a.t.down.Poll(ctx, []socket.PollFd{{Fd: a.down, Events: pollIn}}, -1); err != nil {
			return -1, socket.Addr{}, err
		}
	}
}

// handshake runs the server handshake of conn and queues the session.
func (a *acceptor) handshake(ctx context.Context, conn int32, peer socket.Addr) {
	defer a.wg.Done()
	s, err := a.t.serverHandshake(ctx, conn, peer)
	if err != nil {
		<-a.slots
		if ctx.Err() == nil {
			pap, _ := addrPort(peer)
			a.t.log.Info("accept: tls handshake failed", "peer", pap, "err", err)
		}
		return
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		s.sess.Close()
		<-a.slots
		return
	}
	a.ready = append(a.ready, accepted{s: s, peer: peer})
	a.signalLocked()
	a.mu.Unlock()
}

func (a *acceptor) signalLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// end records why the acceptor stopped accepting; sessions already
// established can still be accepted.
func (a *acceptor) end(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
		a.signalLocked()
	}
}

// take returns the next established session, or ok false (with the
// channel that fires at the next change) when there is none; err is the
// acceptor's end once nothing is left to take.
func (a *acceptor) take() (acc accepted, ok bool, changed <-chan struct{}, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ready) > 0 {
		acc, a.ready = a.ready[0], a.ready[1:]
		<-a.slots
		return acc, true, nil, nil
	}
	return accepted{}, false, a.changed, a.err
}

// readable reports an established session waiting (or the end, which an
// Accept would report), and the channel that fires at the next change.
func (a *acceptor) readable() (bool, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ready) > 0 || a.err != nil, a.changed
}

// stop ends the acceptor for the listener's close: handshakes in progress
// are cancelled (and waited for, so that none closes a descriptor later)
// and sessions not yet accepted closed. The caller closes the downstream
// listener.
func (a *acceptor) stop() {
	a.cancel()
	a.wg.Wait()
	a.mu.Lock()
	a.stopped = true
	ready := a.ready
	a.ready = nil
	a.mu.Unlock()
	for _, acc := range ready {
		acc.s.sess.Close()
	}
}
