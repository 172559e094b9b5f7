package tls

import (
	"context"
	"net/netip"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// loopCaller carries calls in process to a handler, as the kernel would:
// the handler sees the caller's badge in its context and the caller's
// cancellation.
type loopCaller struct {
	h     ipc.Handler
	badge *ipc.Badge
}

type chanResponder chan *ipc.Message

func (c chanResponder) Reply(_ *ipc.Request, m *ipc.Message) error { c <- m; return nil }

func (l *loopCaller) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	req := &ipc.Request{Badge: l.badge, Message: *m}
	rep := make(chanResponder, 1)
	go l.h.Serve(ipc.WithBadge(ctx, l.badge), req, rep)
	select {
	case r := <-rep:
		return r, nil
	case <-ctx.Done():
		return nil, &ipc.Error{Status: ipc.Cancelled, Reason: ctx.Err().Error()}
	}
}

func socketClient(h socket.Server, id uint32, task string) *socket.Client {
	return &socket.Client{Caller: &loopCaller{h: socket.NewDispatcher(h), badge: &ipc.Badge{ID: id, Task: task}}}
}

// osBackend is a capsim.Socket server on the machine's own sockets, the
// downstream of the terminators under test. Descriptors are the host's
// (non-blocking; blocking calls poll and end with the caller's context).
type osBackend struct {
	hosts map[string]netip.Addr
	mu    sync.Mutex
	open  map[int32]bool
}

var _ socket.Server = (*osBackend)(nil)

func newOSBackend(t *testing.T) *osBackend {
	b := &osBackend{hosts: map[string]netip.Addr{"cloud": netip.MustParseAddr("127.0.0.1")}, open: map[int32]bool{}}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for fd := range b.open {
			unix.Close(int(fd))
		}
	})
	return b
}

func errno(err error) error {
	if err == nil {
		return nil
	}
	if en, ok := err.(syscall.Errno); ok {
		return en
	}
	return syscall.EIO
}

func (b *osBackend) track(fd int) int32 {
	b.mu.Lock()
	b.open[int32(fd)] = true
	b.mu.Unlock()
	return int32(fd)
}

func (b *osBackend) check(fd int32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open[fd] {
		return syscall.EBADF
	}
	return nil
}

// wait polls fd for events until ready or ctx is done.
func wait(ctx context.Context, fd int32, events int16) error {
	for {
		pfd := []unix.PollFd{{Fd: fd, Events: events}}
		if _, err := unix.Poll(pfd, 10); err != nil && err != unix.EINTR {
			return err
		}
		if ctx.Err() != nil { // first: a cancelled caller's descriptor may be reused
			return syscall.ECANCELED
		}
		if pfd[0].Revents != 0 {
			return nil
		}
	}
}

func toSockaddr(a socket.Addr) unix.Sockaddr {
	ap, _ := addrPort(a)
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func fromSockaddr(sa unix.Sockaddr) socket.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sockAddr(netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)))
	case *unix.SockaddrInet6:
		return sockAddr(netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)))
	}
	return socket.Addr{}
}

func (b *osBackend) Socket(ctx context.Context, domain, typ, proto int32) (int32, error) {
	fd, err := unix.Socket(int(domain), int(typ)|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return -1, errno(err)
	}
	return b.track(fd), nil
}

func (b *osBackend) Bind(ctx context.Context, fd int32, a socket.Addr) error {
	unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	return errno(unix.Bind(int(fd), toSockaddr(a)))
}

func (b *osBackend) Listen(ctx context.Context, fd, backlog int32) error {
	return errno(unix.Listen(int(fd), int(backlog)))
}

func (b *osBackend) Accept(ctx context.Context, fd int32, flags uint32) (int32, socket.Addr, error) {
	for {
		if err := b.check(fd); err != nil {
			return -1, socket.Addr{}, err
		}
		nfd, sa, err := unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == nil {
			return b.track(nfd), fromSockaddr(sa), nil
		}
		if err != unix.EAGAIN {
			return -1, socket.Addr{}, errno(err)
		}
		if err := wait(ctx, fd, unix.POLLIN); err != nil {
			return -1, socket.Addr{}, err
		}
	}
}

func (b *osBackend) Connect(ctx context.Context, fd int32, a socket.Addr) error {
	err := unix.Connect(int(fd), toSockaddr(a))
	if err != unix.EINPROGRESS {
		return errno(err)
	}
	if err := wait(ctx, fd, unix.POLLOUT); err != nil {
		return err
	}
	soerr, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return errno(err)
	}
	if soerr != 0 {
		return syscall.Errno(soerr)
	}
	return nil
}

