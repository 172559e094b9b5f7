package tls

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"syscall"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// Hooks are the plug-in hooks (interface capsim.TlsPlugin) the terminator
// calls around the intercepted calls; an IPC adapter to the configured
// plug-in entities implements it. A non-nil error denies the call and is
// returned to the client as its errno (EACCES if it carries none).
type Hooks interface {
	BeforeConnect(ctx context.Context, client uint32, fd int32, host string, addr netip.AddrPort) error
	AfterHandshake(ctx context.Context, client uint32, fd int32, server bool, serverName string, chain []*x509.Certificate, verify VerifyResult) error
	BeforeSend(ctx context.Context, client uint32, fd int32, data []byte) ([]byte, error)
	AfterRecv(ctx context.Context, client uint32, fd int32, data []byte) ([]byte, error)
}

// Terminator serves capsim.Socket to its clients on top of a downstream
// socket backend: stream sockets get TLS (Connect = downstream connect +
// client handshake, Accept = downstream accept + server handshake, Send and
// Recv encrypt and decrypt, Poll reports decrypted readiness, Shutdown
// sends close_notify, Close ends the session); options at LevelTLS are its
// own; everything else passes through. Each client (badge ID) has its own
// descriptor table.
type Terminator struct {
	cfg     *Config
	down    *socket.Client
	hooks   Hooks
	log     *slog.Logger
	mu      sync.Mutex
	clients map[uint32]*client
}

var _ socket.Server = (*Terminator)(nil)

// client is one client's descriptor table and resolver memory.
type client struct {
	socks  map[int32]*tsock
	making int                   // sockets being made (Socket, Accept): counted against the limit
	names  map[netip.Addr]string // address → the host name it was resolved from
}

// maxNames bounds the resolver memory of one client.
const maxNames = 1024

// tsock is one socket of a client.
type tsock struct {
	mu     sync.Mutex
	down   int32 // downstream descriptor; -1 once closed
	tls    bool  // a stream socket: TLS on connect/accept
	opts   SockOpts
	sess   *Session
	peer   netip.AddrPort
	shutWr bool
	// recvLost, once AfterRecv failed for data taken from the session,
	// is what every later Recv returns.
	recvLost error
	// A listening stream socket: nonblock from SOCK_NONBLOCK at creation
	// (Accept then says EAGAIN instead of waiting); acc, started by Listen,
	// runs the handshakes.
	nonblock bool
	acc      *acceptor
}

// NewTerminator returns a terminator using cfg over the downstream backend
// down; hooks may be nil.
func NewTerminator(cfg *Config, down *socket.Client, hooks Hooks) *Terminator {
	return &Terminator{cfg: cfg, down: down, hooks: hooks, log: cfg.logger(), clients: map[uint32]*client{}}
}

func clientID(ctx context.Context) uint32 {
	if b := ipc.BadgeFromContext(ctx); b != nil {
		return b.ID
	}
	return 0
}

