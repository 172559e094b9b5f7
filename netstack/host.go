package netstack

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Route sends traffic for To through the gateway Via (which must lie in one
// of the host's connected subnets).
type Route struct {
	To  netip.Prefix
	Via netip.Addr
}

// HostConfig describes one simulated host.
type HostConfig struct {
	Name      string
	Addresses []netip.Prefix // address and subnet, e.g. 10.0.0.1/24
	Routes    []Route        // besides the connected subnets
	// NICFD is one end of a SOCK_SEQPACKET socket pair carrying Ethernet
	// frames. NewHost takes ownership, also when it fails: Close (or the
	// failure) closes it. When the other end closes, the link goes down.
	NICFD int
	MTU   int              // default 1500
	MAC   net.HardwareAddr // default: derived from Name
	// Hosts is the scenario's host-name table, served by GetAddrInfo.
	Hosts map[string][]netip.Addr
	// ChecksumOffload skips transmit checksums (frames then carry invalid
	// checksums in a capture); receive checksums are never verified, since
	// frames come from the kernel's switch and are never corrupted.
	ChecksumOffload bool
	// SocketBuffer is the SO_SNDBUF/SO_RCVBUF forced on NICFD; default 4 MiB.
	SocketBuffer int
	// Seed, when not 0, fixes the stack's random choices (ephemeral ports,
	// the TCP sequence-number key), with the host's name, so that a run
	// repeats; 0 takes them from crypto/rand.
	Seed   int64
	Logger *slog.Logger

	// tune, when set (tests and benchmarks), adjusts the link options.
	tune func(*fdbased.Options)
}

const (
	nicID        tcpip.NICID = 1
	loopbackNIC  tcpip.NICID = 2
	defaultMTU               = 1500
	nicBufferLen             = 4 << 20
	nicQueueLen              = 1000 // frames waiting for the link
	// groMTULimit: up to this MTU GSO and GRO pay off (REFERENCE §9).
	groMTULimit = 9000
)

// Host is one simulated machine's TCP/IP stack.
type Host struct {
	name  string
	st    *stack.Stack
	fd    int
	link  *nicLink
	hosts map[string][]netip.Addr
	addrs []netip.Prefix
	log   *slog.Logger

	pingSeq   atomic.Uint32
	closeOnce sync.Once
}

// NewHost builds the stack of cfg and attaches its NIC to cfg.NICFD.
func NewHost(cfg HostConfig) (*Host, error) {
	if cfg.MTU == 0 {
		cfg.MTU = defaultMTU
	}
	if cfg.MTU < 1280 && hasV6(cfg.Addresses) || cfg.MTU < 576 || cfg.MTU > 65535 {
		unix.Close(cfg.NICFD)
		return nil, fmt.Errorf("host %q: MTU %d out of range", cfg.Name, cfg.MTU)
	}
	if len(cfg.MAC) == 0 {
		cfg.MAC = MACFromName(cfg.Name)
	}
	if len(cfg.MAC) != 6 {
		unix.Close(cfg.NICFD)
		return nil, fmt.Errorf("host %q: MAC %v is not 6 bytes", cfg.Name, cfg.MAC)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := tuneSocketBuffers(cfg.NICFD, cfg.SocketBuffer); err != nil {
		unix.Close(cfg.NICFD)
		return nil, fmt.Errorf("host %q: %w", cfg.Name, err)
	}
	st := newStack(seededRNG(cfg.Seed, cfg.Name))
	h := &Host{name: cfg.Name, st: st, fd: cfg.NICFD, hosts: cfg.Hosts, addrs: cfg.Addresses,
		log: cfg.Logger.With("host", cfg.Name)}
	if err := h.setup(cfg); err != nil {
		h.Close()
		return nil, fmt.Errorf("host %q: %w", cfg.Name, err)
	}
	return h, nil
}

func hasV6(ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Addr().Is6() && !p.Addr().Is4In6() {
			return true
		}
	}
	return false
}

// newStack makes a stack with capsim's protocols and options; rng, when
// not nil, is its source of randomness.
func newStack(rng io.Reader) *stack.Stack {
	st := stack.New(stack.Options{
		SecureRNG:          rng,
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	sack := tcpip.TCPSACKEnabled(true)
	st.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	st.SetTransportProtocolOption(tcp.ProtocolNumber, &mod)
	return st
}

// MACFromName derives a stable, locally administered unicast MAC from a
// host name.
func MACFromName(name string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("capsim-mac:" + name))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}

// tuneSocketBuffers forces 4 MiB socket buffers on the NIC's socket:
// fdbased drops a frame when the socket is full, and the default ~208 KiB
// causes retransmission-timeout storms (REFERENCE §9). Without
// CAP_NET_ADMIN the FORCE options fail and the plain ones (capped by
// net.core.*mem_max) are used.
func tuneSocketBuffers(fd, size int) error {
	if size == 0 {
		size = nicBufferLen
	}
	set := func(force, plain int) error {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) == nil {
			return nil
		}
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, size)
	}
	if err := set(unix.SO_SNDBUFFORCE, unix.SO_SNDBUF); err != nil {
		return fmt.Errorf("NIC fd %d: SO_SNDBUF: %w", fd, err)
	}
	if err := set(unix.SO_RCVBUFFORCE, unix.SO_RCVBUF); err != nil {
		return fmt.Errorf("NIC fd %d: SO_RCVBUF: %w", fd, err)
	}
	return nil
}

