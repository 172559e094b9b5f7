package vnet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is a set of receive buffers for recvmmsg(2), so one system call
// and one poller wake-up can bring several frames.
type batch struct {
	bufs [][]byte
	iovs []unix.Iovec
	hdrs []mmsghdr
}

// mmsghdr is struct mmsghdr of linux/socket.h.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

func newBatch(n, size int) *batch {
	b := &batch{
		bufs: make([][]byte, n),
		iovs: make([]unix.Iovec, n),
		hdrs: make([]mmsghdr, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, size)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(size)
		b.hdrs[i].hdr.Iov = &b.iovs[i]
		b.hdrs[i].hdr.SetIovlen(1)
	}
	return b
}

// recv reads up to len(b.bufs) frames from fd without blocking (a raw system
// call: it cannot block, so it needs no scheduler hand-off, and it leaves the
// runtime's monitor thread asleep — see ipc/sock.go); frame i is
// b.frame(i) and its length before any truncation is b.hdrs[i].len.
func (b *batch) recv(fd int) (int, error) {
	for {
		r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// frame returns the i-th frame received and its length on the wire (the
// data is cut at the buffer size when the frame was longer).
func (b *batch) frame(i int) ([]byte, int) {
	n := int(b.hdrs[i].len)
	return b.bufs[i][:min(n, len(b.bufs[i]))], n
}

// outbox collects the frames one read batch forwards, so that each output
// port gets them with one sendmmsg(2) instead of one write(2) each. It is
// owned by a port's reader goroutine; the frames point into that reader's
// batch and are valid until its next read.
type outbox struct {
	dsts   []*port
	frames [][]byte
	iovs   []unix.Iovec
	hdrs   []mmsghdr
}

// add queues frame for port d.
func (o *outbox) add(d *port, frame []byte) {
	o.dsts = append(o.dsts, d)
	o.frames = append(o.frames, frame)
}

// flush sends the queued frames, each port's in the order they were
// added, and empties the outbox.
func (o *outbox) flush() {
	for len(o.dsts) > 0 {
		d := o.dsts[0]
		o.iovs, o.hdrs = o.iovs[:0], o.hdrs[:0]
		rest := 0 // frames for other ports move to the front
		for i, p := range o.dsts {
			if p != d {
				o.dsts[rest], o.frames[rest] = p, o.frames[i]
				rest++
				continue
			}
			var iov unix.Iovec
			iov.Base = &o.frames[i][0]
			iov.SetLen(len(o.frames[i]))
			o.iovs = append(o.iovs, iov)
		}
		for i := range o.iovs {
			var h mmsghdr
			h.hdr.Iov = &o.iovs[i]
			h.hdr.SetIovlen(1)
			o.hdrs = append(o.hdrs, h)
		}
		d.sendBatch(o.hdrs)
		clear(o.frames[rest:])
		o.dsts, o.frames = o.dsts[:rest], o.frames[:rest]
	}
}

// sendmmsg writes the messages of hdrs to fd without blocking (a raw system
// call, as recv) and returns how many the socket took.
func sendmmsg(fd int, hdrs []mmsghdr) (int, error) {
	for {
		r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)),
			unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}
