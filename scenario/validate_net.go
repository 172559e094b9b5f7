package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// reservedCerts are names of the generated files that no entry may take.
var reservedCerts = []string{"ca", "other-ca", "crl"}

func (v *validator) network() {
	owner := map[netip.Addr]string{}
	for i := range v.s.Hosts {
		v.host(&v.s.Hosts[i], owner)
	}
	onLink := map[string]bool{}
	linkOf := map[string]string{}
	v.linkOf = linkOf
	for i := range v.s.Links {
		l := &v.s.Links[i]
		v.link(l)
		for _, h := range l.Hosts {
			onLink[h] = true
			if prev, ok := linkOf[h]; ok && prev != l.Name {
				v.errorf(l.KeyPos("hosts"), "link %q: host %q is on link %q too; a host has one NIC, on one link", l.Name, h, prev)
			}
			linkOf[h] = l.Name
		}
	}
	v.netstacks(onLink)
	listens := map[netip.AddrPort]*Forward{}
	for i := range v.s.Forwards {
		f := &v.s.Forwards[i]
		v.forward(f)
		key := ListenKey(f.Listen)
		if first, ok := listens[key]; ok && f.Listen.IsValid() && f.Listen.Port() != 0 {
			v.errorf(f.KeyPos("listen"), "[[forward]]: listen %s is taken by the [[forward]] at line %d", f.Listen, first.Pos.Line)
		}
		listens[key] = f
	}
	for i := range v.s.Egress {
		e := &v.s.Egress[i]
		v.egress(e)
		if o, ok := owner[e.Address.Addr()]; ok && e.Address.IsValid() {
			v.errorf(e.KeyPos("address"), "[[egress]]: address %s is host %q's; an egress needs an address of its own", e.Address.Addr(), o)
		}
	}
}

func (v *validator) host(h *Host, owner map[netip.Addr]string) {
	what := fmt.Sprintf("host %q", h.Name)
	for _, p := range h.Addresses {
		if !p.IsValid() {
			continue // reported by the decoder
		}
		switch o, ok := owner[p.Addr()]; {
		case ok && o != h.Name:
			v.errorf(h.KeyPos("addresses"), "%s: address %s is also host %q's", what, p.Addr(), o)
		case ok:
			v.errorf(h.KeyPos("addresses"), "%s: address %s is listed twice", what, p.Addr())
		}
		owner[p.Addr()] = h.Name
	}
	for i := range h.Routes {
		r := &h.Routes[i]
		if !r.Has("to") {
			v.errorf(r.Pos, "%s: route needs to", what)
		}
		if !r.Has("via") {
			v.errorf(r.Pos, "%s: route needs via", what)
		}
		switch {
		case r.To.IsValid() && r.Via.IsValid() && r.To.Addr().Is4() != r.Via.Unmap().Is4():
			v.errorf(r.KeyPos("via"), "%s: route to %s via %s mixes IPv4 and IPv6", what, r.To, r.Via)
		case r.Via.IsValid() && !onLink(h.Addresses, r.Via):
			// As Linux refuses it ("Nexthop has invalid gateway"): the
			// stack could never reach the gateway to hand it a packet.
			v.errorf(r.KeyPos("via"), "%s: route via %s: the gateway is in none of the host's subnets (%s)", what, r.Via, prefixList(h.Addresses))
		}
	}
}

