package kernel

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"capsim/ipc"

	"golang.org/x/sys/unix"
)

// socketBuffer is the send and receive buffer of both ends of every kernel
// socket: a SOCK_SEQPACKET message must fit the sender's buffer whole, and
// the largest frame is a maximum-size payload plus its header and slots.
func socketBuffer(maxMessage int) int { return 2*maxMessage + 64<<10 }

// newSocketPair makes the kernel socket of one entity: the kernel's end,
// wrapped for the runtime's poller, and the entity's end as a file to hand
// to the child. Both ends are close-on-exec; exec.Cmd dups the child's end
// to descriptor 3 without that flag.
func newSocketPair(maxMessage int) (kernelEnd *os.File, entityEnd *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	for _, fd := range fds {
		setBuffers(fd, socketBuffer(maxMessage))
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "kernel"), os.NewFile(uintptr(fds[1]), "entity"), nil
}

// setBuffers raises a socket's buffers, forcing past the system limit where
// the kernel may (root), else as far as the limit allows.
func setBuffers(fd, size int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, size)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size)
	}
}

// errQueueFull is returned by send when the receiver's queue cannot take
// the frame: the sender gets a limit error for this destination only.
var errQueueFull = errors.New("receiver's queue is full")

// errClosed is returned by send on a closed connection.
var errClosed = errors.New("connection closed")

// conn is the kernel's end of one entity's socket. One goroutine reads it,
// waiting in Go's poller rather than in a blocking recvmsg: a thread blocked
// in a system call wakes the runtime's monitor, whose 20 µs sleeps then cost
// more CPU than the poller's wake-up (docs/BENCHMARKS.md). Sends come from
// any goroutine and never block (MSG_DONTWAIT): a frame the socket cannot
// take now is queued (up to queueLimit bytes) and written by a flusher
// goroutine as the socket drains.
type conn struct {
	fd   int
	file *os.File        // fd, registered with the poller; closed last
	raw  syscall.RawConn // reads and the flusher's writes

	mu         sync.Mutex
	queue      [][]byte
	queued     int
	queueLimit int
	flushing   bool
	closed     bool
	refs       int // the reader, and the flusher while it runs
}

func newConn(f *os.File, queueLimit int) (*conn, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("kernel socket: %w", err)
	}
	fd := -1
	_ = raw.Control(func(d uintptr) { fd = int(d) })
	return &conn{fd: fd, file: f, raw: raw, queueLimit: queueLimit, refs: 1}, nil
}

// read reads one frame into buf, waiting for one. trunc reports a frame
// larger than buf, whose tail was discarded. Only the reader goroutine calls
// it; after an error it must call done.
func (c *conn) read(buf []byte) (n int, trunc bool, err error) {
	rerr := c.raw.Read(func(fd uintptr) bool {
		n, trunc, err = ipc.RecvFrame(int(fd), buf, unix.MSG_CMSG_CLOEXEC)
		return err != unix.EAGAIN
	})
	if rerr != nil {
		err = rerr
	}
	if err == nil && n == 0 {
		err = errClosed // the peer closed its end: an empty seqpacket read
	}
	return n, trunc, err
}

// send writes one frame, or queues a copy of it when the socket is full.
func (c *conn) send(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	if len(c.queue) == 0 {
		err := ipc.SendFrame(c.fd, b, nil)
		if err == nil {
			return nil
		}
		if err != unix.EAGAIN && err != unix.ENOBUFS {
			return err
		}
	}
	if c.queued+len(b) > c.queueLimit {
		return errQueueFull
	}
	c.queue = append(c.queue, append([]byte(nil), b...))
	c.queued += len(b)
	if !c.flushing {
		c.flushing = true
		c.refs++
		go c.flush()
	}
	return nil
}

// flush writes queued frames as the socket drains.
func (c *conn) flush() {
	defer c.release()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		b := c.queue[0]
		c.mu.Unlock()
		var err error
		werr := c.raw.Write(func(fd uintptr) bool {
			err = ipc.SendFrame(int(fd), b, nil)
			return err != unix.EAGAIN && err != unix.ENOBUFS
		})
		if werr != nil {
			err = werr
		}
		c.mu.Lock()
		if err != nil {
			c.closed = true
		}
		if len(c.queue) > 0 {
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.queued -= len(b)
		}
		c.mu.Unlock()
	}
}

// Queued returns the bytes waiting in the queue.
func (c *conn) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}

// close stops the connection: a blocked read or flush returns, and the
// descriptor is closed once neither uses it.
func (c *conn) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.queue = nil
		c.queued = 0
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	c.mu.Unlock()
}

// done is the reader's release after its last read.
func (c *conn) done() { c.release() }

func (c *conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs--
	if c.refs == 0 {
		c.file.Close()
		c.fd = -1
	}
}
