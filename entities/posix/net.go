package posix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"capsim/api/capsim/socket"
	"capsim/entities"
)

// NetworkBackend is the variable naming an entity's network backend.
const NetworkBackend = "VFS_NETWORK_BACKEND"

// Net is the socket API over one capsim.Socket server.
type Net struct {
	rt       *entities.Runtime
	variable string // the variable the channel came from, "" when given directly
	id       string

	once sync.Once
	c    *socket.Client
	err  error
}

// NewNet returns the socket API over the backend that VFS_NETWORK_BACKEND
// names. Nothing is looked up until the first call.
func NewNet(rt *entities.Runtime) *Net { return &Net{rt: rt, variable: NetworkBackend} }

// NetFromEnv returns the socket API over the backend that the given
// variable names ("client:<channel>"), e.g. NETSTACK_BACKEND.
func NetFromEnv(rt *entities.Runtime, variable string) *Net { return &Net{rt: rt, variable: variable} }

// NetOn returns the socket API over the channel id.
func NetOn(rt *entities.Runtime, id string) *Net { return &Net{rt: rt, id: id} }

// Client returns the capsim.Socket proxy, finding the channel on first use.
func (n *Net) Client(ctx context.Context) (*socket.Client, error) {
	n.once.Do(func() {
		id := n.id
		if n.variable != "" {
			if id, n.err = entities.Backend(n.variable); n.err != nil {
				return
			}
		}
		h, riid, err := n.rt.Lookup(ctx, id, socket.InterfaceName)
		if err != nil {
			n.err = fmt.Errorf("network backend %s: %w", n.describe(id), err)
			return
		}
		n.c = &socket.Client{Caller: n.rt, Handle: h, Endpoint: riid}
	})
	return n.c, n.err
}

func (n *Net) describe(id string) string {
	if n.variable != "" {
		return fmt.Sprintf("%s=client:%s", n.variable, id)
	}
	return "channel " + id
}

// Socket opens a socket (AF_INET/AF_INET6, SOCK_STREAM/SOCK_DGRAM).
func (n *Net) Socket(ctx context.Context, domain, typ, proto int) (int, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return -1, err
	}
	fd, err := c.Socket(ctx, int32(domain), int32(typ), int32(proto))
	if err == nil && fd < 0 {
		return -1, syscall.EIO // the backend's nonsense, not a descriptor
	}
	return int(fd), err
}

// Connect connects a socket.
func (n *Net) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.Connect(ctx, int32(fd), ToAddr(addr))
}

// Bind binds a socket to a local address.
func (n *Net) Bind(ctx context.Context, fd int, addr netip.AddrPort) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.Bind(ctx, int32(fd), ToAddr(addr))
}

// Listen marks a socket as accepting connections.
func (n *Net) Listen(ctx context.Context, fd, backlog int) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.Listen(ctx, int32(fd), int32(backlog))
}

// Accept waits for a connection.
func (n *Net) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	conn, peer, err := c.Accept(ctx, int32(fd), 0)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if conn < 0 {
		return -1, netip.AddrPort{}, syscall.EIO
	}
	return int(conn), FromAddr(peer), nil
}

// Send sends data (at most socket.MaxData bytes per call).
func (n *Net) Send(ctx context.Context, fd int, data []byte, flags int) (int, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return 0, err
	}
	if len(data) > socket.MaxData {
		data = data[:socket.MaxData]
	}
	sent, err := c.Send(ctx, int32(fd), data, uint32(flags))
	if err == nil && int(sent) > len(data) {
		return 0, syscall.EIO // more than was given: no count to trust
	}
	return int(sent), err
}

// Recv receives up to size bytes; an empty result is the end of the stream.
func (n *Net) Recv(ctx context.Context, fd, size, flags int) ([]byte, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return nil, err
	}
	if size > socket.MaxData {
		size = socket.MaxData
	}
	data, err := c.Recv(ctx, int32(fd), uint32(size), uint32(flags))
	if err == nil && len(data) > size {
		return nil, syscall.EIO // more than asked for: not a read of this call
	}
	return data, err
}

