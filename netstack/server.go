package netstack

import (
	"context"
	"net/netip"

	"capsim/api/capsim/socket"
	"capsim/ipc"
)

// server adapts Sockets to the generated capsim.Socket server interface.
type server struct{ s *Sockets }

var _ socket.Server = server{}

// NewServer serves s as capsim.Socket: each call's client is the ID of the
// badge in its context (0 when there is none), addresses convert between
// socket.Addr and netip.AddrPort, and errors are syscall.Errno values the
// dispatcher sends as the errno parameter.
func NewServer(s *Sockets) socket.Server { return server{s} }

func clientOf(ctx context.Context) uint32 {
	if b := ipc.BadgeFromContext(ctx); b != nil {
		return b.ID
	}
	return 0
}

func toAddr(ap netip.AddrPort) socket.Addr {
	f, p, ip := AddrParts(ap)
	return socket.Addr{Family: f, Port: p, Ip: ip}
}

func fromAddr(a socket.Addr) (netip.AddrPort, error) { return AddrFromParts(a.Family, a.Port, a.Ip) }

func (v server) Socket(ctx context.Context, domain, socktype, protocol int32) (int32, error) {
	return v.s.Socket(ctx, clientOf(ctx), domain, socktype, protocol)
}

func (v server) Bind(ctx context.Context, fd int32, addr socket.Addr) error {
	ap, err := fromAddr(addr)
	if err != nil {
		return err
	}
	return v.s.Bind(ctx, clientOf(ctx), fd, ap)
}

func (v server) Listen(ctx context.Context, fd, backlog int32) error {
	return v.s.Listen(ctx, clientOf(ctx), fd, backlog)
}

func (v server) Accept(ctx context.Context, fd int32, flags uint32) (int32, socket.Addr, error) {
	conn, peer, err := v.s.Accept(ctx, clientOf(ctx), fd, flags)
	return conn, toAddr(peer), err
}

func (v server) Connect(ctx context.Context, fd int32, addr socket.Addr) error {
	ap, err := fromAddr(addr)
	if err != nil {
		return err
	}
	return v.s.Connect(ctx, clientOf(ctx), fd, ap)
}

func (v server) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	return v.s.Send(ctx, clientOf(ctx), fd, data, flags)
}

func (v server) Recv(ctx context.Context, fd int32, size, flags uint32) ([]byte, error) {
	return v.s.Recv(ctx, clientOf(ctx), fd, size, flags)
}

func (v server) SendTo(ctx context.Context, fd int32, data []byte, flags uint32, addr socket.Addr) (uint32, error) {
	ap, err := fromAddr(addr)
	if err != nil {
		return 0, err
	}
	return v.s.SendTo(ctx, clientOf(ctx), fd, data, flags, ap)
}

func (v server) RecvFrom(ctx context.Context, fd int32, size, flags uint32) ([]byte, socket.Addr, error) {
	data, from, err := v.s.RecvFrom(ctx, clientOf(ctx), fd, size, flags)
	return data, toAddr(from), err
}

func (v server) SendMsg(ctx context.Context, fd int32, data []byte, control []socket.Cmsg, flags uint32) (uint32, error) {
	cm := make([]Cmsg, len(control))
	for i, c := range control {
		cm[i] = Cmsg{Level: c.Level, Type: c.Type, Data: c.Data}
	}
	return v.s.SendMsg(ctx, clientOf(ctx), fd, data, cm, flags)
}

func (v server) RecvMsg(ctx context.Context, fd int32, size, flags uint32) ([]byte, []socket.Cmsg, uint32, error) {
	data, cm, mf, err := v.s.RecvMsg(ctx, clientOf(ctx), fd, size, flags)
	control := make([]socket.Cmsg, len(cm))
	for i, c := range cm {
		control[i] = socket.Cmsg{Level: c.Level, Type: c.Type, Data: c.Data}
	}
	return data, control, mf, err
}

func (v server) Shutdown(ctx context.Context, fd, how int32) error {
	return v.s.Shutdown(ctx, clientOf(ctx), fd, how)
}

func (v server) Close(ctx context.Context, fd int32) error {
	return v.s.Close(ctx, clientOf(ctx), fd)
}

func (v server) Poll(ctx context.Context, fds []socket.PollFd, timeoutMs int32) ([]uint16, uint32, error) {
	pfds := make([]PollFd, len(fds))
	for i, f := range fds {
		pfds[i] = PollFd{Fd: f.Fd, Events: f.Events}
	}
	return v.s.Poll(ctx, clientOf(ctx), pfds, timeoutMs)
}

func (v server) GetSockOpt(ctx context.Context, fd, level, name int32, size uint32) ([]byte, error) {
	return v.s.GetSockOpt(ctx, clientOf(ctx), fd, level, name, size)
}

func (v server) SetSockOpt(ctx context.Context, fd, level, name int32, value []byte) error {
	return v.s.SetSockOpt(ctx, clientOf(ctx), fd, level, name, value)
}

func (v server) GetSockName(ctx context.Context, fd int32) (socket.Addr, error) {
	ap, err := v.s.GetSockName(ctx, clientOf(ctx), fd)
	return toAddr(ap), err
}

func (v server) GetPeerName(ctx context.Context, fd int32) (socket.Addr, error) {
	ap, err := v.s.GetPeerName(ctx, clientOf(ctx), fd)
	return toAddr(ap), err
}

func (v server) GetAddrInfo(ctx context.Context, host string) ([]socket.Addr, error) {
	addrs, err := v.s.GetAddrInfo(ctx, clientOf(ctx), host)
	out := make([]socket.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = toAddr(netip.AddrPortFrom(a, 0))
	}
	return out, err
}
