package netstack

import (
	"context"
	"encoding/binary"
	"math"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// MaxOpt is the largest option value (capsim.Socket MaxOpt).
const MaxOpt = 1024

// intOpt is an integer socket option: get reads it, set (nil when the
// option is read-only) writes it.
type intOpt struct {
	get func(k *sock) (int32, error)
	set func(k *sock, v int32) error
}

// GetSockOpt reads option (level, name) of fd as Linux lays it out: an
// integer option is a little-endian int32, cut to size bytes when size is
// smaller. An unknown option is ENOPROTOOPT; so is an unknown level,
// except that an AF_INET socket (as Linux's ip_getsockopt) answers
// EOPNOTSUPP for a level other than SOL_SOCKET, IPPROTO_IP and its own
// protocol's.
func (s *Sockets) GetSockOpt(ctx context.Context, client uint32, fd, level, name int32, size uint32) ([]byte, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return nil, err
	}
	o, ok := lookupOpt(k, level, name)
	if !ok {
		if k.domain == AF_INET && level != SOL_SOCKET && level != IPPROTO_IP &&
			!(level == k.proto && (k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP)) {
			return nil, syscall.EOPNOTSUPP
		}
		return nil, syscall.ENOPROTOOPT
	}
	v, err := o.get(k)
	if err != nil {
		return nil, err
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(v))
	return b[:min(size, 4)], nil
}

// SetSockOpt writes option (level, name) of fd; an integer value is a
// little-endian int32 (shorter: EINVAL; longer: the first 4 bytes count).
func (s *Sockets) SetSockOpt(ctx context.Context, client uint32, fd, level, name int32, value []byte) error {
	k, err := s.lookup(client, fd)
	if err != nil {
		return err
	}
	o, ok := lookupOpt(k, level, name)
	if !ok || o.set == nil {
		return syscall.ENOPROTOOPT
	}
	if len(value) < 4 || len(value) > MaxOpt {
		return syscall.EINVAL
	}
	return o.set(k, int32(binary.LittleEndian.Uint32(value)))
}

func lookupOpt(k *sock, level, name int32) (intOpt, bool) {
	switch {
	case level == SOL_SOCKET:
		return socketOpt(name)
	case level == IPPROTO_TCP && k.stream():
		return tcpOpt(name)
	case level == IPPROTO_IPV6 && k.domain == AF_INET6 && name == IPV6_V6ONLY:
		return boolOpt(func(k *sock) bool { return k.ep.SocketOptions().GetV6Only() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetV6Only(v) }), true
	}
	return intOpt{}, false
}

func boolOpt(get func(*sock) bool, set func(*sock, bool)) intOpt {
	return intOpt{
		get: func(k *sock) (int32, error) {
			if get(k) {
				return 1, nil
			}
			return 0, nil
		},
		set: func(k *sock, v int32) error { set(k, v != 0); return nil },
	}
}

func constOpt(f func(*sock) int32) intOpt {
	return intOpt{get: func(k *sock) (int32, error) { return f(k), nil }}
}

func socketOpt(name int32) (intOpt, bool) {
	switch name {
	case SO_REUSEADDR:
		return boolOpt(func(k *sock) bool { return k.ep.SocketOptions().GetReuseAddress() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetReuseAddress(v) }), true
	case SO_REUSEPORT:
		return boolOpt(func(k *sock) bool { return k.ep.SocketOptions().GetReusePort() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetReusePort(v) }), true
	case SO_KEEPALIVE:
		return boolOpt(func(k *sock) bool { return k.ep.SocketOptions().GetKeepAlive() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetKeepAlive(v) }), true
	case SO_BROADCAST:
		return boolOpt(func(k *sock) bool { return k.ep.SocketOptions().GetBroadcast() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetBroadcast(v) }), true
	case SO_ACCEPTCONN:
		return constOpt(func(k *sock) int32 { return b2i(k.ep.SocketOptions().GetAcceptConn()) }), true
	case SO_TYPE:
		return constOpt(func(k *sock) int32 { return k.stype }), true
	case SO_PROTOCOL:
		return constOpt(func(k *sock) int32 { return k.proto }), true
	case SO_DOMAIN:
		return constOpt(func(k *sock) int32 { return k.domain }), true
	case SO_ERROR:
		return constOpt(func(k *sock) int32 { return int32(errnoOf(k.takeError())) }), true
	case SO_SNDBUF:
		return intOpt{
			get: func(k *sock) (int32, error) { return clampInt32(k.ep.SocketOptions().GetSendBufferSize()), nil },
			set: func(k *sock, v int32) error {
				lo, hi := k.ep.SocketOptions().SendBufferLimits()
				k.ep.SocketOptions().SetSendBufferSize(bufSize(v, lo, hi), true)
				return nil
			},
		}, true
	case SO_RCVBUF:
		return intOpt{
			get: func(k *sock) (int32, error) { return clampInt32(k.ep.SocketOptions().GetReceiveBufferSize()), nil },
			set: func(k *sock, v int32) error {
				lo, hi := k.ep.SocketOptions().ReceiveBufferLimits()
				k.ep.SocketOptions().SetReceiveBufferSize(bufSize(v, lo, hi), true)
				return nil
			},
		}, true
	}
	return intOpt{}, false
}