func (t *Terminator) client(ctx context.Context) *client {
	id := clientID(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c == nil {
		c = &client{socks: map[int32]*tsock{}, names: map[netip.Addr]string{}}
		t.clients[id] = c
	}
	return c
}

// sock looks up a client's descriptor (EBADF if unknown).
func (t *Terminator) sock(ctx context.Context, fd int32) (*tsock, error) {
	c := t.client(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := c.socks[fd]; s != nil {
		return s, nil
	}
	return nil, syscall.EBADF
}

// add enters s under the lowest free descriptor of the client.
func (t *Terminator) add(ctx context.Context, s *tsock) int32 {
	c := t.client(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	fd := int32(0)
	for c.socks[fd] != nil {
		fd++
	}
	c.socks[fd] = s
	return fd
}

// errnoOf turns a downstream error into the errno to pass on.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	var en syscall.Errno
	if errors.As(err, &en) && en != 0 { // an error reply of errno 0 is no success
		return en
	}
	var ie *ipc.Error
	if errors.As(err, &ie) && ie.Status == ipc.Cancelled {
		return syscall.ECANCELED
	}
	return syscall.EIO
}

// MaxSocketsPerClient is how many sockets one client may hold through a
// terminator (EMFILE beyond): every one holds a socket downstream, where
// the terminator's clients share one quota.
const MaxSocketsPerClient = 256

// reserve takes a place for one more socket of the caller, false when it
// holds MaxSocketsPerClient with the ones being made (so that concurrent
// calls cannot pass the limit); the caller ends it with done.
func (t *Terminator) reserve(ctx context.Context) bool {
	c := t.client(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(c.socks)+c.making >= MaxSocketsPerClient {
		return false
	}
	c.making++
	return true
}

// done ends a reservation (the socket, if made, is in socks by now).
func (t *Terminator) done(ctx context.Context) {
	c := t.client(ctx)
	t.mu.Lock()
	c.making--
	t.mu.Unlock()
}

// Socket implements socket.Server: a downstream socket, TLS if a stream.
func (t *Terminator) Socket(ctx context.Context, domain, socktype, protocol int32) (int32, error) {
	if !t.reserve(ctx) {
		return -1, syscall.EMFILE
	}
	defer t.done(ctx)
	down, err := t.down.Socket(ctx, domain, socktype, protocol)
	if err != nil {
		return -1, errnoOf(err)
	}
	if down < 0 {
		return -1, syscall.EIO // the backend's nonsense: no socket to keep
	}
	return t.add(ctx, &tsock{down: down, tls: socktype&sockTypeMsk == sockStream, nonblock: socktype&sockNonblock != 0}), nil
}

// downFD returns the downstream descriptor of fd (EBADF if closed).
func (t *Terminator) downFD(ctx context.Context, fd int32) (*tsock, int32, error) {
	s, err := t.sock(ctx, fd)
	if err != nil {
		return nil, -1, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down < 0 {
		return nil, -1, syscall.EBADF
	}
	return s, s.down, nil
}

// Connect implements socket.Server: downstream connect, then the client
// handshake. The server name is the TLS_SERVER_NAME option, else the name
// the address was resolved from (GetAddrInfo through this terminator),
// else the address. A failed verification is EACCES, a handshake timeout
// ETIMEDOUT (HandshakeError); TLS_VERIFY_RESULT then says why.
func (t *Terminator) Connect(ctx context.Context, fd int32, addr socket.Addr) error {
	s, down, err := t.downFD(ctx, fd)
	if err != nil {
		return err
	}
	if !s.tls {
		return errnoOf(t.down.Connect(ctx, down, addr))
	}
	s.mu.Lock()
	if s.opts.Connected {
		s.mu.Unlock()
		return syscall.EISCONN
	}
	s.opts.Connected = true
	opts := s.opts
	s.mu.Unlock()
	ap, ok := addrPort(addr)
	if !ok {
		return syscall.EAFNOSUPPORT
	}
	name := opts.ServerName
	if name == "" {
		name = t.resolvedName(ctx, ap.Addr())
	}
	if t.hooks != nil {
		if err := t.hooks.BeforeConnect(ctx, clientID(ctx), fd, name, ap); err != nil {
			s.unconnect()
			return hookErrno(err)
		}
	}
	if err := t.down.Connect(ctx, down, addr); err != nil {
		s.unconnect() // the options may change and connect may be retried
		return errnoOf(err)
	}
	return t.clientHandshake(ctx, s, fd, down, name, ap, opts)
}

func (s *tsock) unconnect() {
	s.mu.Lock()
	s.opts.Connected = false
	s.mu.Unlock()
}

func (t *Terminator) resolvedName(ctx context.Context, a netip.Addr) string {
	c := t.client(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := c.names[a.Unmap()]; ok {
		return n
	}
	return a.String()
}

func (t *Terminator) clientHandshake(ctx context.Context, s *tsock, fd, down int32, name string, peer netip.AddrPort, o SockOpts) error {
	conn := newDownConn(t.down, down, netip.AddrPort{}, peer) // local address: asked for when needed
	sess, err := t.cfg.Client(ctx, conn, SessionOptions{ServerName: name, RequireOCSP: o.RequireOCSP})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ServerName = name
	s.peer = peer
	var he *HandshakeError
	if errors.As(err, &he) {
		s.opts.Result = he.Result
	}
	if err != nil {
		s.down = -1 // the failed handshake closed the downstream socket
		t.log.Info("connect: tls handshake failed", "fd", fd, "server", name, "err", err)
		return Errno(err)
	}
	if t.hooks != nil {
		if err := t.hooks.AfterHandshake(ctx, clientID(ctx), fd, false, name, sess.PeerCertificates(), 0); err != nil {
			sess.Close()
			s.down = -1
			return hookErrno(err)
		}
	}
	s.sess = sess
	s.opts.SessionID = sess.ID()
	return nil
}

// recvd passes on the data of a downstream read of size bytes: more is
// the backend's nonsense, EIO, not data for the client.
func recvd(data []byte, size uint32, err error) ([]byte, error) {
	if err != nil {
		return nil, errnoOf(err)
	}
	if uint32(len(data)) > size {
		return nil, syscall.EIO
	}
	return data, nil
}

// sent passes on the count of a downstream send of data: more than was
// given is EIO.
func sent(n uint32, data []byte, err error) (uint32, error) {
	if err != nil {
		return 0, errnoOf(err)
	}
	if n > uint32(len(data)) {
		return 0, syscall.EIO
	}
	return n, nil
}

func hookErrno(err error) error {
	var en syscall.Errno
	if errors.As(err, &en) && en != 0 {
		return en
	}
	return syscall.EACCES
}

// Accept implements socket.Server: downstream accept, then the server
// handshake. The handshakes run in the background, several at once (see
// acceptor): Accept returns the next established session, and a peer whose
// handshake fails is logged and dropped, so that the server behind the
// terminator only sees established sessions and a slow peer never holds
// the others up. flags may hold SOCK_NONBLOCK and SOCK_CLOEXEC (which mean
// nothing to a TLS session).
func (t *Terminator) Accept(ctx context.Context, fd int32, flags uint32) (int32, socket.Addr, error) {
	s, down, err := t.downFD(ctx, fd)
	if err != nil {
		return -1, socket.Addr{}, err
	}
	if !t.reserve(ctx) {
		return -1, socket.Addr{}, syscall.EMFILE // as accept(2) at the descriptor limit
	}
	defer t.done(ctx)
	if !s.tls {
		conn, peer, err := t.down.Accept(ctx, down, flags)
		if err != nil {
			return -1, socket.Addr{}, errnoOf(err)
		}
		if conn < 0 {
			return -1, socket.Addr{}, syscall.EIO
		}
		return t.add(ctx, &tsock{down: conn}), peer, nil
	}
	if t.cfg.Certificate == nil {
		return -1, socket.Addr{}, syscall.ENOKEY // no server role: fail, not drop every peer
	}
	a := t.acceptorOf(ctx, s)
	if a == nil {
		return -1, socket.Addr{}, syscall.EBADF
	}
	for {
		acc, ok, changed, err := a.take()
		switch {
		case ok:
			return t.add(ctx, acc.s), acc.peer, nil
		case errors.Is(err, errListenerClosed):
			return -1, socket.Addr{}, syscall.EBADF
		case err != nil:
			return -1, socket.Addr{}, errnoOf(err)
		case s.nonblock:
			return -1, socket.Addr{}, syscall.EAGAIN
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return -1, socket.Addr{}, syscall.ECANCELED
		}
	}
}

// acceptorOf returns the acceptor of the listening socket s, starting it
// if it is not running yet; nil once s is closed.
func (t *Terminator) acceptorOf(ctx context.Context, s *tsock) *acceptor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acc == nil && s.down >= 0 {
		s.acc = t.startAcceptor(ctx, s.down)
	}
	return s.acc
}

func (t *Terminator) serverHandshake(ctx context.Context, conn int32, peer socket.Addr) (*tsock, error) {
	pap, _ := addrPort(peer)
	// The local address is asked for when needed.
	sess, err := t.cfg.Server(ctx, newDownConn(t.down, conn, netip.AddrPort{}, pap), SessionOptions{VerifyClient: t.cfg.VerifyClient})
	if err != nil {
		return nil, err
	}
	ns := &tsock{down: conn, tls: true, sess: sess, peer: pap}
	ns.opts = SockOpts{Connected: true, ServerName: sess.ServerName(), SessionID: sess.ID()}
	if t.hooks != nil {
		// No client waits on this call to bound it: the handshake timeout
		// does, so a plug-in that never answers cannot hold the peer's
		// place (maxPending) for ever.
		hctx, cancel := context.WithTimeout(ctx, t.cfg.timeout(SessionOptions{}))
		defer cancel()
		if err := t.hooks.AfterHandshake(hctx, clientID(ctx), -1, true, sess.ServerName(), sess.PeerCertificates(), 0); err != nil {
			sess.Close()
			return nil, err
		}
	}
	return ns, nil
}

// Close implements socket.Server: ends the session (close_notify) and
// closes the downstream socket.
func (t *Terminator) Close(ctx context.Context, fd int32) error {
	c := t.client(ctx)
	t.mu.Lock()
	s := c.socks[fd]
	delete(c.socks, fd)
	t.mu.Unlock()
	if s == nil {
		return syscall.EBADF
	}
	return t.closeSock(ctx, s)
}

// closeSock ends what s holds: its acceptor, its session (close_notify)
// or its downstream socket.
func (t *Terminator) closeSock(ctx context.Context, s *tsock) error {
	s.mu.Lock()
	sess, down, acc := s.sess, s.down, s.acc
	s.down = -1
	s.mu.Unlock()
	if acc != nil {
		acc.stop()
	}
	switch {
	case sess != nil:
		sess.Close()
	case down >= 0:
		return errnoOf(t.down.Close(ctx, down))
	}
	return nil
}

// Forget closes every socket of a client and drops its table, for the
// entity runtime to call when it learns that the client has gone.
func (t *Terminator) Forget(ctx context.Context, clientID uint32) {
	t.mu.Lock()
	c := t.clients[clientID]
	delete(t.clients, clientID)
	t.mu.Unlock()
	if c == nil {
		return
	}
	for _, s := range c.socks {
		_ = t.closeSock(ctx, s) // the client is gone: no one to tell
	}
}

// SetSockOpt implements socket.Server: LevelTLS here, the rest downstream.
func (t *Terminator) SetSockOpt(ctx context.Context, fd, level, name int32, value []byte) error {
	if level == LevelTLS {
		s, err := t.sock(ctx, fd)
		if err != nil {
			return err
		}
		if !s.tls {
			return syscall.ENOPROTOOPT
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.opts.Set(name, value)
	}
	_, down, err := t.downFD(ctx, fd)
	if err != nil {
		return err
	}
	return errnoOf(t.down.SetSockOpt(ctx, down, level, name, value))
}

// GetSockOpt implements socket.Server: LevelTLS here, the rest downstream.
// The TLS options stay readable after a failed handshake.
func (t *Terminator) GetSockOpt(ctx context.Context, fd, level, name int32, size uint32) ([]byte, error) {
	if level != LevelTLS {
		_, down, err := t.downFD(ctx, fd)
		if err != nil {
			return nil, err
		}
		v, err := t.down.GetSockOpt(ctx, down, level, name, size)
		return recvd(v, size, err)
	}
	s, err := t.sock(ctx, fd)
	if err != nil {
		return nil, err
	}
	if !s.tls {
		return nil, syscall.ENOPROTOOPT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Get(name, min(size, socket.MaxOpt))
}
