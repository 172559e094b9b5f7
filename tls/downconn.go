package tls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// Linux numbers used by the terminator (capsim.Socket uses Linux's).
const (
	afInet       = 2
	afInet6      = 10
	sockStream   = 1
	sockTypeMsk  = 0xf
	sockNonblock = 0x800
	msgPeek      = 0x2
	msgDontWait  = 0x40
	shutRd       = 0
	shutWr       = 1
	shutRdWr     = 2
	pollIn       = 0x1
	pollOut      = 0x4
	pollErr      = 0x8
	pollHup      = 0x10
	pollNval     = 0x20
)

// addrPort converts a socket address (family, port, ip bytes).
func addrPort(a socket.Addr) (netip.AddrPort, bool) {
	ip, ok := netip.AddrFromSlice(a.Ip)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), a.Port), true
}

// sockAddr converts back: AF_INET for IPv4, AF_INET6 else.
func sockAddr(ap netip.AddrPort) socket.Addr {
	if ap.Addr().Is4() {
		ip := ap.Addr().As4()
		return socket.Addr{Family: afInet, Port: ap.Port(), Ip: ip[:]}
	}
	ip := ap.Addr().As16()
	return socket.Addr{Family: afInet6, Port: ap.Port(), Ip: ip[:]}
}

// downConn is a net.Conn over one descriptor of the downstream socket
// backend: what the TLS sessions of the terminator read and write.
type downConn struct {
	down      *socket.Client
	fd        int32
	remote    net.Addr
	localOnce sync.Once
	local     atomic.Pointer[net.TCPAddr] // nil until known: LocalAddr asks once
	ctx       context.Context             // cancelled by Close: ends blocked calls
	cancel    context.CancelFunc
	mu        sync.Mutex
	rdl, wdl  time.Time
	once      sync.Once
	closeErr  error

	// Read-ahead: one downstream Recv takes what is queued (up to MaxData)
	// and the TLS layer's small reads are served from it. With noWait set
	// a read that finds it empty fails at once with a timeout (which
	// crypto/tls treats as temporary): Session.fill uses it to decrypt the
	// records already received without waiting for more.
	rmu    sync.Mutex
	rbuf   []byte
	noWait atomic.Bool

	// Write batching: between beginBatch and endBatch the TLS records of
	// one Session.Write are gathered and sent in Sends of up to MaxData,
	// not one Send per record.
	wmu      sync.Mutex
	batching bool
	wbuf     []byte
	wctx     context.Context // the batch's caller: its end ends the batch's Sends
	werr     error           // sticky: after a failed send the stream has a gap
}

// newDownConn wraps downstream descriptor fd. An invalid local address is
// asked for (GetSockName) only when LocalAddr is first called, which saves
// a downstream round trip per connection.
func newDownConn(down *socket.Client, fd int32, local, remote netip.AddrPort) *downConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &downConn{
		down: down, fd: fd, ctx: ctx, cancel: cancel,
		remote: net.TCPAddrFromAddrPort(remote),
	}
	if local.IsValid() {
		c.local.Store(net.TCPAddrFromAddrPort(local))
	}
	return c
}

// localAddr is the local address if known (for errors: no round trip).
func (c *downConn) localAddr() net.Addr {
	if a := c.local.Load(); a != nil {
		return a
	}
	return nil
}

func (c *downConn) callCtx(deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(c.ctx)
	}
	return context.WithDeadline(c.ctx, deadline)
}

func (c *downConn) opError(op string, ctx context.Context, err error) error {
	switch {
	case c.ctx.Err() != nil:
		err = net.ErrClosed
	case ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		err = os.ErrDeadlineExceeded
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.localAddr(), Addr: c.remote, Err: err}
}

// Read implements net.Conn: from the read-ahead, refilled by one
// downstream Recv of up to MaxData.
func (c *downConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.rbuf) == 0 {
		if c.noWait.Load() {
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.localAddr(), Addr: c.remote, Err: os.ErrDeadlineExceeded}
		}
		data, err := c.recv()
		if err != nil {
			return 0, err
		}
		c.rbuf = data
	}
	n := copy(p, c.rbuf)
	c.rbuf = c.rbuf[n:]
	if len(c.rbuf) == 0 {
		c.rbuf = nil // do not pin the Recv's buffer
	}
	return n, nil
}

