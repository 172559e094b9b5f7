package posix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"capsim/api/capsim/socket"
)

// Poll events, as Linux numbers them.
const (
	pollIn  = 0x1
	pollOut = 0x4
	pollErr = 0x8
	pollHup = 0x10
)

// Dial connects to address ("host:port"; the host resolved inside the
// simulation) over TCP and returns a net.Conn.
func (n *Net) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, port, err := splitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	ips, err := n.LookupHost(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var last error
	for _, ip := range ips {
		c, err := n.dialAddr(ctx, netip.AddrPortFrom(ip, port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, &net.OpError{Op: "dial", Net: network, Addr: tcpAddr(netip.AddrPortFrom(ips[0], port)), Err: last}
}

// DialContext is Dial, in the shape http.Transport wants.
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return n.Dial(ctx, network, address)
}

func (n *Net) dialAddr(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	domain := syscall.AF_INET
	if ap.Addr().Is6() {
		domain = syscall.AF_INET6
	}
	fd, err := n.Socket(ctx, domain, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	if err := n.Connect(ctx, fd, ap); err != nil {
		_ = n.Close(context.Background(), fd)
		return nil, err
	}
	c := n.newConn(fd)
	c.remote = ap // the local address is asked for when LocalAddr is called
	return c, nil
}

// Listen listens on address (":port", "host:port") over TCP. Without a
// host it listens on both families, as Go's net.Listen does: an IPv6
// socket on [::] that also takes IPv4 clients (their addresses read as
// plain IPv4).
func (n *Net) ListenTCP(ctx context.Context, address string) (net.Listener, error) {
	host, port, err := splitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	ap := netip.AddrPortFrom(netip.IPv6Unspecified(), port)
	domain := syscall.AF_INET6
	if host != "" {
		ips, err := n.LookupHost(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
		}
		ap = netip.AddrPortFrom(ips[0], port)
		if ips[0].Is6() {
			domain = syscall.AF_INET6
		}
	}
	fd, err := n.Socket(ctx, domain, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	fail := func(err error) (net.Listener, error) {
		_ = n.Close(context.Background(), fd)
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: tcpAddr(ap), Err: err}
	}
	if err := n.SetSockOptInt(ctx, fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fail(err)
	}
	if err := n.Bind(ctx, fd, ap); err != nil {
		return fail(err)
	}
	if err := n.Listen(ctx, fd, 128); err != nil {
		return fail(err)
	}
	local, err := n.GetSockName(ctx, fd)
	if err != nil {
		local = ap
	}
	return &listener{n: n, fd: fd, addr: local}, nil
}

type listener struct {
	n      *Net
	fd     int
	addr   netip.AddrPort
	closed atomic.Bool
}

func (l *listener) Accept() (net.Conn, error) {
	fd, peer, err := l.n.Accept(context.Background(), l.fd)
	if err != nil {
		if l.closed.Load() {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
		}
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: err}
	}
	c := l.n.newConn(fd)
	c.remote, c.local = peer, l.addr // until LocalAddr asks the backend
	return c, nil
}

func (l *listener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.n.Close(context.Background(), l.fd)
}

func (l *listener) Addr() net.Addr { return tcpAddr(l.addr) }

func tcpAddr(ap netip.AddrPort) *net.TCPAddr { return net.TCPAddrFromAddrPort(ap) }

// conn is a connected socket as a net.Conn. Reads and writes with a
// deadline wait with Poll, which has no side effects when it is cut short,
// and then move data without blocking; so no byte is lost to a deadline.
type conn struct {
	n      *Net
	fd     int
	remote netip.AddrPort
	// local is the socket's address: a listener's until LocalAddr first
	// asks the backend (GetSockName), so that connecting and accepting
	// cost no round trip for it.
	localMu    sync.Mutex
	local      netip.AddrPort
	localAsked bool

	readDeadline  atomic.Pointer[time.Time]
	writeDeadline atomic.Pointer[time.Time]
	closed        atomic.Bool
	closeOnce     sync.Once
	eof           atomic.Bool
}

func (n *Net) newConn(fd int) *conn { return &conn{n: n, fd: fd} }

func (c *conn) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "tcp", Source: tcpAddr(c.knownLocal()), Addr: tcpAddr(c.remote), Err: err}
}

