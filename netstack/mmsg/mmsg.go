package mmsg

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hdr is struct mmsghdr of linux/socket.h: one message of a batch.
type Hdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// SetIovec points the message at iov (one buffer).
func (h *Hdr) SetIovec(iov *unix.Iovec) {
	h.hdr.Iov = iov
	h.hdr.SetIovlen(1)
}

// Batch is a set of receive buffers, so one system call and one poller
// wake-up can bring several frames.
type Batch struct {
	bufs [][]byte
	iovs []unix.Iovec
	hdrs []Hdr
}

// NewBatch makes a batch of n buffers of size bytes each.
func NewBatch(n, size int) *Batch {
	b := &Batch{bufs: make([][]byte, n), iovs: make([]unix.Iovec, n), hdrs: make([]Hdr, n)}
	for i := range n {
		b.bufs[i] = make([]byte, size)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(size)
		b.hdrs[i].SetIovec(&b.iovs[i])
	}
	return b
}

// Recv reads up to the batch's size in frames from fd without blocking and
// returns how many came (EAGAIN when none is waiting). A seqpacket socket
// whose peer closed returns empty frames: check Frame(0).
func (b *Batch) Recv(fd int) (int, error) {
	return mmsgCall(unix.SYS_RECVMMSG, fd, b.hdrs, unix.MSG_DONTWAIT)
}

// Frame returns the i-th frame of the last Recv, cut at the buffer size.
func (b *Batch) Frame(i int) []byte {
	return b.bufs[i][:min(int(b.hdrs[i].len), len(b.bufs[i]))]
}

// Truncated reports whether the i-th frame was longer than its buffer.
func (b *Batch) Truncated(i int) bool { return b.hdrs[i].hdr.Flags&unix.MSG_TRUNC != 0 }

// Send writes the messages of hdrs to fd without blocking and returns how
// many the socket took (EAGAIN when it took none).
func Send(fd int, hdrs []Hdr) (int, error) {
	return mmsgCall(unix.SYS_SENDMMSG, fd, hdrs, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
}

// mmsgCall makes the recvmmsg or sendmmsg system call (trap) on hdrs, again
// when a signal interrupts it.
func mmsgCall(trap uintptr, fd int, hdrs []Hdr, flags int) (int, error) {
	for {
		r, _, errno := unix.RawSyscall6(trap, uintptr(fd),
			uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// Wait reads a batch from raw's descriptor, waiting in Go's poller while
// none is ready; the error is the poller's (a deadline, a closed file) or
// the system call's.
func (b *Batch) Wait(raw syscall.RawConn) (int, error) {
	var n int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		n, rerr = b.Recv(int(fd))
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// HungUp reports whether the peer of raw's seqpacket socket is gone. At its
// end such a socket reads as empty messages, which an empty message sent
// on purpose also looks like: a reader that gets an empty one asks this.
func HungUp(raw syscall.RawConn) bool {
	var hup bool
	_ = raw.Control(func(fd uintptr) {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		hup = err == nil && n == 1 && p[0].Revents&unix.POLLHUP != 0
	})
	return hup
}