// buffered is the number of bytes in the read-ahead.
func (c *downConn) buffered() int {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return len(c.rbuf)
}

// recv is one downstream Recv of up to MaxData bytes; io.EOF at the end.
func (c *downConn) recv() ([]byte, error) {
	c.mu.Lock()
	dl := c.rdl
	c.mu.Unlock()
	ctx, cancel := c.callCtx(dl)
	defer cancel()
	data, err := c.down.Recv(ctx, c.fd, socket.MaxData, 0)
	if err != nil {
		return nil, c.opError("read", ctx, err)
	}
	if len(data) == 0 {
		return nil, io.EOF
	}
	return data, nil
}

// Write implements net.Conn: downstream Sends until all of p is taken;
// while batching, p is gathered and sent by endBatch (or once a Send's
// worth is gathered).
func (c *downConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if !c.batching {
		n, err := c.send(p)
		c.werr = err
		return n, err
	}
	if len(c.wbuf) > 0 && len(c.wbuf)+len(p) > socket.MaxData {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	c.wbuf = append(c.wbuf, p...)
	return len(p), nil
}

// beginBatch starts gathering writes for the caller of ctx: when it ends
// (cancelled, past its deadline), so do the batch's downstream Sends,
// which a backend that never answers would else hold for ever.
func (c *downConn) beginBatch(ctx context.Context) {
	c.wmu.Lock()
	c.batching = true
	c.wctx = ctx
	c.wmu.Unlock()
}

// endBatch sends what was gathered and stops gathering.
func (c *downConn) endBatch() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.batching = false
	err := c.flushLocked()
	c.wctx = nil
	return err
}

func (c *downConn) flushLocked() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.send(c.wbuf)
	c.wbuf = c.wbuf[:0] // kept: never grows much past MaxData
	if err != nil {
		// crypto/tls took these records as written: no later record may
		// follow them, else the peer would see a gap, not an error.
		c.werr = err
	}
	return err
}

// send is downstream Sends until all of p is taken.
func (c *downConn) send(p []byte) (int, error) {
	c.mu.Lock()
	dl := c.wdl
	c.mu.Unlock()
	ctx, cancel := c.callCtx(dl)
	defer cancel()
	if c.wctx != nil {
		defer context.AfterFunc(c.wctx, cancel)()
	}
	done := 0
	for done < len(p) {
		chunk := p[done:min(len(p), done+socket.MaxData)]
		n, err := c.down.Send(ctx, c.fd, chunk, 0)
		if err != nil {
			return done, c.opError("write", ctx, err)
		}
		if n == 0 {
			return done, c.opError("write", ctx, syscall.EPIPE)
		}
		if int(n) > len(chunk) { // the backend's nonsense: where the stream stands is unknown
			return done, c.opError("write", ctx, syscall.EIO)
		}
		done += int(n)
	}
	return done, nil
}

// Close implements net.Conn: ends blocked calls and closes the downstream
// descriptor.
func (c *downConn) Close() error {
	c.once.Do(func() {
		c.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A Close the kernel refuses for a passing limit is tried again:
		// else the downstream socket would be lost to the backend's quota.
		for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
			c.closeErr = c.down.Close(ctx, c.fd)
			if !errors.Is(c.closeErr, ipc.ErrLimit) || ctx.Err() != nil {
				break
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
		}
	})
	return c.closeErr
}

// LocalAddr implements net.Conn: the downstream socket's own address,
// asked for once when not given to newDownConn.
func (c *downConn) LocalAddr() net.Addr {
	c.localOnce.Do(func() {
		if c.local.Load() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		defer cancel()
		a := &net.TCPAddr{}
		if la, err := c.down.GetSockName(ctx, c.fd); err == nil {
			if ap, ok := addrPort(la); ok {
				a = net.TCPAddrFromAddrPort(ap)
			}
		}
		c.local.Store(a)
	})
	return c.local.Load()
}
func (c *downConn) RemoteAddr() net.Addr { return c.remote }

func (c *downConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	return nil
}

func (c *downConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	return nil
}

func (c *downConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}
