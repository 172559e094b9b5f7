package netstack

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// MaxData is the largest payload of one Send or Recv (capsim.Socket
// MaxData); larger receive sizes are clamped to it.
const MaxData = 1 << 20

// sockMax and ipprotoMax bound a socket type and an IP protocol number
// (Linux's SOCK_MAX and IPPROTO_MAX): past them socket(2) is EINVAL.
const (
	sockMax    = 11
	ipprotoMax = 263
)

// firstFD is the lowest descriptor handed out, as if 0–2 were stdio.
const firstFD = 3

// SocketsConfig tunes a Sockets.
type SocketsConfig struct {
	MaxFDs int          // descriptors per client; default 1024 (then EMFILE)
	Logger *slog.Logger // default slog.Default()
}

// Sockets serves socket calls on one Host. Every client (an IPC badge's
// ID) has its own descriptor table. All methods are safe for concurrent
// use; a blocking method blocks only its caller.
type Sockets struct {
	host   *Host
	maxFDs int
	log    *slog.Logger

	mu      sync.Mutex
	clients map[uint32]map[int32]*sock
}

// sock is one open socket.
type sock struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	domain   int32
	stype    int32 // SOCK_STREAM or SOCK_DGRAM
	proto    int32 // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6
	nonblock atomic.Bool
	// shutRd and shutWr record Shutdown calls, which gVisor does not
	// report in its readiness as Linux's poll does.
	shutRd, shutWr atomic.Bool

	done      chan struct{} // closed by close
	closeOnce sync.Once
}

// NewSockets serves sockets on h.
func NewSockets(h *Host, cfg SocketsConfig) *Sockets {
	if cfg.MaxFDs <= 0 {
		cfg.MaxFDs = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = h.log
	}
	return &Sockets{host: h, maxFDs: cfg.MaxFDs, log: cfg.Logger, clients: map[uint32]map[int32]*sock{}}
}

func (k *sock) close() {
	k.closeOnce.Do(func() {
		close(k.done)
		k.ep.Close()
	})
}

func (k *sock) stream() bool { return k.stype == SOCK_STREAM }

// takeError reads and clears the socket's pending error, as Linux's
// SO_ERROR does. gVisor's TCP keeps a failed connection's error twice (as
// its hard and its last error) and clears one per LastError; both go.
func (k *sock) takeError() tcpip.Error {
	err := k.ep.LastError()
	if err != nil {
		k.ep.LastError()
	}
	return err
}

// errno returns e as an error, nil for 0.
func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func errOf(terr tcpip.Error) error { return errno(errnoOf(terr)) }

func (s *Sockets) lookup(client uint32, fd int32) (*sock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.clients[client][fd]; k != nil {
		return k, nil
	}
	return nil, syscall.EBADF
}

// install gives k the client's lowest free descriptor.
func (s *Sockets) install(client uint32, k *sock) (int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.clients[client]
	if t == nil {
		t = map[int32]*sock{}
		s.clients[client] = t
	}
	if len(t) >= s.maxFDs {
		return -1, syscall.EMFILE
	}
	fd := int32(firstFD)
	for t[fd] != nil {
		fd++
	}
	t[fd] = k
	return fd, nil
}

func (s *Sockets) remove(client uint32, fd int32) (*sock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.clients[client]
	k := t[fd]
	if k == nil {
		return nil, syscall.EBADF
	}
	delete(t, fd)
	if len(t) == 0 {
		delete(s.clients, client)
	}
	return k, nil
}

// Drop closes every socket of client (it went away).
func (s *Sockets) Drop(client uint32) {
	s.mu.Lock()
	t := s.clients[client]
	delete(s.clients, client)
	s.mu.Unlock()
	for _, k := range t {
		k.close()
	}
	if len(t) > 0 {
		s.log.Debug("dropped client sockets", "client", client, "count", len(t))
	}
}

// Count is the number of open descriptors of client.
func (s *Sockets) Count(client uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients[client])
}

// Socket opens a socket: domain AF_INET or AF_INET6; socktype SOCK_STREAM
// (TCP) or SOCK_DGRAM (UDP, or an ICMP echo socket with protocol
// IPPROTO_ICMP/IPPROTO_ICMPV6), optionally or'ed with SOCK_NONBLOCK and
// SOCK_CLOEXEC.
func (s *Sockets) Socket(ctx context.Context, client uint32, domain, socktype, protocol int32) (int32, error) {
	// Checked in Linux's order: flags, family, type, protocol.
	if socktype&^(0xf|SOCK_NONBLOCK|SOCK_CLOEXEC) != 0 {
		return -1, syscall.EINVAL
	}
	netProto := ipv4.ProtocolNumber
	switch domain {
	case AF_INET:
	case AF_INET6:
		netProto = ipv6.ProtocolNumber
	default:
		return -1, syscall.EAFNOSUPPORT
	}
	typ := socktype & 0xf
	if typ >= sockMax || protocol < 0 || protocol >= ipprotoMax {
		return -1, syscall.EINVAL
	}
	trans, proto, err := transportOf(domain, typ, protocol)
	if err != nil {
		return -1, err
	}
	wq := new(waiter.Queue)
	ep, terr := s.host.st.NewEndpoint(trans, netProto, wq)
	if terr != nil {
		return -1, errOf(terr)
	}
	k := &sock{ep: ep, wq: wq, domain: domain, stype: typ, proto: proto, done: make(chan struct{})}
	k.nonblock.Store(socktype&SOCK_NONBLOCK != 0)
	fd, err := s.install(client, k)
	if err != nil {
		k.close()
	}
	return fd, err
}

func transportOf(domain, typ, protocol int32) (tcpip.TransportProtocolNumber, int32, error) {
	switch {
	case typ == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP):
		return tcp.ProtocolNumber, IPPROTO_TCP, nil
	case typ == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP):
		return udp.ProtocolNumber, IPPROTO_UDP, nil
	case typ == SOCK_DGRAM && domain == AF_INET && protocol == IPPROTO_ICMP:
		return icmp.ProtocolNumber4, IPPROTO_ICMP, nil
	case typ == SOCK_DGRAM && domain == AF_INET6 && protocol == IPPROTO_ICMPV6:
		return icmp.ProtocolNumber6, IPPROTO_ICMPV6, nil
	case typ == SOCK_STREAM || typ == SOCK_DGRAM:
		return 0, 0, syscall.EPROTONOSUPPORT
	default:
		return 0, 0, syscall.ESOCKTNOSUPPORT
	}
}

// Close closes fd; a call blocked on it ends with EBADF.
func (s *Sockets) Close(ctx context.Context, client uint32, fd int32) error {
	k, err := s.remove(client, fd)
	if err != nil {
		return err
	}
	k.close()
	return nil
}
