package netstack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
)

func le32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func TestSockOpts(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	tcp := must(p.sa.Socket(ctx, 1, AF_INET6, SOCK_STREAM, 0))(t)
	udp := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_DGRAM, 0))(t)
	for _, tc := range []struct {
		name           string
		fd, level, opt int32
		set            int32 // set first unless setErr says it fails; 0 with noSet skips
		noSet          bool
		want           int32
		setErr, getErr syscall.Errno
	}{
		{name: "SO_REUSEADDR on", fd: tcp, level: SOL_SOCKET, opt: SO_REUSEADDR, set: 1, want: 1},
		{name: "SO_REUSEADDR off", fd: tcp, level: SOL_SOCKET, opt: SO_REUSEADDR, set: 0, want: 0},
		{name: "SO_KEEPALIVE", fd: tcp, level: SOL_SOCKET, opt: SO_KEEPALIVE, set: 1, want: 1},
		{name: "SO_REUSEPORT", fd: udp, level: SOL_SOCKET, opt: SO_REUSEPORT, set: 1, want: 1},
		{name: "SO_SNDBUF doubled", fd: tcp, level: SOL_SOCKET, opt: SO_SNDBUF, set: 65536, want: 131072},
		{name: "SO_RCVBUF doubled", fd: tcp, level: SOL_SOCKET, opt: SO_RCVBUF, set: 65536, want: 131072},
		{name: "SO_TYPE", fd: udp, level: SOL_SOCKET, opt: SO_TYPE, noSet: true, want: SOCK_DGRAM},
		{name: "SO_TYPE read-only", fd: udp, level: SOL_SOCKET, opt: SO_TYPE, set: 1, setErr: syscall.ENOPROTOOPT, want: SOCK_DGRAM},
		{name: "SO_PROTOCOL", fd: tcp, level: SOL_SOCKET, opt: SO_PROTOCOL, noSet: true, want: IPPROTO_TCP},
		{name: "SO_DOMAIN", fd: tcp, level: SOL_SOCKET, opt: SO_DOMAIN, noSet: true, want: AF_INET6},
		{name: "SO_ERROR", fd: tcp, level: SOL_SOCKET, opt: SO_ERROR, noSet: true, want: 0},
		{name: "SO_ACCEPTCONN", fd: tcp, level: SOL_SOCKET, opt: SO_ACCEPTCONN, noSet: true, want: 0},
		{name: "TCP_NODELAY", fd: tcp, level: IPPROTO_TCP, opt: TCP_NODELAY, set: 1, want: 1},
		{name: "TCP_NODELAY off", fd: tcp, level: IPPROTO_TCP, opt: TCP_NODELAY, set: 0, want: 0},
		{name: "TCP_KEEPIDLE", fd: tcp, level: IPPROTO_TCP, opt: TCP_KEEPIDLE, set: 30, want: 30},
		{name: "TCP_KEEPINTVL", fd: tcp, level: IPPROTO_TCP, opt: TCP_KEEPINTVL, set: 5, want: 5},
		{name: "TCP_KEEPIDLE zero", fd: tcp, level: IPPROTO_TCP, opt: TCP_KEEPIDLE, set: 0, setErr: syscall.EINVAL, want: 30},
		{name: "TCP_KEEPCNT", fd: tcp, level: IPPROTO_TCP, opt: TCP_KEEPCNT, set: 4, want: 4},
		{name: "IPV6_V6ONLY", fd: tcp, level: IPPROTO_IPV6, opt: IPV6_V6ONLY, set: 1, want: 1},
		{name: "TCP option on UDP", fd: udp, level: IPPROTO_TCP, opt: TCP_NODELAY, set: 1, setErr: syscall.ENOPROTOOPT, getErr: syscall.EOPNOTSUPP},
		{name: "V6ONLY on AF_INET", fd: udp, level: IPPROTO_IPV6, opt: IPV6_V6ONLY, set: 1, setErr: syscall.ENOPROTOOPT, getErr: syscall.EOPNOTSUPP},
		{name: "unknown", fd: tcp, level: SOL_SOCKET, opt: 999, set: 1, setErr: syscall.ENOPROTOOPT, getErr: syscall.ENOPROTOOPT},
		{name: "bad fd", fd: 77, level: SOL_SOCKET, opt: SO_TYPE, set: 1, setErr: syscall.EBADF, getErr: syscall.EBADF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.noSet {
				err := p.sa.SetSockOpt(ctx, 1, tc.fd, tc.level, tc.opt, le32(tc.set))
				if !errors.Is(err, errno(tc.setErr)) && !(err == nil && tc.setErr == 0) {
					t.Fatalf("set: %v, want %v", err, tc.setErr)
				}
			}
			v, err := p.sa.GetSockOpt(ctx, 1, tc.fd, tc.level, tc.opt, 4)
			if tc.getErr != 0 {
				if !errors.Is(err, tc.getErr) {
					t.Fatalf("get: %v, want %v", err, tc.getErr)
				}
				return
			}
			check(t, err)
			if len(v) != 4 {
				t.Fatalf("value %v is not 4 bytes", v)
			}
			if got := int32(binary.LittleEndian.Uint32(v)); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	if err := p.sa.SetSockOpt(ctx, 1, tcp, SOL_SOCKET, SO_REUSEADDR, []byte{1}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("short value: %v, want EINVAL", err)
	}
	if v, err := p.sa.GetSockOpt(ctx, 1, tcp, SOL_SOCKET, SO_TYPE, 2); err != nil || !bytes.Equal(v, []byte{SOCK_STREAM, 0}) {
		t.Errorf("short get: %x, %v; want the value cut to 2 bytes", v, err)
	}
	l := listen(t, p.sa, 1, AF_INET, 9100)
	if v := must(p.sa.GetSockOpt(ctx, 1, l, SOL_SOCKET, SO_ACCEPTCONN, 4))(t); v[0] != 1 {
		t.Errorf("SO_ACCEPTCONN of a listener = %v", v)
	}
}

func TestSOErrorAfterRefusedNonBlockingConnect(t *testing.T) {
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c := must(p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0))(t)
	if err := p.sa.Connect(ctx, 1, c, addrPort(addrB, 1)); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("connect: %v", err)
	}
	rev, _, err := p.sa.Poll(ctx, 1, []PollFd{{Fd: c, Events: POLLOUT}}, -1)
	check(t, err)
	if rev[0]&(POLLERR|POLLHUP) == 0 {
		t.Errorf("refused connect: revents=%#x, want POLLERR or POLLHUP", rev[0])
	}
	v := must(p.sa.GetSockOpt(ctx, 1, c, SOL_SOCKET, SO_ERROR, 4))(t)
	if got := syscall.Errno(binary.LittleEndian.Uint32(v)); got != syscall.ECONNREFUSED {
		t.Errorf("SO_ERROR = %v, want ECONNREFUSED", got)
	}
}
