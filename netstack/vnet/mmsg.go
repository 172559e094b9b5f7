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

// recv reads up to len(b.bufs) frames from fd without blocking; frame i is
// b.frame(i) and its length before any truncation is b.hdrs[i].len.
func (b *batch) recv(fd int) (int, error) {
	for {
		r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
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
