package entity

import (
	"context"
	"sync"
	"syscall"

	"capsim/api/capsim/socket"
	"capsim/entities/posix"
	"capsim/ipc"
)

// forwarder is a network backend: it serves capsim.Socket by forwarding
// each call to the netstack. The netstack sees one client, the VFS; the
// VFS keeps which descriptors belong to which of its own clients, so one
// client cannot use another's socket (EBADF).
type forwarder struct {
	down *posix.Net

	mu    sync.Mutex
	owner map[int32]uint32 // downstream fd -> the VFS client (badge) that owns it
	held  map[uint32]int   // client -> its sockets, and the ones being made

	warnOnce sync.Once
	warn     func(error) // says once why the netstack cannot be reached
}

var _ socket.Server = (*forwarder)(nil)

func newForwarder(down *posix.Net, warn func(error)) *forwarder {
	return &forwarder{down: down, owner: make(map[int32]uint32), held: make(map[uint32]int), warn: warn}
}

func clientOf(ctx context.Context) uint32 {
	if b := ipc.BadgeFromContext(ctx); b != nil {
		return b.ID
	}
	return 0
}

// client returns the downstream proxy after checking that the caller owns
// fd.
func (f *forwarder) client(ctx context.Context, fd int32) (*socket.Client, error) {
	f.mu.Lock()
	owner, ok := f.owner[fd]
	f.mu.Unlock()
	if !ok || owner != clientOf(ctx) {
		return nil, syscall.EBADF
	}
	return f.down.Client(ctx)
}

// own records fd, a new socket from the netstack, as the caller's; its
// place was reserved. A descriptor that cannot be a new socket (negative,
// or one a client holds: the netstack answered nonsense) is not taken
// from its owner: the place is given back and own says EIO.
func (f *forwarder) own(ctx context.Context, fd int32) error {
	me := clientOf(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, held := f.owner[fd]; fd < 0 || held {
		f.releaseLocked(me)
		return syscall.EIO
	}
	f.owner[fd] = me
	return nil
}

// The netstack's answers are checked against what was asked: more bytes
// than the size asked for, a count past the bytes given, a poll answer
// for other descriptors, reach no client as if valid (EIO). (An error
// reply with errno 0 arrives as EIO already: the generated client maps it.)

func recvd(data []byte, size uint32, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	if uint32(len(data)) > size {
		return nil, syscall.EIO
	}
	return data, nil
}

func sent(n uint32, data []byte, err error) (uint32, error) {
	if err != nil {
		return 0, err
	}
	if n > uint32(len(data)) {
		return 0, syscall.EIO
	}
	return n, nil
}

// MaxSocketsPerClient is how many sockets one client may hold through
// the VFS (EMFILE beyond): the netstack sees one client, the VFS, and
// its per-client quota is the VFS clients' together.
const MaxSocketsPerClient = 256

// reserve takes a place for one more socket of the caller, false when it
// holds MaxSocketsPerClient (counting the ones being made, so concurrent
// calls cannot pass the limit); release gives an unused place back.
func (f *forwarder) reserve(ctx context.Context) bool {
	me := clientOf(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[me] >= MaxSocketsPerClient {
		return false
	}
	f.held[me]++
	return true
}

func (f *forwarder) release(client uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseLocked(client)
}

func (f *forwarder) releaseLocked(client uint32) {
	if f.held[client]--; f.held[client] <= 0 {
		delete(f.held, client)
	}
}

// Socket implements socket.Server.
func (f *forwarder) Socket(ctx context.Context, domain, socktype, protocol int32) (int32, error) {
	if !f.reserve(ctx) {
		return -1, syscall.EMFILE
	}
	c, err := f.down.Client(ctx)
	if err != nil {
		f.release(clientOf(ctx))
		return -1, f.errnoOf(err)
	}
	fd, err := c.Socket(ctx, domain, socktype, protocol)
	if err != nil {
		f.release(clientOf(ctx))
		return -1, err
	}
	if err := f.own(ctx, fd); err != nil {
		return -1, err
	}
	return fd, nil
}

// Bind implements socket.Server.
func (f *forwarder) Bind(ctx context.Context, fd int32, addr socket.Addr) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	return c.Bind(ctx, fd, addr)
}

// Listen implements socket.Server.
func (f *forwarder) Listen(ctx context.Context, fd, backlog int32) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	return c.Listen(ctx, fd, backlog)
}

