package vnet

import (
	"golang.org/x/sys/unix"

	"capsim/netstack/mmsg"
)

// outbox collects the frames one read batch forwards, so that each output
// port gets them with one sendmmsg(2) instead of one write(2) each. It is
// owned by a port's reader goroutine; the frames point into that reader's
// batch and are valid until its next read.
type outbox struct {
	dsts   []*port
	frames [][]byte
	iovs   []unix.Iovec
	hdrs   []mmsg.Hdr
}

// add queues frame for port d.
func (o *outbox) add(d *port, frame []byte) {
	o.dsts = append(o.dsts, d)
	o.frames = append(o.frames, frame)
}

// flush sends the queued frames, each port's in the order they were
// added, and empties the outbox.
func (o *outbox) flush() {
	for len(o.dsts) > 0 {
		d := o.dsts[0]
		o.iovs, o.hdrs = o.iovs[:0], o.hdrs[:0]
		rest := 0 // frames for other ports move to the front
		for i, p := range o.dsts {
			if p != d {
				o.dsts[rest], o.frames[rest] = p, o.frames[i]
				rest++
				continue
			}
			var iov unix.Iovec
			iov.Base = &o.frames[i][0]
			iov.SetLen(len(o.frames[i]))
			o.iovs = append(o.iovs, iov)
		}
		for i := range o.iovs {
			var h mmsg.Hdr
			h.SetIovec(&o.iovs[i])
			o.hdrs = append(o.hdrs, h)
		}
		d.sendBatch(o.hdrs)
		clear(o.frames[rest:])
		o.dsts, o.frames = o.dsts[:rest], o.frames[:rest]
	}
}