// onLink reports whether a is in one of the subnets of addrs.
func onLink(addrs []netip.Prefix, a netip.Addr) bool {
	for _, p := range addrs {
		if p.IsValid() && p.Masked().Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// prefixList is addrs as "10.0.0.1/24, fd00::1/64", or "none".
func prefixList(addrs []netip.Prefix) string {
	if len(addrs) == 0 {
		return "none"
	}
	var s []string
	for _, p := range addrs {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func (v *validator) link(l *Link) {
	what := fmt.Sprintf("link %q", l.Name)
	if len(l.Hosts) < 2 {
		v.errorf(l.KeyPos("hosts"), "%s lists %d of the at least 2 hosts a link joins", what, len(l.Hosts))
	}
	seen := map[string]bool{}
	for _, h := range l.Hosts {
		if seen[h] {
			v.errorf(l.KeyPos("hosts"), "%s: host %q is listed twice", what, h)
		}
		seen[h] = true
		ref(v, v.hosts, &l.Node, "hosts", what, "host", h)
	}
	switch v6 := v.linkHasIPv6(l); {
	case l.MTU < 576 || l.MTU > 65535:
		v.errorf(l.KeyPos("mtu"), "%s: mtu %d is not between 576 and 65535", what, l.MTU)
	case l.MTU < 1280 && v6 != "":
		v.errorf(l.KeyPos("mtu"), "%s: mtu %d is below IPv6's minimum of 1280 (host %q has an IPv6 address)", what, l.MTU, v6)
	}
	for i := range l.Schedule {
		ev := &l.Schedule[i]
		if ev.Do != "partition" && ev.Do != "heal" {
			v.errorf(ev.KeyPos("do"), "%s: schedule do %q is not partition or heal%s", what, ev.Do,
				suggest(ev.Do, []string{"partition", "heal"}))
		}
		if !ev.Has("at") {
			v.errorf(ev.Pos, "%s: schedule entry needs at", what)
		}
	}
}

// netstacks checks that a host has at most one netstack entity, and that
// every host on a link has one.
func (v *validator) netstacks(onLink map[string]bool) {
	stacks := map[string][]string{}
	for _, e := range v.s.Entities {
		if e.Class == NetstackClass && e.Host != "" {
			stacks[e.Host] = append(stacks[e.Host], e.Task)
		}
	}
	for i := range v.s.Hosts {
		h := &v.s.Hosts[i]
		switch n := stacks[h.Name]; {
		case len(n) > 1:
			v.errorf(h.Pos, "host %q has %d %s entities (%s); it needs exactly one", h.Name, len(n),
				NetstackClass, quoteList(n))
		case len(n) == 0 && onLink[h.Name]:
			v.errorf(h.Pos, "host %q is on a link but no entity of class %s runs on it%s", h.Name, NetstackClass, v.misspeltNetstack(h.Name))
		}
	}
	for i := range v.s.Entities {
		if e := &v.s.Entities[i]; e.Class == NetstackClass && e.Host == "" {
			v.errorf(e.Pos, "entity %q: a %s entity needs a host", e.Task, NetstackClass)
		}
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func (v *validator) forward(f *Forward) {
	switch {
	case !f.Has("listen"):
		v.errorf(f.Pos, "[[forward]] needs listen")
	case f.Listen.IsValid() && !IsLoopback(f.Listen.Addr()):
		v.errorf(f.KeyPos("listen"), "[[forward]]: listen %s is not a loopback address (127.0.0.0/8 or ::1)", f.Listen)
	}
	if !f.Has("to") {
		v.errorf(f.Pos, "[[forward]] needs to")
	} else if f.To.Host != "" && ref(v, v.hosts, &f.Node, "to", "[[forward]]", "host", f.To.Host) {
		v.forwardTarget(f)
	}
}

// forwardTarget checks that the host a forward reaches is wired.
func (v *validator) forwardTarget(f *Forward) {
	if why := v.s.ForwardTarget(f.To.Host); why != "" {
		v.errorf(f.KeyPos("to"), "[[forward]]: to %q: %s", f.To.Host, why)
	}
}

// ForwardTarget says why a forward to an existing host cannot reach it —
// the host gateway sits on the host's link and dials its first address —
// or "" when it can. capsim run's --forward flags are checked with it too.
func (s *Scenario) ForwardTarget(host string) string {
	h := s.Host(host)
	switch {
	case !slices.ContainsFunc(s.Links, func(l Link) bool { return slices.Contains(l.Hosts, host) }):
		return "the host is on no link"
	case len(h.Addresses) == 0:
		return "the host has no address"
	}
	return ""
}

// ListenKey is the socket a listen address takes: [::ffff:127.0.0.1]:p
// and 127.0.0.1:p are one.
func ListenKey(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (v *validator) egress(e *Egress) {
	if len(e.Hosts) == 0 {
		v.errorf(e.Pos, "[[egress]] needs hosts")
	}
	first := ""
	for _, h := range e.Hosts {
		if !ref(v, v.hosts, &e.Node, "hosts", "[[egress]]", "host", h) {
			continue
		}
		switch link := v.linkOf[h]; {
		case link == "":
			v.errorf(e.KeyPos("hosts"), "[[egress]]: host %q is on no link", h)
		case first == "":
			first = h
		case link != v.linkOf[first]:
			v.errorf(e.KeyPos("hosts"), "[[egress]]: host %q is on link %q, host %q on %q; an egress serves the hosts of one link",
				h, link, first, v.linkOf[first])
		}
	}
	switch {
	case !e.Has("address"):
		v.errorf(e.Pos, "[[egress]] needs address")
	case e.Address.IsValid() && e.Address.Port() == 0:
		v.errorf(e.KeyPos("address"), "[[egress]]: address %s has no port (0)", e.Address)
	}
	switch {
	case !e.Has("to"):
		v.errorf(e.Pos, "[[egress]] needs to")
	case e.To.IsValid() && !IsLoopback(e.To.Addr()):
		v.errorf(e.KeyPos("to"), "[[egress]]: to %s is not a loopback address (127.0.0.0/8 or ::1)", e.To)
	case e.To.IsValid() && e.To.Port() == 0:
		v.errorf(e.KeyPos("to"), "[[egress]]: to %s has no port (0)", e.To)
	}
}

func (v *validator) certs() {
	names := map[string]*Cert{}
	for i := range v.s.Certs {
		c := &v.s.Certs[i]
		what := fmt.Sprintf("cert %q", c.Name)
		switch {
		case c.Name == "":
			if !c.badValue("name") {
				v.errorf(c.Pos, "cert needs a name")
			}
			continue
		case containsStr(reservedCerts, c.Name):
			v.errorf(c.KeyPos("name"), "%s: the name is reserved (ca, other-ca and crl are generated files)", what)
		case !nameRE.MatchString(c.Name):
			v.errorf(c.KeyPos("name"), "%s: name must match [a-z][a-z0-9-]*", what)
		}
		unique(v, names, c.Name, c, &c.Node, "", "cert")
		for _, h := range c.Hosts {
			ref(v, v.hosts, &c.Node, "hosts", what, "host", h)
		}
		if c.Usage != "" && c.Usage != "server" && c.Usage != "client" {
			v.errorf(c.KeyPos("usage"), "%s: usage %q is not \"server\" or \"client\" (leave it out for both)", what, c.Usage)
		}
		if c.Issuer != "" && c.Issuer != "other" {
			v.errorf(c.KeyPos("issuer"), "%s: issuer %q is not \"other\" (leave it out for the scenario CA)", what, c.Issuer)
		}
		if c.Has("not_before") && c.Has("not_after") && c.NotBefore >= c.NotAfter {
			v.errorf(c.KeyPos("not_after"), "%s: not_after must be later than not_before", what)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// linkHasIPv6 names a host of l with an IPv6 address, or "".
func (v *validator) linkHasIPv6(l *Link) string {
	for i := range v.s.Hosts {
		h := &v.s.Hosts[i]
		if !slices.Contains(l.Hosts, h.Name) {
			continue
		}
		for _, a := range h.Addresses {
			if a.Addr().Is6() && !a.Addr().Is4In6() {
				return h.Name
			}
		}
	}
	return ""
}

// misspeltNetstack points at an entity on host whose class looks like a
// misspelt capsim.Netstack, the likely reason the host has none.
func (v *validator) misspeltNetstack(host string) string {
	for _, e := range v.s.Entities {
		if e.Host == host && e.Class != NetstackClass && suggest(e.Class, []string{NetstackClass}) != "" {
			return fmt.Sprintf(" (entity %q has class %s: did you mean %s?)", e.Task, e.Class, NetstackClass)
		}
	}
	return ""
}
