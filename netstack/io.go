package netstack

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Cmsg is one control message of SendMsg/RecvMsg.
type Cmsg struct {
	Level int32
	Type  int32
	Data  []byte
}

// Send writes data to connected fd. A blocking stream send returns when
// all of data is queued (or, cut short by ctx or an error after a part
// was queued, with the part's length); MSG_DONTWAIT or a non-blocking
// socket queues what fits and reports EAGAIN only when nothing did.
func (s *Sockets) Send(ctx context.Context, client uint32, fd int32, data []byte, flags uint32) (uint32, error) {
	return s.SendTo(ctx, client, fd, data, flags, netip.AddrPort{})
}

// SendTo is Send to addr: the destination of a datagram socket (an
// invalid addr means its connected peer); stream sockets ignore it.
func (s *Sockets) SendTo(ctx context.Context, client uint32, fd int32, data []byte, flags uint32, addr netip.AddrPort) (uint32, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return 0, err
	}
	if flags&MSG_OOB != 0 {
		return 0, syscall.EOPNOTSUPP
	}
	opts := tcpip.WriteOptions{More: flags&MSG_MORE != 0, EndOfRecord: flags&MSG_EOR != 0}
	dontwait := flags&MSG_DONTWAIT != 0
	if k.stream() {
		return k.sendStream(ctx, data, dontwait, opts)
	}
	if addr.Addr().IsValid() {
		fa, e := toFull(k.domain, addr)
		if e != 0 {
			return 0, e
		}
		opts.To = &fa
	}
	opts.Atomic = true
	var n int64
	err = k.block(ctx, dontwait, waiter.WritableEvents, func() tcpip.Error {
		var terr tcpip.Error
		n, terr = k.ep.Write(bytes.NewReader(data), opts)
		return terr
	})
	return uint32(n), err
}

func (k *sock) sendStream(ctx context.Context, data []byte, dontwait bool, opts tcpip.WriteOptions) (uint32, error) {
	if len(data) > MaxData {
		return 0, syscall.EMSGSIZE
	}
	done := 0
	var w *watcher
	defer func() {
		if w != nil {
			w.stop()
		}
	}()
	for done < len(data) {
		n, terr := k.ep.Write(bytes.NewReader(data[done:]), opts)
		done += int(n)
		switch {
		case terr == nil:
			continue
		case !wouldBlock(terr):
			if done > 0 {
				return uint32(done), nil
			}
			return 0, errOf(terr)
		case dontwait || k.nonblock.Load():
			if done > 0 {
				return uint32(done), nil
			}
			return 0, syscall.EAGAIN
		case w == nil:
			w = k.watch(waiter.WritableEvents) // then try again before waiting
			continue
		}
		if err := w.wait(ctx); err != nil {
			if done > 0 {
				return uint32(done), nil
			}
			return 0, err
		}
	}
	return uint32(done), nil
}

// SendMsg is SendTo of a connected socket with control messages. No
// control message is understood yet (kTLS will add TLS_SET_RECORD_TYPE):
// any is EINVAL.
func (s *Sockets) SendMsg(ctx context.Context, client uint32, fd int32, data []byte, control []Cmsg, flags uint32) (uint32, error) {
	if len(control) > 0 {
		if _, err := s.lookup(client, fd); err != nil {
			return 0, err
		}
		return 0, syscall.EINVAL
	}
	return s.Send(ctx, client, fd, data, flags)
}

// Recv reads up to size bytes (clamped to MaxData). An empty result with
// a nil error is the end of the stream. Flags: MSG_PEEK, MSG_DONTWAIT,
// MSG_WAITALL (streams: wait for size bytes, EOF or an error).
func (s *Sockets) Recv(ctx context.Context, client uint32, fd int32, size uint32, flags uint32) ([]byte, error) {
	data, _, _, err := s.recv(ctx, client, fd, size, flags, false)
	return data, err
}

// RecvFrom is Recv that also reports the sender (a stream socket's peer).
func (s *Sockets) RecvFrom(ctx context.Context, client uint32, fd int32, size uint32, flags uint32) ([]byte, netip.AddrPort, error) {
	data, from, _, err := s.recv(ctx, client, fd, size, flags, true)
	return data, from, err
}

// RecvMsg is Recv with control messages (none yet) and message flags:
// MSG_TRUNC when a datagram was longer than size.
func (s *Sockets) RecvMsg(ctx context.Context, client uint32, fd int32, size uint32, flags uint32) ([]byte, []Cmsg, uint32, error) {
	data, _, trunc, err := s.recv(ctx, client, fd, size, flags, false)
	var mf uint32
	if trunc {
		mf |= MSG_TRUNC
	}
	return data, nil, mf, err
}

func (s *Sockets) recv(ctx context.Context, client uint32, fd int32, size, flags uint32, needAddr bool) ([]byte, netip.AddrPort, bool, error) {
	k, err := s.lookup(client, fd)
	if err != nil {
		return nil, netip.AddrPort{}, false, err
	}
	if flags&MSG_OOB != 0 {
		return nil, netip.AddrPort{}, false, syscall.EINVAL
	}
	size = min(size, MaxData)
	opts := tcpip.ReadOptions{Peek: flags&MSG_PEEK != 0, NeedRemoteAddr: needAddr && !k.stream()}
	var buf bytes.Buffer
	var res tcpip.ReadResult
	eof := false
	read := func() tcpip.Error {
		if buf.Cap() == 0 {
			buf.Grow(k.readHint(int(size)))
		}
		var dst io.Writer = &tcpip.LimitedWriter{W: &buf, N: int64(int(size) - buf.Len())}
		if !k.stream() {
			dst = &truncWriter{buf: &buf, n: int(size)}
		}
		var terr tcpip.Error
		res, terr = k.ep.Read(dst, opts)
		if _, ok := terr.(*tcpip.ErrClosedForReceive); ok {
			eof = true
			return nil
		}
		return terr
	}
	dontwait := flags&MSG_DONTWAIT != 0
	if size > 0 || !k.stream() { // a datagram is read (and consumed) even into no room
		err = k.block(ctx, dontwait, waiter.ReadableEvents, read)
	}
	waitAll := flags&MSG_WAITALL != 0 && k.stream() && !opts.Peek
	for err == nil && waitAll && !eof && buf.Len() < int(size) {
		if err = k.block(ctx, dontwait, waiter.ReadableEvents, read); err != nil && buf.Len() > 0 {
			err = nil
			break
		}
	}
	if err != nil {
		return nil, netip.AddrPort{}, false, err
	}
	from := res.RemoteAddr
	if k.stream() && needAddr {
		from, _ = k.ep.GetRemoteAddress()
	}
	var fromAP netip.AddrPort
	if needAddr {
		fromAP = fromFull(k.domain, from)
	}
	return buf.Bytes(), fromAP, !k.stream() && res.Total > buf.Len(), nil
}

// truncWriter keeps the first n bytes of a datagram and drops the rest
// without complaint (a LimitedWriter's short write fails a read into no
// room).
type truncWriter struct {
	buf *bytes.Buffer
	n   int
}

func (w *truncWriter) Write(p []byte) (int, error) {
	if room := w.n - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// readHint is how much room a read of up to size bytes needs: what a
// stream has queued, else a datagram's largest size.
func (k *sock) readHint(size int) int {
	if k.stream() {
		if q, terr := k.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); terr == nil {
			return min(size, q)
		}
	}
	return min(size, 1<<16)
}
