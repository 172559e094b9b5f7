package netstack

import (
	"context"
	"net/netip"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// maxBacklog caps Listen's backlog, as net.core.somaxconn does.
const maxBacklog = 4096

// Bind binds fd to addr; an invalid or unspecified address means any.
func (s *Sockets) Bind(ctx context.Context, client uint32, fd int32, addr netip.AddrPort) error {
	k, err := s.lookup(client, fd)
	if err != nil {
		return err
	}
	fa, e := toFull(k.domain, addr)
	if e != 0 {
		return e
	}
	return errOf(k.ep.Bind(fa))
}

// Listen makes a bound (or unbound: an ephemeral port) stream socket
// accept connections.
func (s *Sockets) Listen(ctx context.Context, client uint32, fd int32, backlog int32) error {
	k, err := s.lookup(client, fd)
	if err != nil {
		return err
	}
	if backlog < 0 || backlog > maxBacklog {
		backlog = maxBacklog
	}
	return errOf(k.ep.Listen(int(backlog)))
}

// Accept waits for a connection on listening fd and returns its new
// descriptor and the peer's address. flags may hold SOCK_NONBLOCK and
// SOCK_CLOEXEC.
func (s *Sockets) Accept(ctx context.Context, client uint32, fd int32, flags uint32) (int32, netip.AddrPort, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if flags&^uint32(SOCK_NONBLOCK|SOCK_CLOEXEC) != 0 {
		return -1, netip.AddrPort{}, syscall.EINVAL
	}
	var (
		peer tcpip.FullAddress
		nep  tcpip.Endpoint
		nwq  *waiter.Queue
	)
	err = k.block(ctx, false, waiter.ReadableEvents, func() tcpip.Error {
		var terr tcpip.Error
		nep, nwq, terr = k.ep.Accept(&peer)
		return terr
	})
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	nk := &sock{ep: nep, wq: nwq, domain: k.domain, stype: k.stype, proto: k.proto, done: make(chan struct{})}
	nk.nonblock.Store(flags&SOCK_NONBLOCK != 0)
	nfd, err := s.install(client, nk)
	if err != nil {
		nk.close()
		return -1, netip.AddrPort{}, err
	}
	return nfd, fromFull(k.domain, peer), nil
}

// Connect connects fd to addr. A stream socket waits for the handshake
// (a non-blocking one returns EINPROGRESS; poll for POLLOUT, then read
// SO_ERROR); a datagram socket only records its peer, and AF_UNSPEC (an
// invalid addr) dissolves the association.
func (s *Sockets) Connect(ctx context.Context, client uint32, fd int32, addr netip.AddrPort) error {
	k, err := s.lookup(client, fd)
	if err != nil {
		return err
	}
	if !k.stream() && !addr.Addr().IsValid() {
		return errOf(k.ep.Disconnect())
	}
	fa, e := toFull(k.domain, addr)
	if e != 0 {
		return e
	}
	if !k.stream() {
		return errOf(k.ep.Connect(fa))
	}
	err = k.connectStream(ctx, fa)
	if ep, ok := k.ep.(*tcp.Endpoint); ok && err != nil && ep.EndpointState() == tcp.StateError {
		// The failure is reported here, so (as on Linux) no longer
		// pending for SO_ERROR.
		k.takeError()
	}
	return err
}

func (k *sock) connectStream(ctx context.Context, fa tcpip.FullAddress) error {
	w := k.watch(waiter.WritableEvents)
	defer w.stop()
	terr := k.ep.Connect(fa)
	switch terr.(type) {
	case *tcpip.ErrConnectStarted:
		if k.nonblock.Load() {
			return syscall.EINPROGRESS
		}
	case *tcpip.ErrAlreadyConnecting:
		if k.nonblock.Load() {
			return syscall.EALREADY
		}
	default:
		return errOf(terr)
	}
	for {
		if err := w.wait(ctx); err != nil {
			return err
		}
		terr = k.ep.Connect(fa)
		if _, ok := terr.(*tcpip.ErrAlreadyConnecting); !ok {
			return errOf(terr)
		}
	}
}

// Shutdown shuts down the reading (SHUT_RD), writing (SHUT_WR) or both
// (SHUT_RDWR) halves of fd's connection.
func (s *Sockets) Shutdown(ctx context.Context, client uint32, fd int32, how int32) error {
	k, err := s.lookup(client, fd)
	if err != nil {
		return err
	}
	var f tcpip.ShutdownFlags
	switch how {
	case SHUT_RD:
		f = tcpip.ShutdownRead
	case SHUT_WR:
		f = tcpip.ShutdownWrite
	case SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return syscall.EINVAL
	}
	// Linux records the shutdown even when it reports ENOTCONN (an
	// unconnected socket then polls POLLIN|POLLRDHUP too).
	if f&tcpip.ShutdownRead != 0 {
		k.shutRd.Store(true)
	}
	if f&tcpip.ShutdownWrite != 0 {
		k.shutWr.Store(true)
	}
	return errOf(k.ep.Shutdown(f))
}

// GetSockName is fd's local address.
func (s *Sockets) GetSockName(ctx context.Context, client uint32, fd int32) (netip.AddrPort, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	fa, terr := k.ep.GetLocalAddress()
	if terr != nil {
		return netip.AddrPort{}, errOf(terr)
	}
	return fromFull(k.domain, fa), nil
}

// GetPeerName is fd's peer address (ENOTCONN when there is none).
func (s *Sockets) GetPeerName(ctx context.Context, client uint32, fd int32) (netip.AddrPort, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ep, ok := k.ep.(*tcp.Endpoint); ok && ep.EndpointState() == tcp.StateTimeWait {
		// Closed in both directions: Linux's socket is closed by now.
		return netip.AddrPort{}, syscall.ENOTCONN
	}
	fa, terr := k.ep.GetRemoteAddress()
	if terr != nil {
		return netip.AddrPort{}, errOf(terr)
	}
	return fromFull(k.domain, fa), nil
}
