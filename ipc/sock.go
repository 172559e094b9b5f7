package ipc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Frames travel on SOCK_SEQPACKET sockets: one message per frame. The kernel
// and the entity runtime send and receive them without blocking, waiting
// for readiness in Go's poller, and make the calls themselves as raw system
// calls: a call that cannot block needs none of the scheduler's hand-off
// around it, and the scheduler's entersyscall also wakes the runtime's
// monitor thread (sysmon) whenever it sleeps, which then polls every 20 µs
// for a millisecond — on the two-vCPU machines capsim runs on, those
// wake-ups cost more than the messages (docs/BENCHMARKS.md).

// RecvFrame reads one message from fd into buf without blocking. trunc
// reports a message longer than buf, whose tail was discarded; n is then
// len(buf). flags are added to MSG_DONTWAIT (MSG_CMSG_CLOEXEC, say).
// unix.EAGAIN means no message is waiting; n == 0 with no error means the
// peer closed its end.
func RecvFrame(fd int, buf []byte, flags int) (n int, trunc bool, err error) {
	var iov unix.Iovec
	if len(buf) > 0 {
		iov.Base = &buf[0]
		iov.SetLen(len(buf))
	}
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1}
	for {
		r, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags|unix.MSG_DONTWAIT))
		switch errno {
		case 0:
			return int(r), msg.Flags&unix.MSG_TRUNC != 0, nil
		case unix.EINTR:
			continue
		}
		return 0, false, errno
	}
}

// SendFrame writes head and body (which may be empty) to fd as one message
// without blocking (MSG_DONTWAIT|MSG_NOSIGNAL), gathering the two instead
// of copying them into one buffer. unix.EAGAIN (or ENOBUFS) means the
// socket cannot take the message now.
func SendFrame(fd int, head, body []byte) error {
	var iovs [2]unix.Iovec
	n := 0
	for _, b := range [2][]byte{head, body} {
		if len(b) > 0 {
			iovs[n].Base = &b[0]
			iovs[n].SetLen(len(b))
			n++
		}
	}
	msg := unix.Msghdr{Iov: &iovs[0]}
	msg.SetIovlen(n)
	for {
		_, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}
