package run

import (
	"capsim/diag"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"capsim/netstack/vnet"
	"capsim/scenario"
)

// nic is what a host's netstack entity is given: its NIC's descriptor and
// the flags that describe the host.
type nic struct {
	file *os.File
	args []string // everything but --nic
}

// buildNetwork makes the virtual network of the scenario's links: a switch
// port per host, handed to the host's netstack entity, and the host gateway
// for forwards and egress. It does nothing without hosts.
func (sys *system) buildNetwork(ctx context.Context, sc *scenario.Scenario, opts *Options) error {
	if len(sc.Links) == 0 && opts.PcapPath != "" {
		sys.notices = append(sys.notices, "--pcap: the scenario has no links, so there is nothing to capture and no file is written")
	}
	if len(sc.Hosts) == 0 {
		return nil
	}
	forwards, err := parseForwards(opts.Forwards)
	if err != nil {
		return err
	}
	linkOf := make(map[string]string)
	cfg := vnet.Config{Seed: sc.Seed, Pcap: opts.PcapPath}
	if !expectsLinks(sc) {
		// Nothing asks what crossed a link: keep no in-memory copy of the
		// frames (copying them cost the switch nearly half its CPU).
		cfg.RecordCap = -1
	}
	for _, l := range sc.Links {
		seg := vnet.SegmentConfig{Name: l.Name, MTU: l.MTU, Impair: vnet.Impairments{
			Loss: float64(l.Loss), Duplicate: float64(l.Duplicate), Reorder: float64(l.Reorder),
			Delay: l.Delay, Jitter: l.Jitter, Rate: uint64(l.Rate)}}
		for _, h := range l.Hosts {
			if prev, ok := linkOf[h]; ok {
				return fmt.Errorf("%s: host %q is on links %q and %q; a host has one NIC", l.KeyPos("hosts"), h, prev, l.Name)
			}
			linkOf[h] = l.Name
			for _, a := range sc.Host(h).Addresses {
				seg.Subnets = append(seg.Subnets, a.Masked())
			}
		}
		for _, ev := range l.Schedule {
			act := vnet.Partition
			if ev.Do == "heal" {
				act = vnet.Heal
			}
			seg.Schedule = append(seg.Schedule, vnet.Event{At: ev.At, Do: act})
		}
		cfg.Segments = append(cfg.Segments, seg)
	}
	n, err := vnet.New(cfg)
	if err != nil {
		return fmt.Errorf("virtual network: %w", err)
	}
	sys.closers = append(sys.closers, func() { n.Close() })
	sys.flushes = append(sys.flushes, n.Flush)
	sys.expect.links = n.Contains
	if opts.Verbose {
		sys.atEnd = append(sys.atEnd, func() { printLinkStats(opts.Output, n) })
	}
	sys.nics = make(map[string]nic)
	table := hostTable(sc)
	for _, h := range sc.Hosts {
		ns := sc.Netstack(h.Name)
		link, ok := linkOf[h.Name]
		if ns == nil || !ok {
			continue // a host on no link, or without a netstack: nothing to wire
		}
		fd, err := n.AddPort(link, h.Name)
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		f := os.NewFile(uintptr(fd), "nic-"+h.Name)
		sys.closers = append(sys.closers, func() { f.Close() })
		args := []string{"--name", h.Name, "--mtu", strconv.Itoa(mtuOf(sc, link)), "--seed", strconv.FormatInt(sc.Seed, 10)}
		for _, a := range h.Addresses {
			args = append(args, "--address", a.String())
		}
		for _, r := range h.Routes {
			args = append(args, "--route", r.To.String()+"="+r.Via.String())
		}
		args = append(args, table...)
		sys.nics[ns.Task] = nic{file: f, args: args}
	}
	if err := sys.gateways(sc, n, linkOf, forwards); err != nil {
		return err
	}
	return n.Start(ctx)
}