// Accept implements socket.Server.
func (f *forwarder) Accept(ctx context.Context, fd int32, flags uint32) (int32, socket.Addr, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return -1, socket.Addr{}, err
	}
	if !f.reserve(ctx) {
		return -1, socket.Addr{}, syscall.EMFILE // as accept(2) at the descriptor limit
	}
	conn, peer, err := c.Accept(ctx, fd, flags)
	if err != nil {
		f.release(clientOf(ctx))
		return -1, socket.Addr{}, err
	}
	if err := f.own(ctx, conn); err != nil {
		return -1, socket.Addr{}, err
	}
	return conn, peer, nil
}

// Connect implements socket.Server.
func (f *forwarder) Connect(ctx context.Context, fd int32, addr socket.Addr) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	return c.Connect(ctx, fd, addr)
}

// Send implements socket.Server.
func (f *forwarder) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return 0, err
	}
	n, err := c.Send(ctx, fd, data, flags)
	return sent(n, data, err)
}

// Recv implements socket.Server.
func (f *forwarder) Recv(ctx context.Context, fd int32, size, flags uint32) ([]byte, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return nil, err
	}
	data, err := c.Recv(ctx, fd, size, flags)
	return recvd(data, size, err)
}

// SendTo implements socket.Server.
func (f *forwarder) SendTo(ctx context.Context, fd int32, data []byte, flags uint32, addr socket.Addr) (uint32, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return 0, err
	}
	n, err := c.SendTo(ctx, fd, data, flags, addr)
	return sent(n, data, err)
}

// RecvFrom implements socket.Server.
func (f *forwarder) RecvFrom(ctx context.Context, fd int32, size, flags uint32) ([]byte, socket.Addr, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return nil, socket.Addr{}, err
	}
	data, from, err := c.RecvFrom(ctx, fd, size, flags)
	if data, err = recvd(data, size, err); err != nil {
		return nil, socket.Addr{}, err
	}
	return data, from, nil
}

// SendMsg implements socket.Server.
func (f *forwarder) SendMsg(ctx context.Context, fd int32, data []byte, control []socket.Cmsg, flags uint32) (uint32, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return 0, err
	}
	n, err := c.SendMsg(ctx, fd, data, control, flags)
	return sent(n, data, err)
}

// RecvMsg implements socket.Server.
func (f *forwarder) RecvMsg(ctx context.Context, fd int32, size, flags uint32) ([]byte, []socket.Cmsg, uint32, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return nil, nil, 0, err
	}
	data, control, mf, err := c.RecvMsg(ctx, fd, size, flags)
	if data, err = recvd(data, size, err); err != nil {
		return nil, nil, 0, err
	}
	return data, control, mf, nil
}

// Shutdown implements socket.Server.
func (f *forwarder) Shutdown(ctx context.Context, fd, how int32) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	return c.Shutdown(ctx, fd, how)
}

// Close implements socket.Server.
func (f *forwarder) Close(ctx context.Context, fd int32) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if _, ok := f.owner[fd]; ok {
		delete(f.owner, fd)
		f.releaseLocked(clientOf(ctx))
	}
	f.mu.Unlock()
	return c.Close(ctx, fd)
}

