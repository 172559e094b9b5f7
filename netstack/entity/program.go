package entity

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"capsim/api/capsim/socket"
	"capsim/entities"
	"capsim/ipc"
	"capsim/netstack"
)

// Program is capsim:netstack.
func Program() *entities.Program {
	return &entities.Program{Name: "netstack", Class: "capsim.Netstack",
		Summary: "one simulated host's TCP/IP stack (gVisor), serving capsim.Socket",
		Usage:   usage, Run: run}
}

const usage = `capsim:netstack --nic fd:N --address PREFIX... [--route TO=VIA]... [--mtu N] [--host NAME=ADDR[,ADDR]]... [--seed N]
  the kernel sets these from the scenario's [[host]] and [[link]]: the NIC
  is a descriptor it opened; --host lines are the scenario's host table,
  served by GetAddrInfo; --seed is the scenario's seed, which fixes the
  stack's random choices (ephemeral ports, the TCP sequence-number key).
  Prints its addresses when it starts.`

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, rt *entities.Runtime, args []string) int {
	cfg, err := parseFlags(rt, args)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "netstack: %v\n", err)
		return 2
	}
	h, err := netstack.NewHost(*cfg)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "netstack: %v\n", err)
		return 1
	}
	defer h.Close()
	socks := netstack.NewSockets(h, netstack.SocketsConfig{Logger: rt.Log})
	rt.OnGone(func(b *ipc.Badge) { socks.Drop(b.ID) }) // a client that ended leaves no sockets behind
	if err := rt.Handle(socket.InterfaceName, socket.NewDispatcher(netstack.NewServer(socks))); err != nil {
		fmt.Fprintf(rt.Stderr(), "netstack: %v\n", err)
		return 2
	}
	fmt.Fprintf(rt.Stdout(), "netstack: host %s up: %s\n", cfg.Name, joinPrefixes(cfg.Addresses))
	if err := rt.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}

func parseFlags(rt *entities.Runtime, args []string) (*netstack.HostConfig, error) {
	return parseArgs(args, rt.Task, rt.Stderr(), rt.Log)
}

// parseArgs is parseFlags for a task name, a stderr and a logger. On
// success the returned NICFD is the host's own descriptor (see nicFD).
func parseArgs(args []string, task string, stderr io.Writer, log *slog.Logger) (*netstack.HostConfig, error) {
	fl := flag.NewFlagSet("netstack", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var addrs, routes, hosts listFlag
	nic := fl.String("nic", "", "the NIC: fd:N, a SOCK_SEQPACKET socket of Ethernet frames")
	name := fl.String("name", "", "the host's name (default: the task's)")
	mtu := fl.Int("mtu", 1500, "the NIC's MTU")
	seed := fl.Int64("seed", 0, "seed of the stack's random choices (0: not repeatable)")
	fl.Var(&addrs, "address", "an address with its subnet, 10.0.0.1/24 (repeatable)")
	fl.Var(&routes, "route", "a route TO=VIA, 0.0.0.0/0=10.0.0.254 (repeatable)")
	fl.Var(&hosts, "host", "a host-table line NAME=ADDR[,ADDR] (repeatable)")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags after it would be ignored)", fl.Arg(0))
	}
	if *nic == "" {
		return nil, errors.New("--nic is required (the kernel passes it from the scenario's [[link]])")
	}
	cfg := &netstack.HostConfig{Name: *name, MTU: *mtu, Seed: *seed, Hosts: map[string][]netip.Addr{}, Logger: log}
	if cfg.Name == "" {
		cfg.Name = task
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("--address %s: %w", a, err)
		}
		cfg.Addresses = append(cfg.Addresses, p)
	}
	for _, r := range routes {
		to, via, ok := strings.Cut(r, "=")
		p, err1 := netip.ParsePrefix(to)
		v, err2 := netip.ParseAddr(via)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("--route %q: want TO=VIA, 0.0.0.0/0=10.0.0.254", r)
		}
		cfg.Routes = append(cfg.Routes, netstack.Route{To: p, Via: v})
	}
	for _, h := range hosts {
		n, list, ok := strings.Cut(h, "=")
		if !ok {
			return nil, fmt.Errorf("--host %q: want NAME=ADDR[,ADDR]", h)
		}
		for _, a := range strings.Split(list, ",") {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, fmt.Errorf("--host %q: %w", h, err)
			}
			cfg.Hosts[n] = append(cfg.Hosts[n], ip)
		}
	}
	fd, err := nicFD(*nic)
	if err != nil {
		return nil, fmt.Errorf("--nic %s: %w", *nic, err)
	}
	cfg.NICFD = fd
	return cfg, nil
}

// nicFD returns a descriptor of its own for the NIC that arg (fd:N) names.
// The host keeps a plain descriptor number, so the *os.File that
// entities.File wraps the inherited descriptor in must not outlive this
// call: unreachable, its cleanup would close the descriptor at some later
// garbage collection, in the middle of the run — the NIC's receive loop
// then fails with EBADF, the host goes deaf and mute, and its TCP
// connections stall (scenarios/net-loss, where a 4 MiB transfer made the
// collector run). So the descriptor is duplicated and the file closed now.
func nicFD(arg string) (int, error) {
	f, err := entities.File(arg)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dup: %w", derr)
	}
	return fd, nil
}

func joinPrefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}
