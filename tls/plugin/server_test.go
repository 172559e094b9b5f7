package plugin

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"capsim/api/capsim/tlsplugin"
	"capsim/certs"
	"capsim/ipc"
	"capsim/tls"
)

// loopCaller carries calls in process to a handler, with the caller's badge.
type loopCaller struct {
	h     ipc.Handler
	calls atomic.Int32
}

type chanResponder chan *ipc.Message

func (c chanResponder) Reply(_ *ipc.Request, m *ipc.Message) error { c <- m; return nil }

func (l *loopCaller) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	l.calls.Add(1)
	b := &ipc.Badge{ID: 9, Task: "tls"}
	rep := make(chanResponder, 1)
	go l.h.Serve(ipc.WithBadge(ctx, b), &ipc.Request{Badge: b, Message: *m}, rep)
	select {
	case r := <-rep:
		return r, nil
	case <-ctx.Done():
		return nil, &ipc.Error{Status: ipc.Cancelled}
	}
}

// TestPluginOverIPC runs the policy as a capsim.TlsPlugin server behind
// the wire format and drives it through the terminator's plug-in hooks.
func TestPluginOverIPC(t *testing.T) {
	set, err := certs.Generate(t.TempDir(), []certs.Spec{{Name: "cloud", Hosts: []string{"cloud"}}, {Name: "rogue", Hosts: []string{"cloud"}, Issuer: "other"}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cloud, rogue := set.Leaves["cloud"].Cert, set.Leaves["rogue"].Cert
	pol := &Policy{Names: []string{"cloud"}, Pins: map[string][]Pin{"cloud": {SPKIPin(cloud)}}}
	var denials []string
	lc := &loopCaller{h: tlsplugin.NewDispatcher(pol.Server(func(hook string, d Decision) {
		denials = append(denials, hook+": "+d.Reason)
	}))}
	hooks := tls.NewPluginHooks([]tls.Plugin{{Name: "pin", Client: &tlsplugin.Client{Caller: lc}}}, nil)
	ctx := context.Background()
	addr := netip.MustParseAddrPort("10.0.0.2:443")
	if err := hooks.BeforeConnect(ctx, 1, 0, "cloud", addr); err != nil {
		t.Errorf("allowed name: %v", err)
	}
	if err := hooks.BeforeConnect(ctx, 1, 0, "evil", addr); !errors.Is(err, syscall.EACCES) {
		t.Errorf("denied name: %v, want EACCES", err)
	}
	if err := hooks.AfterHandshake(ctx, 1, 0, false, "cloud", []*x509.Certificate{cloud}, 0); err != nil {
		t.Errorf("pinned key: %v", err)
	}
	if err := hooks.AfterHandshake(ctx, 1, 0, false, "cloud", []*x509.Certificate{rogue}, 0); !errors.Is(err, syscall.EACCES) {
		t.Errorf("unpinned key: %v, want EACCES", err)
	}
	if want := []string{`BeforeConnect: server name "evil" is not in the allow-list`, "AfterHandshake: "}; len(denials) != 2 ||
		denials[0] != want[0] || !strings.HasPrefix(denials[1], want[1]) || len(denials[1]) == len(want[1]) {
		t.Errorf("denials told = %q, want the two with their reasons", denials)
	}
	before := lc.calls.Load()
	for range 3 {
		if d, err := hooks.BeforeSend(ctx, 1, 0, []byte("x")); err != nil || string(d) != "x" {
			t.Fatalf("BeforeSend: %q, %v", d, err)
		}
	}
	if n := lc.calls.Load() - before; n != 1 {
		t.Errorf("BeforeSend reached the plug-in %d times; after ENOSYS it must be skipped", n)
	}
	var logged bytes.Buffer
	gone := tls.NewPluginHooks([]tls.Plugin{{Name: "pin", Client: &tlsplugin.Client{Caller: &loopCaller{h: deadHandler{}}}}},
		slog.New(slog.NewTextHandler(&logged, nil)))
	if err := gone.BeforeConnect(ctx, 1, 0, "cloud", addr); err != syscall.EACCES {
		t.Errorf("unreachable plug-in: %v, want EACCES (fail closed)", err)
	}
	if log := logged.String(); !strings.Contains(log, "plug-in unreachable") || !strings.Contains(log, "plugin=pin") || strings.Contains(log, "vetoed") {
		t.Errorf("an unreachable plug-in should be logged as unreachable, by name, not as a veto:\n%s", log)
	}
}

// deadHandler answers like a kernel whose policy denies the call.
type deadHandler struct{}

func (deadHandler) Serve(_ context.Context, req *ipc.Request, r ipc.Responder) {
	r.Reply(req, &ipc.Message{Status: ipc.Denied})
}
