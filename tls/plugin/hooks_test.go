package plugin

import (
	"context"
	"crypto/x509"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"capsim/certs"
)

func TestHooks(t *testing.T) {
	set, err := certs.Generate(t.TempDir(), []certs.Spec{{Name: "cloud", Hosts: []string{"cloud"}}, {Name: "rogue", Hosts: []string{"cloud"}, Issuer: "other"}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cloud, rogue := set.Leaves["cloud"].Cert, set.Leaves["rogue"].Cert
	h := (&Policy{Names: []string{"cloud"}, Pins: map[string][]Pin{"cloud": {SPKIPin(cloud)}}}).Hooks()
	ctx := context.Background()
	addr := netip.MustParseAddrPort("10.0.0.2:443")
	if err := h.BeforeConnect(ctx, 1, 0, "cloud", addr); err != nil {
		t.Errorf("allowed name denied: %v", err)
	}
	if err := h.BeforeConnect(ctx, 1, 0, "evil", addr); !errors.Is(err, syscall.EACCES) {
		t.Errorf("other name: %v, want EACCES", err)
	}
	if err := h.AfterHandshake(ctx, 1, 0, false, "cloud", []*x509.Certificate{cloud, set.CA.Cert}, 0); err != nil {
		t.Errorf("pinned key denied: %v", err)
	}
	if err := h.AfterHandshake(ctx, 1, 0, false, "cloud", []*x509.Certificate{rogue}, 0); !errors.Is(err, syscall.EACCES) {
		t.Errorf("unpinned key: %v, want EACCES", err)
	}
	if err := h.AfterHandshake(ctx, 1, 0, true, "evil", nil, 0); err != nil {
		t.Errorf("server role: %v, want no check", err)
	}
	if d, err := h.BeforeSend(ctx, 1, 0, []byte("x")); err != nil || string(d) != "x" {
		t.Errorf("BeforeSend changed data: %q, %v", d, err)
	}
}
