package tls

import (
	"context"
	"crypto/sha256"
	gotls "crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// SessionOptions are the per-socket settings of one handshake.
type SessionOptions struct {
	// ServerName is, for a client, the name sent as SNI and verified
	// against the server's certificate; empty means the peer's address.
	ServerName string
	// RequireOCSP makes a missing, bad or revoked OCSP staple fail the
	// client handshake.
	RequireOCSP bool
	// VerifyClient makes a server require a client certificate and verify
	// it against the configured CAs (client auth usage, no name check).
	VerifyClient bool
	// Timeout bounds the handshake; 0 means Config.HandshakeTimeout.
	Timeout time.Duration
}

// SessionIDSize is the length of Session.ID.
const SessionIDSize = 32

// sessionIDLabel is the exporter label of the session id (RFC 5705/8446).
const sessionIDLabel = "EXPORTER-capsim-session-id"

func (c *Config) timeout(o SessionOptions) time.Duration {
	switch {
	case o.Timeout > 0:
		return o.Timeout
	case c.HandshakeTimeout > 0:
		return c.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// Client runs a client handshake over conn, verifying the server as
// described in VerifyResult. On failure it closes conn and returns a
// *HandshakeError; its Result holds the verification flags.
func (c *Config) Client(ctx context.Context, conn net.Conn, o SessionOptions) (*Session, error) {
	name := o.ServerName
	if name == "" {
		name = hostOf(conn.RemoteAddr())
	}
	var result VerifyResult
	noCert := false // the server asked for a client certificate and we had none
	tc := &gotls.Config{
		ServerName:         name,
		InsecureSkipVerify: true, // verified by VerifyConnection, to compute the flags
		MinVersion:         gotls.VersionTLS12,
		VerifyConnection: func(cs gotls.ConnectionState) error {
			chk := c.check(x509.ExtKeyUsageServerAuth, name, cs.OCSPResponse, o.RequireOCSP)
			if result = chk.verify(cs.PeerCertificates); result != 0 {
				return &verifyError{result}
			}
			return nil
		},
		GetClientCertificate: func(*gotls.CertificateRequestInfo) (*gotls.Certificate, error) {
			if c.Certificate == nil {
				noCert = true
				return &gotls.Certificate{}, nil
			}
			return c.Certificate, nil
		},
	}
	tconn := gotls.Client(&eofConn{Conn: conn}, tc)
	return c.handshake(ctx, tconn, "client", name, o, &result, &noCert)
}

// Server runs a server handshake over conn with the configured certificate
// (stapling the configured OCSP response). On failure it closes conn and
// returns a *HandshakeError.
func (c *Config) Server(ctx context.Context, conn net.Conn, o SessionOptions) (*Session, error) {
	peer := conn.RemoteAddr().String()
	if c.Certificate == nil {
		conn.Close()
		return nil, &HandshakeError{Role: "server", Peer: peer, Errno: classify(errNoCertificate, 0), Err: errNoCertificate}
	}
	var result VerifyResult
	tc := &gotls.Config{
		Certificates: []gotls.Certificate{*c.Certificate},
		MinVersion:   gotls.VersionTLS12,
	}
	// One ticket key for every handshake of this terminator: with a
	// config of its own per handshake, crypto/tls would make a new key
	// each time and no ticket it issued could ever be used.
	tc.SetSessionTicketKeys([][32]byte{c.sessionTicketKey()})
	if o.VerifyClient {
		tc.ClientAuth = gotls.RequestClientCert // none: VerifyConnection reports NoCertificate
		// Named in the certificate request, so that a client holding
		// several certificates picks one these CAs issued; RequestClientCert
		// leaves the verification to VerifyConnection.
		tc.ClientCAs = c.Roots
		tc.VerifyConnection = func(cs gotls.ConnectionState) error {
			chk := c.check(x509.ExtKeyUsageClientAuth, "", nil, false)
			if result = chk.verify(cs.PeerCertificates); result != 0 {
				return &verifyError{result}
			}
			return nil
		}
	}
	return c.handshake(ctx, gotls.Server(&eofConn{Conn: conn}, tc), "server", peer, o, &result, nil)
}

func (c *Config) check(usage x509.ExtKeyUsage, name string, staple []byte, require bool) *peerCheck {
	return &peerCheck{roots: c.Roots, crls: c.CRLs, usage: usage, name: name, staple: staple, require: require, now: c.now()}
}

// handshake runs the handshake of tconn. noCert, for a client, is set
// when the server asked for a certificate and the client had none.
func (c *Config) handshake(ctx context.Context, tconn *gotls.Conn, role, peer string, o SessionOptions, result *VerifyResult, noCert *bool) (*Session, error) {
	log := c.logger().With("role", role, "peer", peer)
	hctx, cancel := context.WithTimeoutCause(ctx, c.timeout(o), errTimeout)
	defer cancel()
	err := tconn.HandshakeContext(hctx)
	if err != nil {
		if context.Cause(hctx) == errTimeout && ctx.Err() == nil {
			err = errTimeout
		}
		tconn.Close()
		he := &HandshakeError{Role: role, Peer: peer, Result: *result, Errno: classify(err, *result), Err: err}
		if code, ok := remoteAlert(err); ok && code == alertHandshakeFailure && noCert != nil && *noCert {
			// The server asked for a certificate, we had none, and it
			// ended the handshake: in TLS 1.2 servers say so with
			// handshake_failure (OpenSSL; RFC 5246 §7.4.6), not with a
			// certificate alert.
			he.Errno = syscall.EACCES
		}
		log.Info("tls handshake failed", "err", he, "errno", he.Errno.Error(), "verify", result.String())
		return nil, he
	}
	s := newSession(tconn, peer, log)
	log.Debug("tls handshake done", "version", gotls.VersionName(s.state.Version),
		"cipher", gotls.CipherSuiteName(s.state.CipherSuite), "resumed", s.state.DidResume,
		"session", hex.EncodeToString(s.ID()))
	return s, nil
}

// eofConn is the connection under a session. It records whether a read
// reached the end of the stream: crypto/tls reports a peer that closed
// the connection at a record boundary without close_notify as io.EOF,
// just as it reports close_notify, and only the connection can tell them
// apart (after close_notify crypto/tls reads no further).
type eofConn struct {
	net.Conn
	eof atomic.Bool
}

func (c *eofConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}

// errTruncated: the peer closed the connection without close_notify, so
// what was received may be cut short (RFC 8446 §6.1). It wraps
// io.ErrUnexpectedEOF: Errno makes it ECONNRESET.
var errTruncated = fmt.Errorf("tls: the peer closed the connection without close_notify: %w", io.ErrUnexpectedEOF)

// hostOf returns the host part of a network address ("10.0.0.2").
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// sessionID derives a stable id that both ends compute alike: an exporter
// value (TLS 1.3, or TLS 1.2 with extended master secret), else a hash of
// the tls-unique channel binding.
func sessionID(cs *gotls.ConnectionState) []byte {
	if id, err := cs.ExportKeyingMaterial(sessionIDLabel, nil, SessionIDSize); err == nil {
		return id
	}
	sum := sha256.Sum256(cs.TLSUnique)
	return sum[:]
}
