package tls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"capsim/api/capsim/socket"
)

// Linux numbers used by the terminator (capsim.Socket uses Linux's).
const (
	afInet      = 2
	afInet6     = 10
	sockStream  = 1
	sockTypeMsk = 0xf
	msgPeek     = 0x2
	msgDontWait = 0x40
	shutWr      = 1
	shutRdWr    = 2
	pollIn      = 0x1
	pollOut     = 0x4
	pollErr     = 0x8
	pollHup     = 0x10
	pollNval    = 0x20
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
	down          *socket.Client
	fd            int32
	local, remote net.Addr
	ctx           context.Context // cancelled by Close: ends blocked calls
	cancel        context.CancelFunc
	mu            sync.Mutex
	rdl, wdl      time.Time
	once          sync.Once
	closeErr      error
}

func newDownConn(down *socket.Client, fd int32, local, remote netip.AddrPort) *downConn {
	ctx, cancel := context.WithCancel(context.Background())
	return &downConn{
		down: down, fd: fd, ctx: ctx, cancel: cancel,
		local:  net.TCPAddrFromAddrPort(local),
		remote: net.TCPAddrFromAddrPort(remote),
	}
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
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

// Read implements net.Conn: one downstream Recv.
func (c *downConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	dl := c.rdl
	c.mu.Unlock()
	ctx, cancel := c.callCtx(dl)
	defer cancel()
	size := min(len(p), socket.MaxData)
	data, err := c.down.Recv(ctx, c.fd, uint32(size), 0)
	if err != nil {
		return 0, c.opError("read", ctx, err)
	}
	if len(data) == 0 && size > 0 {
		return 0, io.EOF
	}
	return copy(p, data), nil
}

// Write implements net.Conn: downstream Sends until all of p is taken.
func (c *downConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	dl := c.wdl
	c.mu.Unlock()
	ctx, cancel := c.callCtx(dl)
	defer cancel()
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
		c.closeErr = c.down.Close(ctx, c.fd)
	})
	return c.closeErr
}

func (c *downConn) LocalAddr() net.Addr  { return c.local }
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
