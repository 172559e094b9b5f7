package vnet

import (
	"sync/atomic"
	"time"
)

// Stats are a segment's counters since New.
type Stats struct {
	Frames      uint64 // frames received from ports
	Bytes       uint64 // bytes of those frames
	Delivered   uint64 // frames written to ports (a flooded frame counts once per port)
	Flooded     uint64 // frames sent to every other port (broadcast, multicast, unknown)
	Lost        uint64 // dropped by the loss impairment
	Partitioned uint64 // dropped while the segment was partitioned
	Duplicated  uint64 // sent twice by the duplicate impairment
	Reordered   uint64 // sent out of order by the reorder impairment
	QueueDrops  uint64 // tail-dropped at a rate-limited port's full queue
	Overflow    uint64 // dropped because a port's socket was full or gone
	Malformed   uint64 // runt or oversize frames
}

type counters struct {
	frames, bytes, delivered, flooded, lost, partitioned atomic.Uint64
	duplicated, reordered, queueDrops, overflow          atomic.Uint64
	malformed                                            atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Frames: c.frames.Load(), Bytes: c.bytes.Load(),
		Delivered: c.delivered.Load(), Flooded: c.flooded.Load(),
		Lost: c.lost.Load(), Partitioned: c.partitioned.Load(),
		Duplicated: c.duplicated.Load(), Reordered: c.reordered.Load(),
		QueueDrops: c.queueDrops.Load(), Overflow: c.overflow.Load(),
		Malformed: c.malformed.Load(),
	}
}

// ingress handles one frame read from port in: capture, impairments,
// learning and forwarding. frame stays valid until out is flushed; frames
// sent now go to out, delayed ones are copied.
func (s *segment) ingress(in *port, frame []byte, out *outbox) {
	s.stats.frames.Add(1)
	s.stats.bytes.Add(uint64(len(frame)))
	s.cap.add(time.Now(), frame)
	if s.partitioned.Load() {
		s.stats.partitioned.Add(1)
		return
	}
	im := &s.cfg.Impair
	rng := in.rng
	if im.Loss > 0 && rng.Float64() < im.Loss {
		s.stats.lost.Add(1)
		return
	}
	copies := 1
	if im.Duplicate > 0 && rng.Float64() < im.Duplicate {
		copies = 2
		s.stats.duplicated.Add(1)
	}
	var dstBuf [8]*port
	dsts := s.route(in, frame, dstBuf[:0])
	if s.sched == nil {
		for _, d := range dsts {
			for range copies {
				out.add(d, frame)
			}
		}
		return
	}
	wait := s.drawDelay(in)
	for _, d := range dsts {
		for range copies {
			s.enqueue(d, frame, wait)
		}
	}
}

// drawDelay draws a frame's delay from the delay, jitter and reorder
// impairments with the ingress port's random source.
func (s *segment) drawDelay(in *port) time.Duration {
	im := &s.cfg.Impair
	rng := in.rng
	d := im.Delay
	if im.Jitter > 0 {
		d += time.Duration(rng.Int64N(int64(2*im.Jitter)+1)) - im.Jitter
		d = max(d, 0)
	}
	if im.Reorder > 0 && rng.Float64() < im.Reorder {
		s.stats.reordered.Add(1)
		if im.Delay > 0 {
			return 0 // overtakes the delayed frames in flight
		}
		return im.ReorderHold // held back so later frames overtake it
	}
	return d
}

// enqueue schedules a copy of frame for port d after wait, behind the
// frames already queued on d when the segment has a rate.
func (s *segment) enqueue(d *port, frame []byte, wait time.Duration) {
	now := time.Now()
	at := now
	if r := s.cfg.Impair.Rate; r > 0 {
		tx := time.Duration(uint64(len(frame)) * 8 * uint64(time.Second) / r)
		d.emu.Lock()
		start := now
		if d.busyUntil.After(now) {
			start = d.busyUntil
		}
		backlog := uint64(start.Sub(now)) * r / 8 / uint64(time.Second)
		if backlog+uint64(len(frame)) > uint64(s.cfg.Impair.QueueBytes) {
			d.emu.Unlock()
			s.stats.queueDrops.Add(1)
			return
		}
		d.busyUntil = start.Add(tx)
		at = d.busyUntil
		d.emu.Unlock()
	}
	bp := s.bufs.get(len(frame))
	copy(*bp, frame)
	if !s.sched.push(at.Add(wait), d, bp) {
		s.bufs.put(bp)
		s.stats.queueDrops.Add(1)
	}
}

// route learns the frame's source MAC on port in and returns the ports to
// send it to, appended to dsts.
func (s *segment) route(in *port, frame []byte, dsts []*port) []*port {
	var dst, src mac
	copy(dst[:], frame[0:macLen])
	copy(src[:], frame[macLen:2*macLen])
	s.mu.RLock()
	known := s.macs[src] == in
	out, ok := s.macs[dst]
	if dst[0]&1 == 0 && ok {
		if out != in {
			dsts = append(dsts, out)
		}
	} else {
		s.stats.flooded.Add(1)
		for _, p := range s.ports {
			if p != in && !p.dead.Load() {
				dsts = append(dsts, p)
			}
		}
	}
	s.mu.RUnlock()
	if !known && src[0]&1 == 0 {
		s.mu.Lock()
		if !in.dead.Load() {
			s.macs[src] = in
		}
		s.mu.Unlock()
	}
	return dsts
}