// Poll implements socket.Server.
func (f *forwarder) Poll(ctx context.Context, fds []socket.PollFd, timeoutMs int32) ([]uint16, uint32, error) {
	// As poll(2): a negative descriptor is skipped; one that is not the
	// caller's (unknown, or another client's, which must not be looked
	// at) gets POLLNVAL in its own entry, and the call does not wait.
	me := clientOf(ctx)
	down := append([]socket.PollFd(nil), fds...)
	nval := false
	f.mu.Lock()
	for i, p := range fds {
		if owner, ok := f.owner[p.Fd]; p.Fd >= 0 && (!ok || owner != me) {
			down[i].Fd = -1
			nval = true
		}
	}
	f.mu.Unlock()
	if nval {
		timeoutMs = 0
	}
	c, err := f.down.Client(ctx)
	if err != nil {
		return nil, 0, f.errnoOf(err)
	}
	rev, _, err := c.Poll(ctx, down, timeoutMs)
	if err != nil {
		return nil, 0, err
	}
	if len(rev) != len(fds) {
		return nil, 0, syscall.EIO // not an answer to this poll
	}
	// Each entry gets only what poll(2) may say of it: nothing for a
	// skipped descriptor, POLLNVAL for one not the caller's, else the
	// events asked for and the conditions always reported; ready counts
	// them here, not as the netstack says.
	n := uint32(0)
	for i, p := range fds {
		switch {
		case p.Fd < 0:
			rev[i] = 0
		case down[i].Fd < 0:
			rev[i] = pollNval
		default:
			rev[i] &= p.Events | pollErr | pollHup | pollNval
		}
		if rev[i] != 0 {
			n++
		}
	}
	return rev, n, nil
}

// Poll events: POLLERR, POLLHUP and POLLNVAL (an entry's descriptor is
// not open) are reported whether asked for or not.
const (
	pollErr  = 0x8
	pollHup  = 0x10
	pollNval = 0x20
)

// GetSockOpt implements socket.Server.
func (f *forwarder) GetSockOpt(ctx context.Context, fd, level, name int32, size uint32) ([]byte, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return nil, err
	}
	data, err := c.GetSockOpt(ctx, fd, level, name, size)
	return recvd(data, size, err)
}

// SetSockOpt implements socket.Server.
func (f *forwarder) SetSockOpt(ctx context.Context, fd, level, name int32, value []byte) error {
	c, err := f.client(ctx, fd)
	if err != nil {
		return err
	}
	return c.SetSockOpt(ctx, fd, level, name, value)
}

// GetSockName implements socket.Server.
func (f *forwarder) GetSockName(ctx context.Context, fd int32) (socket.Addr, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return socket.Addr{}, err
	}
	a, err := c.GetSockName(ctx, fd)
	return a, err
}

// GetPeerName implements socket.Server.
func (f *forwarder) GetPeerName(ctx context.Context, fd int32) (socket.Addr, error) {
	c, err := f.client(ctx, fd)
	if err != nil {
		return socket.Addr{}, err
	}
	a, err := c.GetPeerName(ctx, fd)
	return a, err
}

// GetAddrInfo implements socket.Server.
func (f *forwarder) GetAddrInfo(ctx context.Context, host string) ([]socket.Addr, error) {
	c, err := f.down.Client(ctx)
	if err != nil {
		return nil, f.errnoOf(err)
	}
	addrs, err := c.GetAddrInfo(ctx, host)
	return addrs, err
}

// errnoOf turns a failure to reach the netstack into the errno a client
// sees, ENETDOWN, and says once on stderr why.
func (f *forwarder) errnoOf(err error) error {
	f.warnOnce.Do(func() { f.warn(err) })
	return syscall.ENETDOWN
}

// drop closes, at the netstack, every socket an ended client left open.
func (f *forwarder) drop(client uint32) {
	f.mu.Lock()
	var fds []int32
	for fd, owner := range f.owner {
		if owner == client {
			fds = append(fds, fd)
			delete(f.owner, fd)
			f.releaseLocked(client)
		}
	}
	f.mu.Unlock()
	if len(fds) == 0 {
		return
	}
	ctx := context.Background()
	c, err := f.down.Client(ctx)
	if err != nil {
		return
	}
	for _, fd := range fds {
		_ = c.Close(ctx, fd)
	}
}
