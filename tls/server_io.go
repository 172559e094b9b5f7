package tls

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"syscall"

	"capsim/api/capsim/socket"
)

// session returns the established session of fd, or nil for a socket
// that passes through (not a stream); ENOTCONN for a TLS socket without one.
func (t *Terminator) session(ctx context.Context, fd int32) (*tsock, *Session, error) {
	s, err := t.sock(ctx, fd)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.sess != nil:
		return s, s.sess, nil
	case s.down < 0:
		return nil, nil, syscall.EBADF
	case s.tls:
		return nil, nil, syscall.ENOTCONN
	}
	return s, nil, nil
}

// Bind implements socket.Server (pass-through).
func (t *Terminator) Bind(ctx context.Context, fd int32, addr socket.Addr) error {
	_, down, err := t.downFD(ctx, fd)
	if err != nil {
		return err
	}
	return errnoOf(t.down.Bind(ctx, down, addr))
}

// Listen implements socket.Server: downstream listen; a stream socket
// then starts its acceptor, which shakes hands with peers as they come.
func (t *Terminator) Listen(ctx context.Context, fd int32, backlog int32) error {
	s, down, err := t.downFD(ctx, fd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	relisten := s.acc != nil // listen(2) again only changes the backlog
	s.mu.Unlock()
	if s.tls && t.cfg.Certificate != nil && !relisten && t.listeners(ctx) >= MaxListenersPerClient {
		return syscall.ENOBUFS
	}
	if err := t.down.Listen(ctx, down, backlog); err != nil {
		return errnoOf(err)
	}
	if s.tls && t.cfg.Certificate != nil {
		t.acceptorOf(ctx, s)
	}
	return nil
}

// MaxListenersPerClient is how many listening TLS sockets one client may
// have (ENOBUFS beyond): each keeps a call downstream in flight, and the
// terminator has only so many (limits.inflight) for all its clients.
const MaxListenersPerClient = 8

// listeners counts the calling client's TLS listeners.
func (t *Terminator) listeners(ctx context.Context) int {
	c := t.client(ctx)
	t.mu.Lock()
	socks := make([]*tsock, 0, len(c.socks))
	for _, s := range c.socks {
		socks = append(socks, s)
	}
	t.mu.Unlock()
	n := 0
	for _, s := range socks {
		s.mu.Lock()
		if s.acc != nil {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// Send implements socket.Server: encrypts data into TLS records.
func (t *Terminator) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	s, sess, err := t.session(ctx, fd)
	if errors.Is(err, syscall.ENOTCONN) {
		return 0, syscall.EPIPE // as send(2) on a stream socket that is not connected
	}
	if err != nil {
		return 0, err
	}
	if sess == nil {
		n, err := t.down.Send(ctx, s.down, data, flags)
		return sent(n, data, err)
	}
	s.mu.Lock()
	shut := s.shutWr
	s.mu.Unlock()
	if shut {
		return 0, syscall.EPIPE
	}
	out := data
	if t.hooks != nil {
		if out, err = t.hooks.BeforeSend(ctx, clientID(ctx), fd, data); err != nil {
			return 0, hookErrno(err)
		}
	}
	if _, err := sess.WriteContext(ctx, out); err != nil {
		if ctx.Err() != nil {
			return 0, syscall.ECANCELED
		}
		return 0, Errno(err)
	}
	return uint32(len(data)), nil
}

// Recv implements socket.Server: returns decrypted data (MSG_PEEK and
// MSG_DONTWAIT honoured); an empty result after the peer's close_notify.
func (t *Terminator) Recv(ctx context.Context, fd int32, size uint32, flags uint32) ([]byte, error) {
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		data, err := t.down.Recv(ctx, s.down, size, flags)
		return recvd(data, size, err)
	}
	s.mu.Lock()
	lost := s.recvLost
	s.mu.Unlock()
	if lost != nil {
		return nil, lost
	}
	peek := flags&msgPeek != 0
	data, err := sess.Take(ctx, int(min(size, socket.MaxData)), peek, flags&msgDontWait != 0)
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil
	case errors.Is(err, syscall.EAGAIN):
		return nil, syscall.EAGAIN
	case ctx.Err() != nil:
		return nil, syscall.ECANCELED
	case err != nil:
		return nil, Errno(err)
	}
	if t.hooks != nil && len(data) > 0 {
		data, err = t.hooks.AfterRecv(ctx, clientID(ctx), fd, data)
		if err == nil && uint32(len(data)) > size {
			err = syscall.EIO // a plug-in's answer past the size asked for
		}
		if err != nil {
			err = hookErrno(err)
			if !peek {
				// The data taken is lost: a later Recv must not return
				// what follows as if the stream had no gap.
				s.mu.Lock()
				s.recvLost = err
				s.mu.Unlock()
			}
			return nil, err
		}
	}
	return data, nil
}

// SendTo implements socket.Server: Send on a TLS socket (the address of a
// connected stream is ignored, as TCP does).
func (t *Terminator) SendTo(ctx context.Context, fd int32, data []byte, flags uint32, addr socket.Addr) (uint32, error) {
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return 0, err
	}
	if sess == nil {
		n, err := t.down.SendTo(ctx, s.down, data, flags, addr)
		return sent(n, data, err)
	}
	return t.Send(ctx, fd, data, flags)
}

