package vnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// DefaultDialTimeout bounds a gateway's connection to the far side.
const DefaultDialTimeout = 10 * time.Second

// GatewayConfig describes the host gateway: a gVisor stack in this process
// attached to a segment as one more port.
type GatewayConfig struct {
	// Segment is the segment to attach to; empty means the first one.
	Segment string
	// Address is the gateway's own address and prefix; the zero value
	// means the highest host address of the segment's first subnet (for
	// 10.0.0.0/24, 10.0.0.254/24).
	Address netip.Prefix
	// MAC is the gateway NIC's address; nil means 02:ca:fe:00:NN:fe, NN
	// the number of gateways added before this one.
	MAC net.HardwareAddr
	// Forwards carry real loopback connections into the simulation.
	Forwards []Forward
	// Egresses carry simulated connections to real loopback services.
	Egresses []Egress
	// DialTimeout bounds each connection to the far side; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Forward listens on the real loopback and connects each accepted
// connection, from the gateway stack, to a simulated address.
type Forward struct {
	Listen netip.AddrPort // must be loopback; port 0 picks a free port
	To     netip.AddrPort // a simulated host's address (the caller resolves names)
}

// Egress accepts simulated connections to Address on the gateway stack and
// connects each to a real loopback service.
type Egress struct {
	Address netip.AddrPort // what simulated clients dial; added to the gateway NIC
	To      netip.AddrPort // must be loopback
	// Sources are the addresses allowed to use the egress (the declared
	// hosts' addresses); connections from anywhere else are reset. At
	// least one is required.
	Sources []netip.Prefix
}

// Gateway is a running host gateway. Network.Close closes it.
type Gateway struct {
	net     *Network
	log     *slog.Logger
	stack   *stack.Stack
	fd      int
	addr    netip.Prefix
	timeout time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	fwd    []net.Listener
	egr    []*simListener
	wg     sync.WaitGroup

	mu    sync.Mutex // guards conns
	conns map[io.Closer]struct{}
}

// checkLoopback rejects an address outside 127.0.0.0/8 and ::1.
func checkLoopback(what string, ap netip.AddrPort) error {
	if !ap.IsValid() || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("%s %v: must be a loopback address (127.0.0.0/8 or ::1)", what, ap)
	}
	return nil
}

// HighestHost returns the highest host address of p: the address before
// the broadcast address for IPv4 (10.0.0.254 for 10.0.0.0/24), the last
// address for IPv6.
func HighestHost(p netip.Prefix) (netip.Addr, error) {
	p = p.Masked()
	b := p.Addr().AsSlice()
	hostBits := len(b)*8 - p.Bits()
	if p.Addr().Is4() && hostBits < 2 || hostBits < 1 {
		return netip.Addr{}, fmt.Errorf("prefix %v has no spare host address", p)
	}
	for i := range hostBits {
		b[len(b)-1-i/8] |= 1 << (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	if a.Is4() {
		a = a.Prev()
	}
	return a, nil
}

func (c *GatewayConfig) validate(n *Network) (*segment, error) {
	if len(n.order) == 0 {
		return nil, errors.New("no segments")
	}
	s := n.order[0]
	if c.Segment != "" {
		var err error
		if s, err = n.segment(c.Segment); err != nil {
			return nil, err
		}
	}
	if !c.Address.IsValid() {
		if len(s.cfg.Subnets) == 0 {
			return nil, fmt.Errorf("segment %q: no address given and no subnet to take one from", s.cfg.Name)
		}
		a, err := HighestHost(s.cfg.Subnets[0])
		if err != nil {
			return nil, err
		}
		c.Address = netip.PrefixFrom(a, s.cfg.Subnets[0].Bits())
	}
	for _, f := range c.Forwards {
		if err := checkLoopback("forward listen", f.Listen); err != nil {
			return nil, err
		}
		if !f.To.IsValid() || f.To.Port() == 0 {
			return nil, fmt.Errorf("forward %v: invalid destination %v", f.Listen, f.To)
		}
	}
	for _, e := range c.Egresses {
		if err := checkLoopback("egress to", e.To); err != nil {
			return nil, err
		}
		if !e.Address.IsValid() || e.Address.Port() == 0 || e.Address.Addr().Unmap().IsLoopback() {
			return nil, fmt.Errorf("egress %v: want a simulated address and port", e.Address)
		}
		if len(e.Sources) == 0 {
			return nil, fmt.Errorf("egress %v: no source hosts allowed", e.Address)
		}
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return s, nil
}

// AddGateway attaches a host gateway to a segment and opens its forwards'
// loopback listeners and its egresses' simulated listeners.
func (n *Network) AddGateway(cfg GatewayConfig) (*Gateway, error) {
	s, err := cfg.validate(n)
	if err != nil {
		return nil, fmt.Errorf("vnet: gateway: %w", err)
	}
	fd, err := n.AddPort(s.cfg.Name, "gateway")
	if err != nil {
		return nil, fmt.Errorf("vnet: gateway: %w", err)
	}
	mac := tcpip.LinkAddress(cfg.MAC)
	if len(cfg.MAC) == 0 {
		n.mu.Lock()
		mac = localMAC(0xfe0000fe | uint64(len(n.gateways)&0xff)<<8)
		n.mu.Unlock()
	}
	st, err := newStack(stackConfig{fd: fd, mtu: s.cfg.MTU, mac: mac, addrs: []netip.Prefix{cfg.Address}})
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vnet: gateway: %w", err)
	}
	g := &Gateway{
		net: n, log: n.log.With("gateway", cfg.Address.String()),
		stack: st, fd: fd, addr: cfg.Address, timeout: cfg.DialTimeout,
		conns: make(map[io.Closer]struct{}),
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if err := g.listen(cfg); err != nil {
		g.close()
		return nil, fmt.Errorf("vnet: gateway: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		g.close()
		return nil, ErrClosed
	}
	n.gateways = append(n.gateways, g)
	return g, nil
}

// Address returns the gateway's own address.
func (g *Gateway) Address() netip.Prefix { return g.addr }

// ForwardAddrs returns the loopback addresses the forwards listen on, in
// configuration order (useful when a Listen port was 0).
func (g *Gateway) ForwardAddrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(g.fwd))
	for i, l := range g.fwd {
		out[i] = l.Addr().(*net.TCPAddr).AddrPort()
	}
	return out
}

// close stops the listeners and connections and tears the stack down.
func (g *Gateway) close() error {
	g.cancel()
	for _, l := range g.fwd {
		l.Close()
	}
	for _, l := range g.egr {
		l.close()
	}
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
	g.stack.Destroy()
	return unix.Close(g.fd)
}
