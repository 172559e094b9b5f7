// Package tls is the TLS core of the TLS terminator entity (kl.TlsEntity,
// seed 000): the per-socket TLS logic over a net.Conn to the downstream
// socket backend, independent of IPC.
//
// Configuration comes from the capsim:tls args (ParseFlags): --ca (file or
// folder, repeatable), --cert/--key, --crl, --ocsp (the staple a server
// serves), --handshake-timeout (default 10s), --log-level, --plugin. FILE
// arguments are paths or fd:N, an inherited descriptor the kernel opened.
//
// Config.Client runs a client handshake with crypto/tls; the server's
// chain is verified by capsim itself (InsecureSkipVerify plus
// VerifyConnection, never the system roots) so that every failure is
// reported as a VerifyResult bit set: NotTrusted 0x1, Expired 0x2,
// NotYetValid 0x4, NameMismatch 0x8, Revoked 0x10 (CRL or OCSP),
// BadKeyUsage 0x20, OCSPMissing 0x40, OCSPBad 0x80, NoCertificate 0x100,
// Other 0x200. Config.Server runs a server handshake with the own
// certificate, stapling the configured OCSP response.
//
// Errnos (HandshakeError.Errno, Errno): EACCES for a failed verification
// (the verify-result option then says why) or a certificate alert from the
// peer; ETIMEDOUT when the handshake timeout fires; ECANCELED when the
// caller gives up; ENOKEY for a server without certificate; ECONNRESET when
// the peer hangs up mid-handshake; EPROTO for other protocol failures.
//
// Socket options at level LevelTLS (capsim's IPPROTO_TLS, 0x544C):
//
//	name              num  set                          get
//	OptServerName     1    name bytes (≤255, NUL ok)     name bytes
//	OptRequireOCSP    2    LE int32 or 1 byte, ≠0 = on   ENOPROTOOPT
//	OptSessionID      3    ENOPROTOOPT                   32 bytes (ENOTCONN before)
//	OptVerifyResult   4    ENOPROTOOPT                   LE uint32 bit set
//
// Setting the name or the OCSP requirement after the handshake started is
// EISCONN. Go's crypto/tls exposes no TLS session id (and TLS 1.3 has none
// on the wire), so the session id is the 32-byte exporter value for label
// "EXPORTER-capsim-session-id" (RFC 5705/8446 keying material; TLS 1.2
// with extended master secret), else SHA-256 of the tls-unique channel
// binding: both ends compute the same id, and it is stable for the session.
//
// A Session decrypts into a small buffer; a poller (Readable, Changed)
// starts a background read, so readiness for poll is known without a read
// by the client. CloseWrite sends close_notify (shutdown); Close ends the
// session.
//
// Terminator implements the generated capsim.Socket server on top of a
// downstream *socket.Client (per-client descriptor tables keyed by the
// badge ID), using a downConn (a net.Conn over one downstream descriptor)
// under each session, and calls the plug-in Hooks (capsim.TlsPlugin) when
// configured. docs/TLS.md is the user documentation.
package tls
