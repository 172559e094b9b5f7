package tls

import (
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"

	"capsim/api/capsim/socket"
)

// readSize is the most plaintext one fill reads (a TLS record holds at most
// 16 KiB).
const readSize = 32 << 10

// Session is one established TLS connection. Reads decrypt into a small
// buffer. A Recv that cannot be cancelled (Read) decrypts in its own
// goroutine; a cancellable Recv, a poller (Readable, Changed) or a
// non-blocking Recv that finds nothing starts one background read and
// waits for it, so readiness is known without a read by the client, a
// cancelled Recv returns at once, and no decrypted byte is lost.
type Session struct {
	conn    *gotls.Conn
	state   gotls.ConnectionState
	id      []byte
	peer    string
	log     *slog.Logger
	wmu     sync.Mutex // serialises writes and CloseWrite
	mu      sync.Mutex
	buf     []byte
	rerr    error // sticky: io.EOF after close_notify
	reading bool  // a fill is in flight (owns rtmp)
	closed  bool
	rtmp    []byte
	notify  chan struct{} // closed and replaced on every change of buf or rerr
}

func newSession(conn *gotls.Conn, peer string, log *slog.Logger) *Session {
	s := &Session{
		conn:   conn,
		state:  conn.ConnectionState(),
		peer:   peer,
		log:    log,
		rtmp:   make([]byte, readSize),
		notify: make(chan struct{}),
	}
	s.id = sessionID(&s.state)
	return s
}

// fill decrypts what the next read gives into buf, and then, over a
// downConn, the records already received (up to socket.MaxData buffered),
// so that one Recv of the client can take more than one record. The
// caller has set reading under mu.
func (s *Session) fill() {
	n, err := s.conn.Read(s.rtmp)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, s.rtmp[:n]...)
	if dc, ok := s.netConn().(*downConn); ok && err == nil {
		// Room for what has arrived (ciphertext: at least the plaintext),
		// so that gathering it does not grow the buffer step by step.
		if more := min(dc.buffered(), socket.MaxData-len(s.buf)); more > 0 {
			s.buf = slices.Grow(s.buf, more)
		}
		dc.noWait.Store(true)
		for err == nil && len(s.buf) < socket.MaxData && !s.closed {
			s.mu.Unlock()
			n, err = s.conn.Read(s.rtmp)
			s.mu.Lock()
			s.buf = append(s.buf, s.rtmp[:n]...)
		}
		dc.noWait.Store(false)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil // nothing more received yet
		}
	}
	if err == io.EOF && s.truncated() {
		err = errTruncated
	}
	if err != nil {
		s.rerr = err
		if !errors.Is(err, io.EOF) {
			s.log.Debug("tls read ended", "err", err)
		}
	}
	s.reading = false
	s.changedLocked()
}

// netConn is the connection the session runs over (a downConn in the
// terminator).
func (s *Session) netConn() net.Conn {
	if ec, ok := s.conn.NetConn().(*eofConn); ok {
		return ec.Conn
	}
	return s.conn.NetConn()
}

// truncated reports, after crypto/tls returned io.EOF, whether the
// connection ended without close_notify.
func (s *Session) truncated() bool {
	ec, ok := s.conn.NetConn().(*eofConn)
	return ok && ec.eof.Load()
}

// backgroundLocked starts a background fill when nothing is buffered and
// none is in flight, so that a poller learns of the next data.
func (s *Session) backgroundLocked() {
	if s.reading || len(s.buf) > 0 || s.rerr != nil || s.closed {
		return
	}
	s.reading = true
	go s.fill()
}

func (s *Session) changedLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// Changed returns a channel closed at the next change of readiness. Call
// Readable after it fires, then Changed again.
func (s *Session) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backgroundLocked()
	return s.notify
}

// Readable reports whether a Recv would not block: decrypted data is
// buffered, or the stream ended (close_notify or an error).
func (s *Session) Readable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backgroundLocked()
	return len(s.buf) > 0 || s.rerr != nil
}

// Ended reports whether the stream ended and everything was read.
func (s *Session) Ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rerr != nil && len(s.buf) == 0
}