func linkOptions(cfg HostConfig) *fdbased.Options {
	small := cfg.MTU <= groMTULimit
	opts := &fdbased.Options{
		FDs:                []int{cfg.NICFD},
		MTU:                uint32(cfg.MTU),
		EthernetHeader:     true,
		Address:            tcpip.LinkAddress(cfg.MAC),
		PacketDispatchMode: fdbased.RecvMMsg,
		RXChecksumOffload:  true,
		TXChecksumOffload:  cfg.ChecksumOffload,
		GRO:                small,
	}
	if small {
		opts.GVisorGSOEnabled = true
		opts.GSOMaxSize = 1 << 16
	}
	if cfg.tune != nil {
		cfg.tune(opts)
	}
	return opts
}

func (h *Host) setup(cfg HostConfig) error {
	opts := linkOptions(cfg)
	send, err := fdbased.New(opts)
	if err != nil {
		return fmt.Errorf("NIC link: %w", err)
	}
	link, err := newNICLink(send, cfg.NICFD, opts.Address, cfg.MTU, opts.GRO, h.linkEnded)
	if err != nil {
		return err
	}
	h.link = link
	// A FIFO queue between the stack and the link: TCP hands over one
	// segment per call, and the queue's goroutine writes what piled up
	// meanwhile with one sendmmsg(2) — in-process 1.7×, host to host 1.3×
	// the throughput of a write per segment (docs/BENCHMARKS.md). One
	// queue keeps frames in order; 1000 frames is what runsc uses.
	qdisc := fifo.New(link, 1, nicQueueLen)
	if terr := h.st.CreateNICWithOptions(nicID, link, stack.NICOptions{Name: "eth0", QDisc: qdisc}); terr != nil {
		qdisc.Close()
		return fmt.Errorf("create NIC: %s", terr)
	}
	if terr := h.st.CreateNICWithOptions(loopbackNIC, loopback.New(), stack.NICOptions{Name: "lo"}); terr != nil {
		return fmt.Errorf("create loopback NIC: %s", terr)
	}
	lo := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}
	for _, p := range lo {
		if err := h.addAddress(loopbackNIC, p); err != nil {
			return err
		}
	}
	for _, p := range cfg.Addresses {
		if err := h.addAddress(nicID, p); err != nil {
			return err
		}
	}
	routes, err := routeTable(cfg.Addresses, append(lo, cfg.Addresses...), cfg.Routes)
	if err != nil {
		return err
	}
	h.st.SetRouteTable(routes)
	return nil
}

