package netstack

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
)

func TestAddrParts(t *testing.T) {
	for _, tc := range []struct {
		family, port uint16
		ip           []byte
		want         netip.AddrPort
		err          error
	}{
		{AF_INET, 80, []byte{10, 0, 0, 1}, netip.MustParseAddrPort("10.0.0.1:80"), nil},
		{AF_INET6, 443, netip.MustParseAddr("fd00::2").AsSlice(), netip.MustParseAddrPort("[fd00::2]:443"), nil},
		{AF_INET6, 1, netip.MustParseAddr("::ffff:10.0.0.1").AsSlice(), netip.MustParseAddrPort("[::ffff:10.0.0.1]:1"), nil},
		{AF_UNSPEC, 53, nil, netip.AddrPortFrom(netip.Addr{}, 53), nil},
		{AF_UNSPEC, 53, []byte{1}, netip.AddrPort{}, syscall.EINVAL},
		{AF_INET, 80, []byte{10, 0, 0}, netip.AddrPort{}, syscall.EINVAL},
		{AF_INET6, 80, []byte{10, 0, 0, 1}, netip.AddrPort{}, syscall.EINVAL},
		{1, 80, nil, netip.AddrPort{}, syscall.EAFNOSUPPORT},
	} {
		got, err := AddrFromParts(tc.family, tc.port, tc.ip)
		if got != tc.want || !errors.Is(err, tc.err) && err != tc.err {
			t.Errorf("AddrFromParts(%d, %d, %v) = %v, %v; want %v, %v", tc.family, tc.port, tc.ip, got, err, tc.want, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		f, port, ip := AddrParts(got)
		if f != tc.family || port != tc.port || !bytes.Equal(ip, tc.ip) {
			t.Errorf("AddrParts(%v) = %d, %d, %v; want the input back", got, f, port, ip)
		}
	}
}

func TestToFromFull(t *testing.T) {
	for _, tc := range []struct {
		domain int32
		in     string
		wantIP string // "" means any
		err    syscall.Errno
	}{
		{AF_INET, "10.0.0.1:1", "10.0.0.1", 0},
		{AF_INET, "0.0.0.0:1", "", 0},
		{AF_INET, "[fd00::1]:1", "", syscall.EAFNOSUPPORT},
		{AF_INET6, "10.0.0.1:1", "::ffff:10.0.0.1", 0},
		{AF_INET6, "[::]:1", "", 0},
		{AF_INET6, "[fe80::1%eth0]:1", "fe80::1", 0},
	} {
		fa, e := toFull(tc.domain, netip.MustParseAddrPort(tc.in))
		if e != tc.err {
			t.Errorf("toFull(%d, %s) errno %v, want %v", tc.domain, tc.in, e, tc.err)
			continue
		}
		want := tcpip.Address{}
		if tc.wantIP != "" {
			want = tcpip.AddrFromSlice(netip.MustParseAddr(tc.wantIP).AsSlice())
		}
		if e == 0 && (fa.Addr != want || fa.Port != 1) {
			t.Errorf("toFull(%d, %s) = %v", tc.domain, tc.in, fa)
		}
	}
	v4 := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), Port: 9}
	if got := fromFull(AF_INET6, v4); got != netip.MustParseAddrPort("[::ffff:10.0.0.1]:9") {
		t.Errorf("fromFull(AF_INET6, v4) = %v", got)
	}
	if got := fromFull(AF_INET, tcpip.FullAddress{Port: 9}); got != netip.MustParseAddrPort("0.0.0.0:9") {
		t.Errorf("fromFull of an empty address = %v", got)
	}
}