// Buffered returns the number of decrypted bytes waiting to be read.
func (s *Session) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf)
}

// Recv copies decrypted data into p. It blocks until data is there, the
// stream ends or ctx is done, unless dontWait (then syscall.EAGAIN). At
// the end of the stream it returns 0, io.EOF (after the peer's
// close_notify) or the read error. peek leaves the data buffered. Data
// decrypted for a Recv whose ctx ended meanwhile stays buffered.
func (s *Session) Recv(ctx context.Context, p []byte, peek, dontWait bool) (int, error) {
	if err := s.waitLocked(ctx, dontWait); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		return 0, s.rerr
	}
	n := copy(p, s.buf)
	if !peek {
		s.consumeLocked(n)
	}
	return n, nil
}

// Take is Recv returning up to max bytes in a slice of their own: when
// all that is buffered is taken, the buffer itself is handed over, with
// no copy and no buffer of max bytes to clear.
func (s *Session) Take(ctx context.Context, max int, peek, dontWait bool) ([]byte, error) {
	if err := s.waitLocked(ctx, dontWait); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		return nil, s.rerr
	}
	n := min(max, len(s.buf))
	if n == len(s.buf) && !peek {
		data := s.buf
		s.buf = nil
		return data, nil
	}
	data := append([]byte(nil), s.buf[:n]...)
	if !peek {
		s.consumeLocked(n)
	}
	return data, nil
}

// waitLocked waits until data is buffered or the stream ended, and then
// returns nil with s.mu held; any error is returned with s.mu released
// (see Recv).
func (s *Session) waitLocked(ctx context.Context, dontWait bool) error {
	s.mu.Lock()
	for len(s.buf) == 0 && s.rerr == nil {
		switch {
		case s.closed:
			s.mu.Unlock()
			return net.ErrClosed
		case dontWait:
			s.backgroundLocked()
			s.mu.Unlock()
			return syscall.EAGAIN
		case !s.reading && ctx.Done() == nil:
			// Nothing can cancel this call: decrypt here, no hand-off.
			s.reading = true
			s.mu.Unlock()
			s.fill()
		default:
			s.backgroundLocked()
			ch := s.notify
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
	}
	return nil
}

// consumeLocked drops the first n buffered bytes.
func (s *Session) consumeLocked(n int) {
	s.buf = s.buf[n:]
	if len(s.buf) == 0 {
		s.buf = s.buf[:0:0]
	}
}

// Read implements io.Reader: Recv without a deadline.
func (s *Session) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return s.Recv(context.Background(), p, false, false)
}

// Write encrypts p and sends it as TLS records.
func (s *Session) Write(p []byte) (int, error) { return s.WriteContext(context.Background(), p) }

// WriteContext is Write for the caller of ctx: over a downConn, when ctx
// ends the downstream Sends end too, and then, as after a write
// timeout, the session can write no more (a record may be cut).
func (s *Session) WriteContext(ctx context.Context, p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	dc, ok := s.netConn().(*downConn)
	if !ok {
		return s.conn.Write(p)
	}
	dc.beginBatch(ctx) // one downstream Send for the records, not one each
	n, err := s.conn.Write(p)
	if ferr := dc.endBatch(); err == nil && ferr != nil {
		return 0, ferr
	}
	return n, err
}

// CloseWrite sends close_notify; the session can still read.
func (s *Session) CloseWrite() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.conn.CloseWrite()
}

// Close ends the session: close_notify if not yet sent, then the
// underlying connection is closed; a read in flight ends.
func (s *Session) Close() error {
	s.mu.Lock()
	s.closed = true
	s.changedLocked()
	s.mu.Unlock()
	return s.conn.Close()
}

// ID is the session id: SessionIDSize bytes, equal on both ends.
func (s *Session) ID() []byte { return s.id }

// State is the connection state after the handshake.
func (s *Session) State() gotls.ConnectionState { return s.state }

// ServerName is the name the client sent (SNI), as both ends see it.
func (s *Session) ServerName() string { return s.state.ServerName }

// PeerCertificates is the chain the peer presented.
func (s *Session) PeerCertificates() []*x509.Certificate { return s.state.PeerCertificates }
