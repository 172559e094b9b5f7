package vnet

import (
	"cmp"
	"errors"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"capsim/netstack/mmsg"
)

const (
	ethHeaderLen = 14
	macLen       = 6
)

type mac [macLen]byte

// segment is one link: its ports, MAC table, impairments and capture.
type segment struct {
	net      *Network
	cfg      SegmentConfig
	frameMax int // largest frame carried: MTU plus the Ethernet header
	log      *slog.Logger

	mu    sync.RWMutex // guards ports and macs
	ports []*port
	macs  map[mac]*port

	partitioned atomic.Bool
	stats       counters
	cap         *capture
	sched       *scheduler // nil when no impairment delays frames
	bufs        framePool  // copies of frames that wait in the scheduler
}

func newSegment(n *Network, sc SegmentConfig) (*segment, error) {
	s := &segment{
		net:      n,
		cfg:      sc,
		frameMax: sc.MTU + ethHeaderLen,
		log:      n.log.With("segment", sc.Name),
		macs:     make(map[mac]*port),
	}
	s.bufs.init(s.frameMax)
	if sc.Impair.timed() {
		s.sched = newScheduler(s)
	}
	var err error
	pcap := ""
	if n.cfg.Pcap != "" {
		pcap = PcapPath(n.cfg.Pcap, sc.Name, len(n.cfg.Segments))
	}
	s.cap, err = newCapture(pcap, n.cfg.RecordCap, sc.MTU)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// port is the switch end of one host's socket pair.
type port struct {
	seg  *segment
	host string
	file *os.File
	raw  syscall.RawConn
	rng  *rand.Rand // owned by the reader goroutine
	dead atomic.Bool

	emu       sync.Mutex // guards busyUntil
	busyUntil time.Time  // when the rate-limited output is free again
}

// attach adds a port for host on the segment's switch end f.
func (s *segment) attach(host string, f *os.File) (*port, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	same := 0
	for _, p := range s.ports {
		if p.host == host {
			same++
		}
	}
	h := fnv.New64a()
	h.Write([]byte(s.cfg.Name))
	h.Write([]byte{0})
	h.Write([]byte(host))
	h.Write([]byte{0, byte(same), byte(same >> 8)})
	p := &port{
		seg:  s,
		host: host,
		file: f,
		raw:  raw,
		rng:  rand.New(rand.NewPCG(uint64(s.net.cfg.Seed), h.Sum64())),
	}
	s.ports = append(s.ports, p)
	return p, nil
}

func (s *segment) portsSnapshot() []*port {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*port(nil), s.ports...)
}

func (s *segment) closePorts() {
	for _, p := range s.portsSnapshot() {
		p.dead.Store(true)
		p.file.Close()
	}
}

// apply carries out a schedule event.
func (s *segment) apply(e Event) {
	s.partitioned.Store(e.Do == Partition)
	s.log.Info("vnet: link "+e.Do.String(), "at", e.At)
	if f := s.net.cfg.OnEvent; f != nil {
		f(s.cfg.Name, e)
	}
}

// runSchedule applies the segment's schedule, in order of offset (events
// at the same offset in configuration order), until done is closed.
func (s *segment) runSchedule(start time.Time, done <-chan struct{}) {
	events := slices.Clone(s.cfg.Schedule)
	slices.SortStableFunc(events, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, e := range events {
		timer.Reset(time.Until(start.Add(e.At)))
		select {
		case <-done:
			return
		case <-timer.C:
		}
		s.apply(e)
	}
}

// readBatch is how many frames a port reader takes per system call: up to
// 32, fewer for large MTUs, so a port's buffers stay near 256 KiB.
func readBatch(frameMax int) int {
	return max(4, min(32, (256<<10)/frameMax))
}

// readLoop reads frames from the port until it is closed or its peer goes.
func (p *port) readLoop() {
	s := p.seg
	b := mmsg.NewBatch(readBatch(s.frameMax), s.frameMax+1)
	var out outbox
	for {
		k, err := b.Wait(p.raw)
		if err == nil && k == 0 {
			err = errPeerGone
		}
		if err != nil {
			gone := errors.Is(err, os.ErrClosed) || errors.Is(err, unix.ECONNRESET) || err == errPeerGone
			if !p.dead.Load() && !gone {
				s.log.Warn("vnet: port read", "host", p.host, "err", err)
			}
			p.detach()
			return
		}
		for i := range k {
			frame := b.Frame(i)
			n := len(frame)
			if n == 0 && mmsg.HungUp(p.raw) { // the host closed its end
				out.flush()
				p.detach()
				return
			}
			if n > s.frameMax || n < ethHeaderLen {
				s.stats.malformed.Add(1)
				continue
			}
			s.ingress(p, frame, &out)
		}
		out.flush()
	}
}

var errPeerGone = errors.New("peer closed")

// detach takes a port whose peer is gone out of the MAC table.
func (p *port) detach() {
	p.dead.Store(true)
	s := p.seg
	s.mu.Lock()
	defer s.mu.Unlock()
	for m, q := range s.macs {
		if q == p {
			delete(s.macs, m)
		}
	}
}

// send writes one frame to the port without blocking; a full socket drops
// the frame, as a switch's full output queue would.
func (p *port) send(frame []byte) {
	s := p.seg
	if p.dead.Load() {
		s.stats.overflow.Add(1)
		return
	}
	var werr error
	err := p.raw.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), frame)
		return true
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		s.stats.overflow.Add(1)
		return
	}
	s.stats.delivered.Add(1)
}

// sendBatch writes the frames of hdrs to the port with sendmmsg(2),
// without blocking; a frame the full socket does not take is dropped, as
// send drops it, and the rest are still tried.
func (p *port) sendBatch(hdrs []mmsg.Hdr) {
	s := p.seg
	if p.dead.Load() {
		s.stats.overflow.Add(uint64(len(hdrs)))
		return
	}
	for len(hdrs) > 0 {
		var k int
		var werr error
		err := p.raw.Write(func(fd uintptr) bool {
			k, werr = mmsg.Send(int(fd), hdrs)
			return true
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			s.stats.overflow.Add(1)
			k = 1
		} else {
			s.stats.delivered.Add(uint64(k))
		}
		hdrs = hdrs[k:]
	}
}
