package tls

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"syscall"

	"capsim/api/capsim/tlsplugin"
)

// Hook numbers, to remember which hooks a plug-in does not implement.
const (
	hookBeforeConnect = iota
	hookAfterHandshake
	hookBeforeSend
	hookAfterRecv
	numHooks
)

// Plugin is one plug-in entity: the client of its capsim.TlsPlugin
// endpoint and the name logs give it (its channel id).
type Plugin struct {
	Name   string
	Client *tlsplugin.Client
}

// pluginHooks calls plug-in entities over capsim.TlsPlugin, in order.
type pluginHooks struct {
	plugins []Plugin
	mu      sync.Mutex
	skip    [][numHooks]bool // per plug-in: hooks answered with ENOSYS
	log     *slog.Logger
}

// NewPluginHooks returns Hooks that call each plug-in in order (the order
// of --plugin): the first that denies decides; BeforeSend and AfterRecv
// pass the data, as replaced, from one plug-in to the next. A hook a
// plug-in answers with ENOSYS is not called on that plug-in again. An
// unreachable plug-in fails the call with EACCES (fail closed).
//
// log, when not nil, is told each veto (which hook, which plug-in, the
// errno) and each plug-in that could not be asked.
func NewPluginHooks(plugins []Plugin, log *slog.Logger) Hooks {
	return &pluginHooks{plugins: plugins, skip: make([][numHooks]bool, len(plugins)), log: log}
}

var hookNames = [numHooks]string{"BeforeConnect", "AfterHandshake", "BeforeSend", "AfterRecv"}

func (h *pluginHooks) skipped(i, hook int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.skip[i][hook]
}

// result turns one plug-in answer into nil (go on), errSkip (ENOSYS) or
// the errno that fails the call.
func (h *pluginHooks) result(i, hook int, allow bool, err error) error {
	var en syscall.Errno
	switch {
	case err == nil && allow:
		return nil
	case err == nil:
		return syscall.EACCES
	case errors.As(err, &en) && en == syscall.ENOSYS:
		h.mu.Lock()
		h.skip[i][hook] = true
		h.mu.Unlock()
		return errSkip
	case errors.As(err, &en) && en != 0:
		return en
	}
	if h.log != nil { // not the plug-in's answer: it could not be asked
		h.log.Warn("plug-in unreachable; the call fails closed", "hook", hookNames[hook], "plugin", h.plugins[i].Name, "err", err)
	}
	return errUnreachable
}

// errUnreachable fails a call whose plug-in could not be asked: EACCES,
// as a veto would, but logged as what it is.
var errUnreachable = fmt.Errorf("plug-in unreachable: %w", syscall.EACCES)

var errSkip = errors.New("hook not implemented")

func (h *pluginHooks) each(hook int, call func(*tlsplugin.Client) (bool, error)) error {
	for i, p := range h.plugins {
		if h.skipped(i, hook) {
			continue
		}
		allow, err := call(p.Client)
		if err = h.result(i, hook, allow, err); err != nil && err != errSkip {
			if h.log != nil && err != errUnreachable {
				h.log.Info("plug-in vetoed", "hook", hookNames[hook], "plugin", p.Name, "err", err)
			}
			if err == errUnreachable {
				return syscall.EACCES
			}
			return err
		}
	}
	return nil
}

func (h *pluginHooks) BeforeConnect(ctx context.Context, client uint32, fd int32, host string, addr netip.AddrPort) error {
	sa := sockAddr(addr)
	a := tlsplugin.Addr{Family: sa.Family, Port: sa.Port, Ip: sa.Ip}
	return h.each(hookBeforeConnect, func(p *tlsplugin.Client) (bool, error) {
		return p.BeforeConnect(ctx, client, fd, host, a)
	})
}

// maxChain is capsim.TlsPlugin's MaxChain.
const maxChain = 8

func (h *pluginHooks) AfterHandshake(ctx context.Context, client uint32, fd int32, server bool, name string, chain []*x509.Certificate, verify VerifyResult) error {
	pcs := make([]tlsplugin.PeerCert, 0, min(len(chain), maxChain))
	for _, c := range chain[:min(len(chain), maxChain)] {
		cs, ks := sha256.Sum256(c.Raw), sha256.Sum256(c.RawSubjectPublicKeyInfo)
		pcs = append(pcs, tlsplugin.PeerCert{CertSha256: cs[:], SpkiSha256: ks[:]})
	}
	return h.each(hookAfterHandshake, func(p *tlsplugin.Client) (bool, error) {
		return p.AfterHandshake(ctx, client, fd, server, name, pcs, uint32(verify))
	})
}

func (h *pluginHooks) data(ctx context.Context, hook int, data []byte,
	call func(*tlsplugin.Client, []byte) (bool, bool, []byte, error)) ([]byte, error) {
	err := h.each(hook, func(p *tlsplugin.Client) (bool, error) {
		allow, replace, out, err := call(p, data)
		if err == nil && allow && replace {
			data = out
		}
		return allow, err
	})
	return data, err
}

func (h *pluginHooks) BeforeSend(ctx context.Context, client uint32, fd int32, data []byte) ([]byte, error) {
	return h.data(ctx, hookBeforeSend, data, func(p *tlsplugin.Client, d []byte) (bool, bool, []byte, error) {
		return p.BeforeSend(ctx, client, fd, d)
	})
}

func (h *pluginHooks) AfterRecv(ctx context.Context, client uint32, fd int32, data []byte) ([]byte, error) {
	return h.data(ctx, hookAfterRecv, data, func(p *tlsplugin.Client, d []byte) (bool, bool, []byte, error) {
		return p.AfterRecv(ctx, client, fd, d)
	})
}