// Shutdown shuts down one or both directions (SHUT_RD, SHUT_WR, SHUT_RDWR).
func (n *Net) Shutdown(ctx context.Context, fd, how int) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.Shutdown(ctx, int32(fd), int32(how))
}

// Close closes a socket.
func (n *Net) Close(ctx context.Context, fd int) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.Close(ctx, int32(fd))
}

// Poll waits up to timeoutMs (negative: forever) for events on fds and
// returns the events that happened, one per fd.
func (n *Net) Poll(ctx context.Context, fds []socket.PollFd, timeoutMs int) ([]uint16, int, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return nil, 0, err
	}
	rev, ready, err := c.Poll(ctx, fds, int32(timeoutMs))
	if err != nil {
		return nil, 0, err
	}
	if len(rev) != len(fds) || int(ready) > len(fds) {
		return nil, 0, syscall.EIO // not an answer to this poll
	}
	return rev, int(ready), nil
}

// SetSockOptInt sets an integer option (as Linux: a little-endian int32).
func (n *Net) SetSockOptInt(ctx context.Context, fd, level, name, value int) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	v := int32(value)
	return c.SetSockOpt(ctx, int32(fd), int32(level), int32(name), []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
}

// SetSockOpt sets an option to a byte string.
func (n *Net) SetSockOpt(ctx context.Context, fd, level, name int, value []byte) error {
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	return c.SetSockOpt(ctx, int32(fd), int32(level), int32(name), value)
}

// GetSockOpt reads an option as a byte string of at most size bytes.
func (n *Net) GetSockOpt(ctx context.Context, fd, level, name, size int) ([]byte, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return nil, err
	}
	v, err := c.GetSockOpt(ctx, int32(fd), int32(level), int32(name), uint32(size))
	if err == nil && len(v) > size {
		return nil, syscall.EIO
	}
	return v, err
}

// GetSockName returns a socket's local address.
func (n *Net) GetSockName(ctx context.Context, fd int) (netip.AddrPort, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, err := c.GetSockName(ctx, int32(fd))
	return FromAddr(a), err
}

// GetPeerName returns a connected socket's peer address.
func (n *Net) GetPeerName(ctx context.Context, fd int) (netip.AddrPort, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, err := c.GetPeerName(ctx, int32(fd))
	return FromAddr(a), err
}

// LookupHost resolves a host name inside the simulation (GetAddrInfo on
// the backend); numeric addresses resolve to themselves.
func (n *Net) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	c, err := n.Client(ctx)
	if err != nil {
		return nil, err
	}
	as, err := c.GetAddrInfo(ctx, host)
	if errors.Is(err, syscall.ENOENT) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if err != nil { // the backend failed, which says nothing of the name
		return nil, &net.DNSError{Err: err.Error(), Name: host, UnwrapErr: err}
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		// An address that is none (not 4 or 16 bytes) is skipped: dialled,
		// it would be the unspecified address.
		if ip := FromAddr(a).Addr(); ip.IsValid() {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// ToAddr converts an address to the IDL's.
func ToAddr(ap netip.AddrPort) socket.Addr {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return socket.Addr{Port: ap.Port()}
	case a.Is4():
		b := a.As4()
		return socket.Addr{Family: syscall.AF_INET, Port: ap.Port(), Ip: b[:]}
	}
	b := a.As16()
	return socket.Addr{Family: syscall.AF_INET6, Port: ap.Port(), Ip: b[:]}
}

// FromAddr converts an IDL address.
func FromAddr(a socket.Addr) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(a.Ip)
	if !ok {
		return netip.AddrPortFrom(netip.Addr{}, a.Port)
	}
	return netip.AddrPortFrom(ip.Unmap(), a.Port)
}

// splitHostPort parses "host:port" for Dial and Listen.
func splitHostPort(address string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port in %q", address)
	}
	return host, uint16(p), nil
}
