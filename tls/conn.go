package tls

import (
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"sync"
	"syscall"
)

// maxBuffered bounds the decrypted bytes a session reads ahead of its
// reader; a reader that stops reading stops the pump, and TCP's window
// then stops the peer.
const maxBuffered = 256 << 10

// Session is one established TLS connection. A pump goroutine decrypts
// ahead into a bounded buffer so that readiness (Readable) is known
// without a read, as poll needs.
type Session struct {
	conn   *gotls.Conn
	state  gotls.ConnectionState
	id     []byte
	peer   string
	log    *slog.Logger
	wmu    sync.Mutex // serialises writes and CloseWrite
	mu     sync.Mutex
	buf    []byte
	rerr   error // sticky: io.EOF after close_notify
	closed bool
	notify chan struct{} // closed and replaced on every change of buf or rerr
	done   chan struct{} // closed when the pump has ended
}

func newSession(conn *gotls.Conn, peer string, log *slog.Logger) *Session {
	s := &Session{
		conn:   conn,
		state:  conn.ConnectionState(),
		peer:   peer,
		log:    log,
		notify: make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.id = sessionID(&s.state)
	go s.pump()
	return s
}

// pump decrypts records into buf until an error or close_notify.
func (s *Session) pump() {
	defer close(s.done)
	tmp := make([]byte, 32<<10)
	for {
		if !s.waitSpace() {
			return
		}
		n, err := s.conn.Read(tmp)
		s.mu.Lock()
		s.buf = append(s.buf, tmp[:n]...)
		if err != nil {
			s.rerr = err
		}
		s.changedLocked()
		s.mu.Unlock()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Debug("tls read ended", "err", err)
			}
			return
		}
	}
}

// waitSpace blocks while the buffer is full; false when the session ended.
func (s *Session) waitSpace() bool {
	for {
		s.mu.Lock()
		if s.rerr != nil || s.closed {
			s.mu.Unlock()
			return false
		}
		if len(s.buf) < maxBuffered {
			s.mu.Unlock()
			return true
		}
		ch := s.notify
		s.mu.Unlock()
		<-ch
	}
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
	return s.notify
}

// Readable reports whether a Recv would not block: decrypted data is
// buffered, or the stream ended (close_notify or an error).
func (s *Session) Readable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf) > 0 || s.rerr != nil
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
// close_notify) or the read error. peek leaves the data buffered.
func (s *Session) Recv(ctx context.Context, p []byte, peek, dontWait bool) (int, error) {
	for {
		s.mu.Lock()
		if len(s.buf) > 0 || s.rerr != nil {
			break
		}
		ch := s.notify
		s.mu.Unlock()
		if dontWait {
			return 0, syscall.EAGAIN
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	defer s.mu.Unlock()
	if len(s.buf) == 0 {
		return 0, s.rerr
	}
	n := copy(p, s.buf)
	if !peek {
		s.buf = s.buf[n:]
		if len(s.buf) == 0 {
			s.buf = nil
		}
		s.changedLocked() // room for the pump
	}
	return n, nil
}

// Read implements io.Reader: Recv without a deadline.
func (s *Session) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return s.Recv(context.Background(), p, false, false)
}

// Write encrypts p and sends it as TLS records.
func (s *Session) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.conn.Write(p)
}

// CloseWrite sends close_notify; the session can still read.
func (s *Session) CloseWrite() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.conn.CloseWrite()
}

// Close ends the session: close_notify if not yet sent, then the
// underlying connection is closed and the pump ends.
func (s *Session) Close() error {
	s.mu.Lock()
	s.closed = true
	s.changedLocked()
	s.mu.Unlock()
	return s.conn.Close()
}

// Done is closed when the pump has stopped reading (end of stream, error
// or Close).
func (s *Session) Done() <-chan struct{} { return s.done }

// ID is the session id: SessionIDSize bytes, equal on both ends.
func (s *Session) ID() []byte { return s.id }

// State is the connection state after the handshake.
func (s *Session) State() gotls.ConnectionState { return s.state }

// ServerName is the name the client sent (SNI), as both ends see it.
func (s *Session) ServerName() string { return s.state.ServerName }

// PeerCertificates is the chain the peer presented.
func (s *Session) PeerCertificates() []*x509.Certificate { return s.state.PeerCertificates }