func (c *conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if c.eof.Load() {
		return 0, io.EOF
	}
	ctx := context.Background()
	flags := 0
	if d := c.readDeadline.Load(); d != nil && !d.IsZero() {
		if err := c.wait(ctx, pollIn, *d); err != nil {
			return 0, c.opErr("read", err)
		}
		flags = syscall.MSG_DONTWAIT
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, *d) // a backend that holds the call anyway
		defer cancel()
	}
	data, err := c.n.Recv(ctx, c.fd, len(b), flags)
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, context.DeadlineExceeded) {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
		return 0, c.opErr("read", err)
	}
	if len(data) == 0 {
		c.eof.Store(true)
		return 0, io.EOF
	}
	return copy(b, data), nil
}

func (c *conn) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		flags := 0
		if d := c.writeDeadline.Load(); d != nil && !d.IsZero() {
			if err := c.wait(ctx, pollOut, *d); err != nil {
				return written, c.opErr("write", err)
			}
			flags = syscall.MSG_DONTWAIT
			// A backend may hold the send anyway (a TLS terminator whose
			// own backend is full): the deadline ends it.
			ctx, cancel = context.WithDeadline(ctx, *d)
		}
		chunk := b[written:]
		if len(chunk) > socket.MaxData {
			chunk = chunk[:socket.MaxData]
		}
		n, err := c.n.Send(ctx, c.fd, chunk, flags|syscall.MSG_NOSIGNAL)
		cancel()
		written += n
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return written, c.opErr("write", os.ErrDeadlineExceeded)
		case err == nil && n == 0:
			// A blocking send takes at least a byte or fails: a backend
			// that says neither would have this loop spin for ever.
			return written, c.opErr("write", syscall.EIO)
		case errors.Is(err, syscall.EAGAIN) && flags != 0:
			// With a deadline: wait (Poll) again.
		case err != nil:
			return written, c.opErr("write", err)
		}
	}
	return written, nil
}

// wait polls the socket for events until the deadline.
func (c *conn) wait(ctx context.Context, events uint16, deadline time.Time) error {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		ms := int(left / time.Millisecond)
		if ms == 0 {
			ms = 1
		}
		rev, ready, err := c.n.Poll(ctx, []socket.PollFd{{Fd: int32(c.fd), Events: events}}, ms)
		if err != nil {
			return err
		}
		if ready > 0 && len(rev) == 1 && rev[0] != 0 {
			return nil // readable, writable, or an error the next call reports
		}
	}
}

func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		err = c.n.Close(context.Background(), c.fd)
	})
	if err != nil {
		return &net.OpError{Op: "close", Net: "tcp", Err: err}
	}
	return nil
}

// CloseWrite shuts down the sending side (a half-close), as *net.TCPConn.
func (c *conn) CloseWrite() error {
	return c.opErr("shutdown", c.n.Shutdown(context.Background(), c.fd, syscall.SHUT_WR))
}

// LocalAddr implements net.Conn; the first call asks the backend.
func (c *conn) LocalAddr() net.Addr {
	c.localMu.Lock()
	defer c.localMu.Unlock()
	if !c.localAsked {
		c.localAsked = true
		if local, err := c.n.GetSockName(context.Background(), c.fd); err == nil {
			c.local = local
		}
	}
	return tcpAddr(c.local)
}

// knownLocal is the local address as far as known, without a round trip.
func (c *conn) knownLocal() netip.AddrPort {
	c.localMu.Lock()
	defer c.localMu.Unlock()
	return c.local
}

func (c *conn) RemoteAddr() net.Addr { return tcpAddr(c.remote) }

func (c *conn) SetDeadline(t time.Time) error {
	c.readDeadline.Store(&t)
	c.writeDeadline.Store(&t)
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error  { c.readDeadline.Store(&t); return nil }
func (c *conn) SetWriteDeadline(t time.Time) error { c.writeDeadline.Store(&t); return nil }

// Fd returns the socket's descriptor in the backend's table.
func (c *conn) Fd() int { return c.fd }

func (c *conn) String() string {
	return fmt.Sprintf("posix.conn(fd %d %s->%s)", c.fd, c.knownLocal(), c.remote)
}
