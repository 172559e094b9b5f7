package netstack

import (
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"
)

// nicGuard works around a gVisor fdbased behaviour on SOCK_SEQPACKET
// sockets: when the peer closes, recvmmsg returns zero-length messages at
// once instead of EAGAIN, so the RecvMMsg dispatcher spins and never sees
// its stop request (Stack.Destroy then waits forever). The guard watches
// the NIC socket for hang-up and, on hang-up or Close, puts a quiet socket
// (one end of a private pair that never carries data) in the descriptor's
// place, so the dispatcher gets EAGAIN, polls, and notices the stop.
type nicGuard struct {
	fd    int
	quiet [2]int // socket pair; quiet[0] replaces fd
	stop  [2]int // pipe ending the watcher
	log   *slog.Logger

	once    sync.Once
	watched chan struct{}
}

func newNICGuard(fd int, log *slog.Logger) (*nicGuard, error) {
	g := &nicGuard{fd: fd, log: log, watched: make(chan struct{})}
	q, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("NIC guard socket pair: %w", err)
	}
	g.quiet = [2]int{q[0], q[1]}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(q[0])
		unix.Close(q[1])
		return nil, fmt.Errorf("NIC guard pipe: %w", err)
	}
	g.stop = p
	go g.watch()
	return g, nil
}

// watch waits for the NIC's peer to hang up (or for close).
func (g *nicGuard) watch() {
	defer close(g.watched)
	for {
		fds := []unix.PollFd{
			{Fd: int32(g.fd), Events: unix.POLLRDHUP},
			{Fd: int32(g.stop[0]), Events: unix.POLLIN},
		}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			g.log.Warn("NIC guard poll failed", "err", err)
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			g.log.Info("NIC peer closed; link down")
			g.quieten()
			return
		}
	}
}

// quieten puts the quiet socket in the NIC descriptor's place (closing
// the original, so the peer sees the link close).
func (g *nicGuard) quieten() {
	g.once.Do(func() {
		if err := unix.Dup3(g.quiet[0], g.fd, unix.O_CLOEXEC); err != nil {
			g.log.Warn("NIC guard dup3 failed", "err", err)
		}
	})
}

// shutdown stops the watcher and quietens the NIC; call before
// Stack.Destroy.
func (g *nicGuard) shutdown() {
	unix.Write(g.stop[1], []byte{0})
	<-g.watched
	g.quieten()
}

// release closes the guard's descriptors and the NIC descriptor; call
// after Stack.Destroy.
func (g *nicGuard) release() error {
	for _, fd := range []int{g.quiet[0], g.quiet[1], g.stop[0], g.stop[1]} {
		unix.Close(fd)
	}
	if err := unix.Close(g.fd); err != nil {
		return fmt.Errorf("close NIC fd %d: %w", g.fd, err)
	}
	return nil
}
