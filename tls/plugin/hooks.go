package plugin

import (
	"context"
	"crypto/x509"
	"net/netip"

	"capsim/tls"
)

// Hooks adapts a Policy to the terminator's hook interface, for a
// terminator that runs the policy in process (tests, benchmarks); the
// plug-in entity serves the same decisions over capsim.TlsPlugin.
func (p *Policy) Hooks() tls.Hooks { return hooks{p} }

type hooks struct{ p *Policy }

func decisionErr(d Decision) error {
	if d.Allow {
		return nil
	}
	return d.Errno
}

func (h hooks) BeforeConnect(_ context.Context, _ uint32, _ int32, host string, addr netip.AddrPort) error {
	return decisionErr(h.p.BeforeConnect(host, addr))
}

func (h hooks) AfterHandshake(_ context.Context, _ uint32, _ int32, server bool, name string, chain []*x509.Certificate, verify tls.VerifyResult) error {
	if server {
		return nil // the example plug-in guards outgoing connections only
	}
	pins := make([]Pin, len(chain))
	for i, c := range chain {
		pins[i] = SPKIPin(c)
	}
	return decisionErr(h.p.AfterHandshake(name, pins, uint32(verify)))
}

func (h hooks) BeforeSend(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	return data, nil
}

func (h hooks) AfterRecv(_ context.Context, _ uint32, _ int32, data []byte) ([]byte, error) {
	return data, nil
}
