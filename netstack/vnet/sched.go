package vnet

import (
	"container/heap"
	"sync"
	"time"
)

// scheduler delivers a segment's delayed frames at their due times.
type scheduler struct {
	seg   *segment
	mu    sync.Mutex
	q     frameHeap
	seq   uint64
	bytes int           // bytes of frames queued
	wake  chan struct{} // a frame was queued ahead of the current head
}

// maxScheduled bounds the bytes of frames a segment holds back at once, a
// safety net under the rate queue bound for delay-only links.
const maxScheduled = 64 << 20

type pending struct {
	at  time.Time
	seq uint64 // keeps frames due at the same time in arrival order
	dst *port
	buf *[]byte
}

type frameHeap []pending

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = pending{}
	*h = old[:len(old)-1]
	return x
}

func newScheduler(s *segment) *scheduler {
	return &scheduler{seg: s, wake: make(chan struct{}, 1)}
}

// push queues buf for dst at time at; it refuses when the scheduler is
// full.
func (sc *scheduler) push(at time.Time, dst *port, buf *[]byte) bool {
	sc.mu.Lock()
	if sc.bytes+len(*buf) > maxScheduled {
		sc.mu.Unlock()
		return false
	}
	sc.seq++
	sc.bytes += len(*buf)
	heap.Push(&sc.q, pending{at: at, seq: sc.seq, dst: dst, buf: buf})
	head := sc.q[0].seq == sc.seq
	sc.mu.Unlock()
	if head {
		select {
		case sc.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// run delivers due frames until done is closed.
func (sc *scheduler) run(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, ok := sc.deliverDue()
		if ok {
			timer.Reset(time.Until(next))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-done:
			return
		case <-sc.wake:
		case <-timer.C:
		}
	}
}

// deliverDue sends every frame whose time has come and returns the due
// time of the next one, if any.
func (sc *scheduler) deliverDue() (time.Time, bool) {
	for {
		sc.mu.Lock()
		if len(sc.q) == 0 {
			sc.mu.Unlock()
			return time.Time{}, false
		}
		if head := sc.q[0].at; head.After(time.Now()) {
			sc.mu.Unlock()
			return head, true
		}
		p := heap.Pop(&sc.q).(pending)
		sc.bytes -= len(*p.buf)
		sc.mu.Unlock()
		p.dst.send(*p.buf)
		sc.seg.bufs.put(p.buf)
	}
}

// smallFrame is the size class that holds ACKs and small packets, so a
// queue of them does not pin MTU-sized buffers.
const smallFrame = 2048

// framePool recycles frame copies in two size classes.
type framePool struct {
	small, large sync.Pool
	largeSize    int
}

func (fp *framePool) init(frameMax int) {
	fp.largeSize = max(frameMax, smallFrame)
	fp.small.New = func() any { b := make([]byte, smallFrame); return &b }
	fp.large.New = func() any { b := make([]byte, fp.largeSize); return &b }
}

// get returns a buffer of length n (n <= the frameMax given to init).
func (fp *framePool) get(n int) *[]byte {
	pool := &fp.large
	if n <= smallFrame {
		pool = &fp.small
	}
	bp := pool.Get().(*[]byte)
	*bp = (*bp)[:n]
	return bp
}

func (fp *framePool) put(bp *[]byte) {
	if cap(*bp) == smallFrame {
		fp.small.Put(bp)
	} else {
		fp.large.Put(bp)
	}
}