// expectsLinks reports whether an expectation looks into a link's frames.
func expectsLinks(sc *scenario.Scenario) bool {
	for _, e := range sc.Expects {
		if e.Link != "" {
			return true
		}
	}
	return false
}

func mtuOf(sc *scenario.Scenario, link string) int {
	for _, l := range sc.Links {
		if l.Name == link && l.MTU > 0 {
			return l.MTU
		}
	}
	return scenario.DefaultMTU
}

// hostTable is the scenario's host names as --host flags.
func hostTable(sc *scenario.Scenario) []string {
	var args []string
	for _, h := range sc.Hosts {
		var addrs []string
		for _, a := range h.Addresses {
			addrs = append(addrs, a.Addr().String())
		}
		if len(addrs) > 0 {
			args = append(args, "--host", h.Name+"="+strings.Join(addrs, ","))
		}
	}
	return args
}

// checkForwardFlags reports what is wrong with the --forward flags before
// anything starts: their form, a listen address that is not loopback, a
// host that is not in the scenario or on no link, a listen address that a
// [[forward]] or an earlier flag already takes.
func checkForwardFlags(sc *scenario.Scenario, flags []string) diag.List {
	var errs diag.List
	forwards, err := parseForwards(flags)
	if err != nil {
		errs.Add(diag.Pos{}, err.Error())
		return errs
	}
	taken := make(map[netip.AddrPort]string)
	for _, f := range sc.Forwards {
		taken[scenario.ListenKey(f.Listen)] = fmt.Sprintf("the [[forward]] at %s", f.Pos)
	}
	for i, f := range forwards {
		flag := "--forward " + flags[i]
		key := scenario.ListenKey(f.Listen)
		if by, ok := taken[key]; ok {
			errs.Addf(diag.Pos{}, "%s: %s is taken by %s", flag, f.Listen, by)
		}
		taken[key] = flag
		if !scenario.IsLoopback(f.Listen.Addr()) {
			errs.Addf(diag.Pos{}, "%s: listen %s is not a loopback address (127.0.0.0/8 or ::1)", flag, f.Listen.Addr())
		}
		errs = append(errs, checkForwardHost(sc, flag, f.To.Host)...)
	}
	return errs
}

// checkForwardHost reports a --forward target host the scenario lacks or
// that a forward cannot reach (scenario.ForwardTarget, as for [[forward]]).
func checkForwardHost(sc *scenario.Scenario, flag, host string) diag.List {
	var errs diag.List
	if sc.Host(host) == nil {
		var names []string
		for _, h := range sc.Hosts {
			names = append(names, h.Name)
		}
		msg := fmt.Sprintf("%s: %q is not a host of the scenario", flag, host)
		if near, ok := diag.Closest(host, names); ok {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		errs.Add(diag.Pos{}, msg)
		return errs
	}
	if why := sc.ForwardTarget(host); why != "" {
		errs.Addf(diag.Pos{}, "%s: to %q: %s", flag, host, why)
	}
	return errs
}

// parseForwards reads --forward 127.0.0.1:PORT=HOST:PORT flags.
func parseForwards(flags []string) ([]scenario.Forward, error) {
	var out []scenario.Forward
	for _, f := range flags {
		listen, to, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("--forward %q: want 127.0.0.1:PORT=HOST:PORT", f)
		}
		ap, err := netip.ParseAddrPort(listen)
		if err != nil {
			return nil, fmt.Errorf("--forward %q: %w", f, err)
		}
		hp, err := scenario.ParseHostPort(to)
		if err != nil {
			return nil, fmt.Errorf("--forward %q: %w", f, err)
		}
		out = append(out, scenario.Forward{Listen: ap, To: hp})
	}
	return out, nil
}

