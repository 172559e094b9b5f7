package tls

import (
	"context"
	"reflect"
	"syscall"
	"time"

	"capsim/api/capsim/socket"
)

// pollSet is one Poll call split into TLS sessions and TLS listeners,
// whose readiness the terminator knows, and descriptors the downstream
// backend must poll.
type pollSet struct {
	revents  []uint16
	sessIdx  []int
	sessions []*tsock
	accIdx   []int
	accs     []*acceptor // listeners whose handshakes run here
	downIdx  []int
	downFds  []socket.PollFd
}

func (t *Terminator) splitPoll(ctx context.Context, fds []socket.PollFd) *pollSet {
	p := &pollSet{revents: make([]uint16, len(fds))}
	for i, pfd := range fds {
		if pfd.Fd < 0 {
			continue // as poll(2): skipped, revents 0
		}
		s, err := t.sock(ctx, pfd.Fd)
		if err != nil {
			p.revents[i] = pollNval
			continue
		}
		s.mu.Lock()
		sess, down, acc := s.sess, s.down, s.acc
		s.mu.Unlock()
		switch {
		case sess != nil:
			p.sessIdx, p.sessions = append(p.sessIdx, i), append(p.sessions, s)
		case acc != nil && down >= 0:
			p.accIdx, p.accs = append(p.accIdx, i), append(p.accs, acc)
		case down < 0:
			p.revents[i] = pollNval
		default:
			p.downIdx = append(p.downIdx, i)
			p.downFds = append(p.downFds, socket.PollFd{Fd: down, Events: pfd.Events})
		}
	}
	return p
}

// scanSessions sets the revents of sessions and listeners and returns the
// channels that fire at their next change (taken before the scan, so none
// is missed).
func (p *pollSet) scanSessions(fds []socket.PollFd) []<-chan struct{} {
	chans := make([]<-chan struct{}, len(p.sessions), p.known())
	for k, s := range p.sessions {
		s.mu.Lock()
		sess, shut := s.sess, s.shutWr
		s.mu.Unlock()
		chans[k] = sess.Changed()
		var ev uint16
		if sess.Readable() {
			ev |= pollIn
		}
		if !shut {
			ev |= pollOut
		}
		i := p.sessIdx[k]
		p.revents[i] = ev & fds[i].Events
		if shut && sess.Ended() {
			p.revents[i] |= pollHup
		}
	}
	for k, a := range p.accs {
		ready, changed := a.readable()
		chans = append(chans, changed)
		if i := p.accIdx[k]; ready {
			p.revents[i] = pollIn & fds[i].Events
		}
	}
	return chans
}

// known is how many descriptors the terminator answers for itself.
func (p *pollSet) known() int { return len(p.sessions) + len(p.accs) }

func (p *pollSet) ready() uint32 {
	n := uint32(0)
	for _, r := range p.revents {
		if r != 0 {
			n++
		}
	}
	return n
}

// Poll implements socket.Server: TLS sessions report POLLIN when decrypted
// data is buffered or the stream ended, POLLOUT until shut down for
// writing; other descriptors are polled downstream. A negative timeout
// waits for ever.
func (t *Terminator) Poll(ctx context.Context, fds []socket.PollFd, timeoutMs int32) ([]uint16, uint32, error) {
	p := t.splitPoll(ctx, fds)
	var deadline time.Time
	if timeoutMs >= 0 {
		deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
	for {
		chans := p.scanSessions(fds)
		if len(p.downFds) > 0 {
			wait := p.downWait(deadline, timeoutMs)
			rev, _, err := t.down.Poll(ctx, p.downFds, wait)
			if err != nil {
				return nil, 0, errnoOf(err)
			}
			if len(rev) != len(p.downFds) {
				return nil, 0, syscall.EIO // not an answer to this poll
			}
			for k, i := range p.downIdx {
				// Only the events asked for and those always reported.
				p.revents[i] = rev[k] & (fds[i].Events | pollErr | pollHup | pollNval)
			}
		}
		if n := p.ready(); n > 0 || (!deadline.IsZero() && !time.Now().Before(deadline)) {
			return p.revents, n, nil
		}
		if len(p.downFds) == 0 {
			if err := waitAny(ctx, chans, deadline); err != nil {
				return nil, 0, err
			}
		} else if ctx.Err() != nil {
			return nil, 0, syscall.ECANCELED
		}
	}
}

// downWait is the downstream poll timeout: none when a session is already
// ready, slices while sessions must be rechecked, else what remains.
func (p *pollSet) downWait(deadline time.Time, timeoutMs int32) int32 {
	if p.ready() > 0 {
		return 0
	}
	remain := int32(-1)
	if !deadline.IsZero() {
		remain = int32(max(0, time.Until(deadline).Milliseconds()))
	}
	if p.known() == 0 {
		if timeoutMs < 0 {
			return -1
		}
		return remain
	}
	slice := int32(pollSlice.Milliseconds())
	if remain >= 0 && remain < slice {
		return remain
	}
	return slice
}

// waitAny blocks until one channel fires, ctx is done or the deadline.
func waitAny(ctx context.Context, chans []<-chan struct{}, deadline time.Time) error {
	cases := make([]reflect.SelectCase, 0, len(chans)+2)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})
	}
	for _, ch := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	if chosen, _, _ := reflect.Select(cases); chosen == 0 {
		return syscall.ECANCELED
	}
	return nil
}

// pollSlice is how long one downstream poll waits when sessions are
// polled too: their readiness is rechecked between slices.
const pollSlice = 20 * time.Millisecond