// linkEnded is told when the NIC stops receiving on its own.
func (h *Host) linkEnded(err error) {
	if errors.Is(err, errLinkClosed) {
		h.log.Info("NIC peer closed; link down")
		return
	}
	h.log.Warn("NIC receive loop ended; the host is deaf", "err", err)
}

func (h *Host) addAddress(nic tcpip.NICID, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("address %v is not valid", p)
	}
	a := p.Addr().Unmap()
	proto := ipv4.ProtocolNumber
	if a.Is6() {
		proto = ipv6.ProtocolNumber
	}
	pa := tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFromSlice(a.AsSlice()), PrefixLen: p.Bits()}}
	if terr := h.st.AddProtocolAddress(nic, pa, stack.AddressProperties{}); terr != nil {
		return fmt.Errorf("add address %v: %s", p, terr)
	}
	return nil
}

// routeTable lists connected subnets (on the NIC, loopback's on loopback)
// and configured routes, longest prefix first.
func routeTable(nicAddrs, all []netip.Prefix, extra []Route) ([]tcpip.Route, error) {
	var out []tcpip.Route
	onNIC := func(p netip.Prefix) tcpip.NICID {
		for _, q := range nicAddrs {
			if q == p {
				return nicID
			}
		}
		return loopbackNIC
	}
	for _, p := range all {
		out = append(out, tcpip.Route{Destination: subnet(p.Masked()), NIC: onNIC(p)})
	}
	for _, r := range extra {
		if !r.To.IsValid() || !r.Via.IsValid() || r.To.Addr().Is4() != r.Via.Unmap().Is4() {
			return nil, fmt.Errorf("route %v via %v: invalid", r.To, r.Via)
		}
		out = append(out, tcpip.Route{Destination: subnet(r.To.Masked()),
			Gateway: tcpip.AddrFromSlice(r.Via.Unmap().AsSlice()), NIC: nicID})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Destination.Prefix() > out[j].Destination.Prefix()
	})
	return out, nil
}

func subnet(p netip.Prefix) tcpip.Subnet {
	a := p.Addr().Unmap()
	n := len(a.AsSlice()) * 8
	bits := p.Bits()
	if p.Addr().Is4In6() {
		bits -= 96
	}
	mask := make([]byte, n/8)
	for i := 0; i < bits; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	s, err := tcpip.NewSubnet(tcpip.AddrFromSlice(a.AsSlice()), tcpip.MaskFromBytes(mask))
	if err != nil {
		panic(fmt.Sprintf("subnet %v: %v", p, err)) // masked prefix: cannot happen
	}
	return s
}

// Name is the host's name.
func (h *Host) Name() string { return h.name }

// Addresses are the host's configured addresses.
func (h *Host) Addresses() []netip.Prefix { return append([]netip.Prefix(nil), h.addrs...) }

// Close stops the stack, aborting every endpoint, and closes the NIC fd.
func (h *Host) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.st.Destroy()
		if h.link != nil {
			h.link.Close() // done by Destroy too, unless NIC creation failed
		}
		if cerr := unix.Close(h.fd); cerr != nil {
			err = fmt.Errorf("host %q: close NIC fd %d: %w", h.name, h.fd, cerr)
		}
	})
	return err
}

// seededRNG is a random stream fixed by seed and name (nil for seed 0):
// the stack's "secure" randomness, which also seeds its other random
// choices. A simulated host needs repeatable choices more than secret ones.
func seededRNG(seed int64, name string) io.Reader {
	if seed == 0 {
		return nil
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	h := sha256.Sum256(append(key[:8], name...))
	copy(key[:], h[:])
	return &lockedReader{r: rand.NewChaCha8(key)}
}

// lockedReader makes a reader safe for the stack's goroutines.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
