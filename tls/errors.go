package tls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"syscall"
)

// HandshakeError is a failed handshake. Errno is what Connect (client) or
// Accept (server) returns:
//
//	EACCES        the peer's certificate failed verification (Result says
//	              why), or the peer rejected ours (a certificate alert, or
//	              handshake_failure after asking for one we did not have)
//	ETIMEDOUT     the handshake did not finish within the timeout
//	ECANCELED     the caller gave up (cancelled or its deadline passed)
//	ENOKEY        no own certificate configured for a server handshake
//	ECONNRESET    the peer closed the connection during the handshake
//	EPROTO        any other TLS protocol failure (no common version, ...)
type HandshakeError struct {
	Role   string // "client" or "server"
	Peer   string // the expected server name, or the peer address
	Result VerifyResult
	Errno  syscall.Errno
	Err    error
}

func (e *HandshakeError) Error() string {
	if e.Result != 0 {
		return fmt.Sprintf("tls: %s handshake with %s: certificate verification failed: %s", e.Role, e.Peer, e.Result)
	}
	return fmt.Sprintf("tls: %s handshake with %s: %v", e.Role, e.Peer, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// verifyError is what VerifyConnection returns to crypto/tls.
type verifyError struct{ result VerifyResult }

func (e *verifyError) Error() string { return "certificate verification failed: " + e.result.String() }

// errNoCertificate: a server handshake without --cert/--key.
var errNoCertificate = errors.New("no own certificate configured (--cert, --key)")

// errTimeout: the handshake timeout fired.
var errTimeout = errors.New("handshake timed out")

// alertHandshakeFailure is the handshake_failure alert (40).
const alertHandshakeFailure = 40

// Certificate alerts (RFC 8446 §6): the peer rejected our certificate.
var certAlerts = map[uint8]bool{42: true, 43: true, 44: true, 45: true, 46: true, 48: true, 49: true, 116: true}

// remoteAlert returns the alert code of an alert received from the peer.
func remoteAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return 0, false
	}
	v := reflect.ValueOf(op.Err)
	if v.Kind() != reflect.Uint8 {
		return 0, false
	}
	return uint8(v.Uint()), true
}

// classify maps a handshake failure to its errno.
func classify(err error, result VerifyResult) syscall.Errno {
	if result != 0 {
		return syscall.EACCES
	}
	switch {
	case errors.Is(err, errTimeout):
		return syscall.ETIMEDOUT
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.ECANCELED
	case errors.Is(err, errNoCertificate):
		return syscall.ENOKEY
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return syscall.ECONNRESET
	}
	if code, ok := remoteAlert(err); ok && certAlerts[code] {
		return syscall.EACCES
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EPROTO
}

// Errno returns the errno for err: a HandshakeError's, a syscall.Errno as
// is, EPIPE for a closed session, ECONNRESET for a broken one, EACCES for
// a certificate alert (in TLS 1.3 a server that rejects the client's
// certificate says so after the client's handshake is done, so the client
// hears it on its first read), EIO else.
func Errno(err error) syscall.Errno {
	var he *HandshakeError
	var en syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &he):
		return he.Errno
	case errors.As(err, &en):
		return en
	case errors.Is(err, net.ErrClosed):
		return syscall.EPIPE
	case errors.Is(err, io.ErrUnexpectedEOF):
		return syscall.ECONNRESET
	}
	if code, ok := remoteAlert(err); ok && certAlerts[code] {
		return syscall.EACCES
	}
	return syscall.EIO
}