func tcpOpt(name int32) (intOpt, bool) {
	switch name {
	case TCP_NODELAY:
		return boolOpt(func(k *sock) bool { return !k.ep.SocketOptions().GetDelayOption() },
			func(k *sock, v bool) { k.ep.SocketOptions().SetDelayOption(!v) }), true
	case TCP_MAXSEG:
		return sockOptInt(tcpip.MaxSegOption), true
	case TCP_KEEPCNT:
		return sockOptInt(tcpip.KeepaliveCountOption), true
	case TCP_KEEPIDLE:
		return secondsOpt(func() durationOpt { return new(tcpip.KeepaliveIdleOption) }), true
	case TCP_KEEPINTVL:
		return secondsOpt(func() durationOpt { return new(tcpip.KeepaliveIntervalOption) }), true
	}
	return intOpt{}, false
}

func sockOptInt(o tcpip.SockOptInt) intOpt {
	return intOpt{
		get: func(k *sock) (int32, error) {
			v, terr := k.ep.GetSockOptInt(o)
			return int32(v), errOf(terr)
		},
		set: func(k *sock, v int32) error { return errOf(k.ep.SetSockOptInt(o, int(v))) },
	}
}

// durationOpt is *tcpip.KeepaliveIdleOption or *tcpip.KeepaliveIntervalOption.
type durationOpt interface {
	tcpip.GettableSocketOption
	tcpip.SettableSocketOption
}

// secondsOpt is a duration option that Linux gives in whole seconds
// (1..32767).
func secondsOpt(fresh func() durationOpt) intOpt {
	return intOpt{
		get: func(k *sock) (int32, error) {
			o := fresh()
			if terr := k.ep.GetSockOpt(o); terr != nil {
				return 0, errOf(terr)
			}
			return int32(durationOf(o) / time.Second), nil
		},
		set: func(k *sock, v int32) error {
			if v < 1 || v > math.MaxInt16 {
				return syscall.EINVAL
			}
			d := time.Duration(v) * time.Second
			var o tcpip.SettableSocketOption
			switch fresh().(type) {
			case *tcpip.KeepaliveIdleOption:
				x := tcpip.KeepaliveIdleOption(d)
				o = &x
			default:
				x := tcpip.KeepaliveIntervalOption(d)
				o = &x
			}
			return errOf(k.ep.SetSockOpt(o))
		},
	}
}

func durationOf(o durationOpt) time.Duration {
	switch v := o.(type) {
	case *tcpip.KeepaliveIdleOption:
		return time.Duration(*v)
	case *tcpip.KeepaliveIntervalOption:
		return time.Duration(*v)
	}
	return 0
}

// bufSize is the buffer size Linux stores for a SO_SNDBUF/SO_RCVBUF
// request of v: capped at the maximum, then doubled for bookkeeping
// overhead, and at least the minimum (as gVisor's sentry does).
func bufSize(v int32, lo, hi int64) int64 {
	n := min(int64(max(v, 0)), hi) * 2
	return max(n, lo)
}

func clampInt32(v int64) int32 { return int32(min(v, math.MaxInt32)) }

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
