package vnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by operations on a closed Network.
var ErrClosed = errors.New("vnet: network closed")

// Network is a virtual switch with its segments, ports, captures and
// gateways. Create it with New, add ports, Start it, and Close it.
type Network struct {
	cfg   Config
	log   *slog.Logger
	segs  map[string]*segment
	order []*segment

	mu       sync.Mutex // guards the fields below
	started  bool
	closed   bool
	start    time.Time
	gateways []*Gateway
	stopCtx  func() bool

	wg        sync.WaitGroup // port readers and schedulers
	done      chan struct{}  // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// New builds a network from cfg: it validates the configuration and opens
// the capture files. Nothing runs until Start.
func New(cfg Config) (*Network, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	n := &Network{
		cfg:  cfg,
		log:  cfg.Logger,
		segs: make(map[string]*segment),
		done: make(chan struct{}),
	}
	for _, sc := range cfg.Segments {
		s, err := newSegment(n, sc)
		if err != nil {
			n.closeCaptures()
			return nil, err
		}
		n.segs[sc.Name] = s
		n.order = append(n.order, s)
	}
	return n, nil
}

// Segments returns the segment names in configuration order.
func (n *Network) Segments() []string {
	names := make([]string, len(n.order))
	for i, s := range n.order {
		names[i] = s.cfg.Name
	}
	return names
}

func (n *Network) segment(name string) (*segment, error) {
	s, ok := n.segs[name]
	if !ok {
		return nil, fmt.Errorf("vnet: unknown segment %q", name)
	}
	return s, nil
}

// AddPort attaches a host to a segment. It makes a SOCK_SEQPACKET socket
// pair with SocketBuffer-sized send and receive buffers on both ends, keeps
// one end for the switch and returns the other: one Ethernet frame per
// message, as gVisor's fdbased endpoint reads and writes them. The caller
// owns the returned descriptor (close-on-exec is set; the kernel passes it
// to the netstack entity and closes its copy). Ports may be added before or
// after Start.
func (n *Network) AddPort(segName, host string) (fd int, err error) {
	s, err := n.segment(segName)
	if err != nil {
		return -1, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("vnet: port %s/%s: socketpair: %w", segName, host, err)
	}
	for _, fd := range fds {
		if err := setBuffers(fd, n.cfg.SocketBuffer); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return -1, fmt.Errorf("vnet: port %s/%s: %w", segName, host, err)
		}
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, fmt.Errorf("vnet: port %s/%s: %w", segName, host, err)
	}
	f := os.NewFile(uintptr(fds[0]), "vnet:"+segName+"/"+host)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		f.Close()
		unix.Close(fds[1])
		return -1, ErrClosed
	}
	p, err := s.attach(host, f)
	if err != nil {
		f.Close()
		unix.Close(fds[1])
		return -1, err
	}
	if n.started {
		n.runPort(p)
	}
	return fds[1], nil
}

// setBuffers forces the send and receive buffers of fd to size bytes. The
// FORCE options need CAP_NET_ADMIN; without it the plain options are used
// (capped by net.core.*mem_max).
func setBuffers(fd, size int) error {
	for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], size); err == nil {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], size); err != nil {
			return fmt.Errorf("setsockopt buffer %d: %w", size, err)
		}
	}
	return nil
}

// Start runs the switch: a reader per port, a scheduler per impaired
// segment and the partition/heal schedules, whose offsets count from now.
// Cancelling ctx closes the network.
func (n *Network) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if n.started {
		return errors.New("vnet: network already started")
	}
	n.started = true
	n.start = time.Now()
	for _, s := range n.order {
		if s.sched != nil {
			n.wg.Go(func() { s.sched.run(n.done) })
		}
		for _, p := range s.portsSnapshot() {
			n.runPort(p)
		}
		if len(s.cfg.Schedule) > 0 {
			n.wg.Go(func() { s.runSchedule(n.start, n.done) })
		}
	}
	n.stopCtx = context.AfterFunc(ctx, func() { n.Close() })
	return nil
}

// runPort starts p's reader. n.mu is held.
func (n *Network) runPort(p *port) {
	n.wg.Go(p.readLoop)
}

// SetPartitioned partitions (true) or heals (false) a segment now, as a
// schedule event would.
func (n *Network) SetPartitioned(segment string, partitioned bool) error {
	s, err := n.segment(segment)
	if err != nil {
		return err
	}
	e := Event{Do: Heal}
	if partitioned {
		e.Do = Partition
	}
	s.apply(e)
	return nil
}

// Stats returns the counters of a segment.
func (n *Network) Stats(segment string) (Stats, error) {
	s, err := n.segment(segment)
	if err != nil {
		return Stats{}, err
	}
	return s.stats.snapshot(), nil
}

// Contains reports whether the frames a segment carried (every frame a host
// sent, lost or not) hold needle, within one frame or, for needles of up to
// 64 bytes, across the boundary of two consecutive segments of a TCP stream.
// Only the first RecordCap bytes are kept: when needle is not found and the
// record was truncated, Contains returns false and an error wrapping
// ErrTruncated, since absence cannot be proved.
func (n *Network) Contains(segment string, needle []byte) (bool, error) {
	s, err := n.segment(segment)
	if err != nil {
		return false, err
	}
	return s.cap.contains(segment, needle)
}

// Flush writes buffered capture records to the pcap files.
func (n *Network) Flush() error {
	var errs []error
	for _, s := range n.order {
		errs = append(errs, s.cap.flush())
	}
	return errors.Join(errs...)
}

// Close stops the switch, closes every port's switch end, the gateways and
// the capture files. It is safe to call more than once.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		gws := n.gateways
		stop := n.stopCtx
		n.mu.Unlock()
		if stop != nil {
			stop()
		}
		var errs []error
		for _, g := range gws {
			errs = append(errs, g.close())
		}
		close(n.done)
		for _, s := range n.order {
			s.closePorts()
		}
		n.wg.Wait()
		errs = append(errs, n.closeCaptures())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

func (n *Network) closeCaptures() error {
	var errs []error
	for _, s := range n.order {
		errs = append(errs, s.cap.close())
	}
	return errors.Join(errs...)
}