func (b *osBackend) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	for {
		n, err := unix.SendmsgN(int(fd), data, nil, nil, int(flags)|unix.MSG_NOSIGNAL)
		if err != unix.EAGAIN {
			return uint32(max(n, 0)), errno(err)
		}
		if err := wait(ctx, fd, unix.POLLOUT); err != nil {
			return 0, err
		}
	}
}

func (b *osBackend) Recv(ctx context.Context, fd int32, size, flags uint32) ([]byte, error) {
	buf := make([]byte, size)
	for {
		if err := b.check(fd); err != nil {
			return nil, err
		}
		n, _, err := unix.Recvfrom(int(fd), buf, int(flags))
		if err == nil {
			return buf[:n], nil
		}
		if err != unix.EAGAIN || flags&msgDontWait != 0 {
			return nil, errno(err)
		}
		if err := wait(ctx, fd, unix.POLLIN); err != nil {
			return nil, err
		}
	}
}

func (b *osBackend) Shutdown(ctx context.Context, fd, how int32) error {
	return errno(unix.Shutdown(int(fd), int(how)))
}

func (b *osBackend) Close(ctx context.Context, fd int32) error {
	b.mu.Lock()
	ok := b.open[fd]
	delete(b.open, fd)
	b.mu.Unlock()
	if !ok {
		return syscall.EBADF
	}
	return errno(unix.Close(int(fd)))
}

func (b *osBackend) Poll(ctx context.Context, fds []socket.PollFd, timeoutMs int32) ([]uint16, uint32, error) {
	pfds := make([]unix.PollFd, len(fds))
	for i, f := range fds {
		pfds[i] = unix.PollFd{Fd: f.Fd, Events: int16(f.Events)}
	}
	n, err := unix.Poll(pfds, int(timeoutMs))
	if err == unix.EINTR { // a runtime signal: report nothing ready, the caller polls again
		return make([]uint16, len(fds)), 0, nil
	}
	if err != nil {
		return nil, 0, errno(err)
	}
	rev := make([]uint16, len(fds))
	for i := range pfds {
		rev[i] = uint16(pfds[i].Revents)
	}
	return rev, uint32(n), nil
}

func (b *osBackend) GetSockOpt(ctx context.Context, fd, level, name int32, size uint32) ([]byte, error) {
	v, err := unix.GetsockoptInt(int(fd), int(level), int(name))
	if err != nil {
		return nil, errno(err)
	}
	return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}[:min(size, 4)], nil
}

func (b *osBackend) SetSockOpt(ctx context.Context, fd, level, name int32, value []byte) error {
	if len(value) != 4 {
		return syscall.EINVAL
	}
	v := int(value[0]) | int(value[1])<<8 | int(value[2])<<16 | int(value[3])<<24
	return errno(unix.SetsockoptInt(int(fd), int(level), int(name), v))
}

func (b *osBackend) GetSockName(ctx context.Context, fd int32) (socket.Addr, error) {
	sa, err := unix.Getsockname(int(fd))
	if err != nil {
		return socket.Addr{}, errno(err)
	}
	return fromSockaddr(sa), nil
}

func (b *osBackend) GetPeerName(ctx context.Context, fd int32) (socket.Addr, error) {
	sa, err := unix.Getpeername(int(fd))
	if err != nil {
		return socket.Addr{}, errno(err)
	}
	return fromSockaddr(sa), nil
}

func (b *osBackend) GetAddrInfo(ctx context.Context, host string) ([]socket.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []socket.Addr{sockAddr(netip.AddrPortFrom(a, 0))}, nil
	}
	a, ok := b.hosts[host]
	if !ok {
		return nil, syscall.ENOENT
	}
	return []socket.Addr{sockAddr(netip.AddrPortFrom(a, 0))}, nil
}

func (b *osBackend) SendTo(ctx context.Context, fd int32, data []byte, flags uint32, a socket.Addr) (uint32, error) {
	return 0, syscall.ENOSYS
}

func (b *osBackend) RecvFrom(ctx context.Context, fd int32, size, flags uint32) ([]byte, socket.Addr, error) {
	return nil, socket.Addr{}, syscall.ENOSYS
}

func (b *osBackend) SendMsg(ctx context.Context, fd int32, data []byte, c []socket.Cmsg, flags uint32) (uint32, error) {
	return 0, syscall.ENOSYS
}

func (b *osBackend) RecvMsg(ctx context.Context, fd int32, size, flags uint32) ([]byte, []socket.Cmsg, uint32, error) {
	return nil, nil, 0, syscall.ENOSYS
}