func TestErrnoOf(t *testing.T) {
	for _, tc := range []struct {
		in   tcpip.Error
		want syscall.Errno
	}{
		{nil, 0},
		{&tcpip.ErrConnectionRefused{}, syscall.ECONNREFUSED},
		{&tcpip.ErrTimeout{}, syscall.ETIMEDOUT},
		{&tcpip.ErrPortInUse{}, syscall.EADDRINUSE},
		{&tcpip.ErrWouldBlock{}, syscall.EAGAIN},
		{&tcpip.ErrNotConnected{}, syscall.ENOTCONN},
		{&tcpip.ErrAddressFamilyNotSupported{}, syscall.EAFNOSUPPORT},
		{&tcpip.ErrClosedForSend{}, syscall.EPIPE},
		{&tcpip.ErrConnectionReset{}, syscall.ECONNRESET},
		{&tcpip.ErrHostUnreachable{}, syscall.EHOSTUNREACH},
		{&tcpip.ErrNetworkUnreachable{}, syscall.ENETUNREACH},
		{&tcpip.ErrInvalidEndpointState{}, syscall.EINVAL},
		{&tcpip.ErrMessageTooLong{}, syscall.EMSGSIZE},
	} {
		if got := errnoOf(tc.in); got != tc.want {
			t.Errorf("errnoOf(%T) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	p := newPair(t, 1500)
	for _, tc := range []struct {
		host string
		want []string
		err  error
	}{
		{"b", []string{"10.0.0.2", "fd00::2"}, nil},
		{"B.", []string{"10.0.0.2", "fd00::2"}, nil},
		{"10.1.2.3", []string{"10.1.2.3"}, nil},
		{"[fd00::9]", []string{"fd00::9"}, nil},
		{"localhost", []string{"127.0.0.1", "::1"}, nil},
		{"nowhere", nil, syscall.ENOENT},
		{"", nil, syscall.EINVAL},
		{string(make([]byte, 256)), nil, syscall.EINVAL},
	} {
		got, err := p.sa.GetAddrInfo(testCtx(t), 1, tc.host)
		var gs []string
		for _, a := range got {
			gs = append(gs, a.String())
		}
		if !slices.Equal(gs, tc.want) || !errors.Is(err, tc.err) && err != tc.err {
			t.Errorf("GetAddrInfo(%q) = %v, %v; want %v, %v", tc.host, gs, err, tc.want, tc.err)
		}
	}
	h := &Host{name: "solo", addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/16")}}
	if got, err := h.Resolve("solo"); err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("10.9.0.1") {
		t.Errorf("own name: %v, %v", got, err)
	}
}

func TestMACFromName(t *testing.T) {
	a, b := MACFromName("device"), MACFromName("cloud")
	if bytes.Equal(a, b) || !bytes.Equal(a, MACFromName("device")) {
		t.Errorf("MACs not stable and distinct: %v %v", a, b)
	}
	for _, m := range [][]byte{a, b} {
		if len(m) != 6 || m[0]&1 != 0 || m[0]&2 == 0 {
			t.Errorf("MAC %x is not a locally administered unicast address", m)
		}
	}
}

func TestRouteTable(t *testing.T) {
	nic := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("fd00::1/64")}
	lo := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}
	rs, err := routeTable(nic, append(lo, nic...), []Route{{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.0.254")}})
	check(t, err)
	var got []string
	for _, r := range rs {
		got = append(got, r.String())
	}
	want := []string{"fd00::/64 nic 1", "10.0.0.0/24 nic 1", "127.0.0.0/8 nic 2", "0.0.0.0/0 via 10.0.0.254 nic 1"}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
	if _, err := routeTable(nic, nic, []Route{{To: netip.MustParsePrefix("::/0"), Via: netip.MustParseAddr("10.0.0.254")}}); err == nil {
		t.Errorf("a v6 route via a v4 gateway was accepted")
	}
}

func TestNewHostRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  HostConfig
	}{
		{"bad MTU", HostConfig{Name: "x", NICFD: -1, MTU: 100}},
		{"bad MAC", HostConfig{Name: "x", NICFD: -1, MAC: []byte{1, 2}}},
		{"bad fd", HostConfig{Name: "x", NICFD: -1}},
	} {
		if h, err := NewHost(tc.cfg); err == nil {
			h.Close()
			t.Errorf("%s: NewHost accepted %+v", tc.name, tc.cfg)
		}
	}
}