// gateways attaches a host gateway to each link that a forward or an
// egress uses.
func (sys *system) gateways(sc *scenario.Scenario, n *vnet.Network, linkOf map[string]string, extra []scenario.Forward) error {
	per := make(map[string]*vnet.GatewayConfig)
	gw := func(link string) *vnet.GatewayConfig {
		if per[link] == nil {
			per[link] = &vnet.GatewayConfig{Segment: link}
		}
		return per[link]
	}
	for _, f := range append(append([]scenario.Forward(nil), sc.Forwards...), extra...) {
		h := sc.Host(f.To.Host)
		if h == nil || len(h.Addresses) == 0 {
			return fmt.Errorf("forward %s: no host %q with an address", f.Listen, f.To.Host)
		}
		link, ok := linkOf[h.Name]
		if !ok {
			return fmt.Errorf("forward %s: host %q is on no link", f.Listen, h.Name)
		}
		g := gw(link)
		g.Forwards = append(g.Forwards, vnet.Forward{Listen: f.Listen, To: netip.AddrPortFrom(h.Addresses[0].Addr(), f.To.Port)})
	}
	for _, e := range sc.Egress {
		var sources []netip.Prefix
		link := ""
		for _, hn := range e.Hosts {
			h := sc.Host(hn)
			for _, a := range h.Addresses {
				sources = append(sources, netip.PrefixFrom(a.Addr(), a.Addr().BitLen()))
			}
			if link == "" {
				link = linkOf[hn]
			}
		}
		if link == "" {
			return fmt.Errorf("%s: egress %s: its hosts are on no link", e.Pos, e.Address)
		}
		g := gw(link)
		g.Egresses = append(g.Egresses, vnet.Egress{Address: e.Address, To: e.To, Sources: sources})
	}
	for _, g := range per {
		addr, err := gatewayAddress(sc, g.Segment)
		if err != nil {
			return fmt.Errorf("host gateway on %s: %w", g.Segment, err)
		}
		g.Address = addr
		gateway, err := n.AddGateway(*g)
		if err != nil {
			return fmt.Errorf("host gateway on %s: %w", g.Segment, err)
		}
		for _, a := range gateway.ForwardAddrs() {
			sys.notices = append(sys.notices, fmt.Sprintf("forwarding %s into the simulation", a))
		}
	}
	return nil
}

// gatewayAddress is the host gateway's address on link: the highest host
// address of the link's first subnet that no host and no egress has.
func gatewayAddress(sc *scenario.Scenario, link string) (netip.Prefix, error) {
	taken := map[netip.Addr]bool{}
	var subnet netip.Prefix
	for _, h := range sc.Hosts {
		for _, a := range h.Addresses {
			taken[a.Addr()] = true
		}
	}
	for _, e := range sc.Egress {
		taken[e.Address.Addr()] = true
	}
	if l := sc.Link(link); l != nil {
		for _, hn := range l.Hosts {
			if h := sc.Host(hn); h != nil && len(h.Addresses) > 0 && !subnet.IsValid() {
				subnet = h.Addresses[0].Masked()
			}
		}
	}
	if !subnet.IsValid() {
		return netip.Prefix{}, fmt.Errorf("link %q has no host address to take a subnet from", link)
	}
	a, err := vnet.HighestHost(subnet)
	for ; err == nil && subnet.Contains(a); a = a.Prev() {
		if !taken[a] && a != subnet.Addr() {
			return netip.PrefixFrom(a, subnet.Bits()), nil
		}
	}
	if err == nil {
		err = fmt.Errorf("no free address in %s", subnet)
	}
	return netip.Prefix{}, err
}

// printLinkStats prints what each link carried and dropped (-v).
func printLinkStats(w io.Writer, n *vnet.Network) {
	for _, seg := range n.Segments() {
		st, err := n.Stats(seg)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "link %s: %d frames, %d bytes, %d delivered; dropped: %d lost, %d partitioned, %d queue, %d overflow, %d malformed\n",
			seg, st.Frames, st.Bytes, st.Delivered, st.Lost, st.Partitioned, st.QueueDrops, st.Overflow, st.Malformed)
	}
}
