package vnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// halfCloser is a connection that can close its sending side alone; both
// *net.TCPConn and *gonet.TCPConn are.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// listen opens the forwards' loopback listeners and the egresses'
// listeners on the gateway stack, and starts their accept loops.
func (g *Gateway) listen(cfg GatewayConfig) error {
	for _, f := range cfg.Forwards {
		l, err := net.Listen("tcp", f.Listen.String())
		if err != nil {
			return fmt.Errorf("forward %v: %w", f.Listen, err)
		}
		g.fwd = append(g.fwd, l)
		g.wg.Go(func() { g.acceptForward(l, f) })
	}
	added := map[netip.Addr]bool{cfg.Address.Addr(): true}
	for _, e := range cfg.Egresses {
		if a := e.Address.Addr(); !added[a] {
			if err := addAddress(g.stack, netip.PrefixFrom(a, a.BitLen())); err != nil {
				return fmt.Errorf("egress %v: %w", e.Address, err)
			}
			added[a] = true
		}
		l, err := listenSimTCP(g.stack, e.Address)
		if err != nil {
			return fmt.Errorf("egress %v: %w", e.Address, err)
		}
		g.egr = append(g.egr, l)
		g.wg.Go(func() { g.acceptEgress(l, e) })
	}
	return nil
}

// acceptForward connects each real loopback connection to f.To from the
// gateway stack.
func (g *Gateway) acceptForward(l net.Listener, f Forward) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		g.wg.Go(func() {
			ctx, cancel := context.WithTimeout(g.ctx, g.timeout)
			full, proto := fullAddr(f.To)
			sim, err := gonet.DialContextTCP(ctx, g.stack, full, proto)
			cancel()
			if err != nil {
				g.log.Warn("vnet: forward: dial simulated host", "listen", f.Listen, "to", f.To, "err", err)
				c.Close()
				return
			}
			g.log.Debug("vnet: forward", "from", c.RemoteAddr(), "to", f.To)
			g.splice(c.(*net.TCPConn), sim)
		})
	}
}

// acceptEgress connects each simulated connection from an allowed source
// to the real loopback service e.To; others are reset.
func (g *Gateway) acceptEgress(l *simListener, e Egress) {
	for {
		ep, wq, src, err := l.accept()
		if err != nil {
			if !errors.Is(err, errListenerClosed) {
				g.log.Warn("vnet: egress", "address", e.Address, "err", err)
			}
			return
		}
		if !allowed(src, e.Sources) {
			g.log.Warn("vnet: egress: source not allowed", "address", e.Address, "from", src)
			refuse(ep)
			continue
		}
		g.wg.Go(func() {
			d := net.Dialer{Timeout: g.timeout}
			real, err := d.DialContext(g.ctx, "tcp", e.To.String())
			if err != nil {
				g.log.Warn("vnet: egress: dial loopback service", "to", e.To, "err", err)
				refuse(ep)
				return
			}
			g.log.Debug("vnet: egress", "from", src, "to", e.To)
			g.splice(real.(*net.TCPConn), newSimConn(ep, wq))
		})
	}
}

func allowed(a netip.Addr, sources []netip.Prefix) bool {
	for _, p := range sources {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// splice copies both ways between a and b until both directions end. When
// one side finishes sending, the other side's sending half is closed, so a
// half-closed conversation completes; an error in either direction closes
// both connections.
func (g *Gateway) splice(a, b halfCloser) {
	if !g.track(a, b) {
		return
	}
	defer g.untrack(a, b)
	errc := make(chan error, 2)
	pipe := func(dst, src halfCloser) {
		_, err := io.Copy(dst, src)
		if err == nil {
			err = dst.CloseWrite()
		}
		errc <- err
	}
	go pipe(a, b)
	go pipe(b, a)
	for range 2 {
		if err := <-errc; err != nil {
			if !errors.Is(err, net.ErrClosed) {
				g.log.Debug("vnet: gateway copy", "err", err)
			}
			a.Close()
			b.Close()
		}
	}
}

// track registers connections so Close can end them; it refuses (and
// closes them) once the gateway is closing.
func (g *Gateway) track(cs ...net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx.Err() != nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		g.conns[c] = struct{}{}
	}
	return true
}

func (g *Gateway) untrack(cs ...net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(g.conns, c)
	}
}
