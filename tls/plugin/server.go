package plugin

import (
	"context"
	"net/netip"
	"syscall"

	"capsim/api/capsim/tlsplugin"
)

// Server returns the capsim.TlsPlugin server of the policy, what the
// plug-in entity serves: BeforeConnect and AfterHandshake decide by the
// policy (a deny answers allow = false, which the terminator turns into
// EACCES); BeforeSend and AfterRecv are not implemented (ENOSYS), so the
// terminator stops calling them.
//
// denied, when not nil, is told each denial with the hook's name and the
// policy's reason, so the plug-in entity can log why.
func (p *Policy) Server(denied func(hook string, d Decision)) tlsplugin.Server {
	return server{p, denied}
}

type server struct {
	p      *Policy
	denied func(hook string, d Decision)
}

// tell reports d to the denial callback when it denies.
func (s server) tell(hook string, d Decision) bool {
	if !d.Allow && s.denied != nil {
		s.denied(hook, d)
	}
	return d.Allow
}

var _ tlsplugin.Server = server{}

func (s server) BeforeConnect(_ context.Context, _ uint32, _ int32, host string, addr tlsplugin.Addr) (bool, error) {
	ip, ok := netip.AddrFromSlice(addr.Ip)
	if !ok {
		return false, syscall.EAFNOSUPPORT
	}
	return s.tell("BeforeConnect", s.p.BeforeConnect(host, netip.AddrPortFrom(ip.Unmap(), addr.Port))), nil
}

func (s server) AfterHandshake(_ context.Context, _ uint32, _ int32, srv bool, name string, chain []tlsplugin.PeerCert, verify uint32) (bool, error) {
	if srv {
		return true, nil // the example guards outgoing connections only
	}
	pins := make([]Pin, 0, len(chain))
	for _, c := range chain {
		var pin Pin
		if len(c.SpkiSha256) == len(pin) {
			copy(pin[:], c.SpkiSha256)
			pins = append(pins, pin)
		}
	}
	return s.tell("AfterHandshake", s.p.AfterHandshake(name, pins, verify)), nil
}

func (s server) BeforeSend(context.Context, uint32, int32, []byte) (bool, bool, []byte, error) {
	return false, false, nil, syscall.ENOSYS
}

func (s server) AfterRecv(context.Context, uint32, int32, []byte) (bool, bool, []byte, error) {
	return false, false, nil, syscall.ENOSYS
}