// RecvFrom implements socket.Server: Recv plus the peer's address.
func (t *Terminator) RecvFrom(ctx context.Context, fd int32, size uint32, flags uint32) ([]byte, socket.Addr, error) {
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return nil, socket.Addr{}, err
	}
	if sess == nil {
		data, from, err := t.down.RecvFrom(ctx, s.down, size, flags)
		if data, err = recvd(data, size, err); err != nil {
			return nil, socket.Addr{}, err
		}
		return data, from, nil
	}
	data, err := t.Recv(ctx, fd, size, flags)
	return data, sockAddr(s.peer), err
}

// SendMsg implements socket.Server: on a TLS socket control messages are
// not supported (EOPNOTSUPP).
func (t *Terminator) SendMsg(ctx context.Context, fd int32, data []byte, control []socket.Cmsg, flags uint32) (uint32, error) {
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return 0, err
	}
	if sess == nil {
		n, err := t.down.SendMsg(ctx, s.down, data, control, flags)
		return sent(n, data, err)
	}
	if len(control) > 0 {
		return 0, syscall.EOPNOTSUPP
	}
	return t.Send(ctx, fd, data, flags)
}

// RecvMsg implements socket.Server: on a TLS socket no control messages.
func (t *Terminator) RecvMsg(ctx context.Context, fd int32, size uint32, flags uint32) ([]byte, []socket.Cmsg, uint32, error) {
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return nil, nil, 0, err
	}
	if sess == nil {
		data, control, mf, err := t.down.RecvMsg(ctx, s.down, size, flags)
		if data, err = recvd(data, size, err); err != nil {
			return nil, nil, 0, err
		}
		return data, control, mf, nil
	}
	data, err := t.Recv(ctx, fd, size, flags)
	return data, nil, 0, err
}

// Shutdown implements socket.Server: SHUT_WR and SHUT_RDWR send
// close_notify first; then the downstream socket is shut down.
func (t *Terminator) Shutdown(ctx context.Context, fd int32, how int32) error {
	if how != shutRd && how != shutWr && how != shutRdWr {
		return syscall.EINVAL // as shutdown(2), before the socket's state
	}
	s, sess, err := t.session(ctx, fd)
	if err != nil {
		return err
	}
	if sess != nil && (how == shutWr || how == shutRdWr) {
		s.mu.Lock()
		already := s.shutWr
		s.shutWr = true
		s.mu.Unlock()
		if !already {
			if err := sess.CloseWrite(); err != nil {
				return Errno(err)
			}
		}
	}
	return errnoOf(t.down.Shutdown(ctx, s.down, how))
}

// GetSockName implements socket.Server (pass-through).
func (t *Terminator) GetSockName(ctx context.Context, fd int32) (socket.Addr, error) {
	_, down, err := t.downFD(ctx, fd)
	if err != nil {
		return socket.Addr{}, err
	}
	a, err := t.down.GetSockName(ctx, down)
	return a, errnoOf(err)
}

// GetPeerName implements socket.Server (pass-through).
func (t *Terminator) GetPeerName(ctx context.Context, fd int32) (socket.Addr, error) {
	_, down, err := t.downFD(ctx, fd)
	if err != nil {
		return socket.Addr{}, err
	}
	a, err := t.down.GetPeerName(ctx, down)
	return a, errnoOf(err)
}

// GetAddrInfo implements socket.Server: passes through and remembers which
// name each address came from, for the server name of a later Connect.
func (t *Terminator) GetAddrInfo(ctx context.Context, host string) ([]socket.Addr, error) {
	addrs, err := t.down.GetAddrInfo(ctx, host)
	if err != nil {
		return nil, errnoOf(err)
	}
	if _, perr := netip.ParseAddr(host); perr == nil {
		return addrs, nil
	}
	c := t.client(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.Ip)
		if !ok {
			continue
		}
		if len(c.names) >= maxNames {
			clear(c.names)
		}
		c.names[ip.Unmap()] = host
	}
	return addrs, nil
}
