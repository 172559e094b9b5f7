package tls

import (
	"encoding/binary"
	"strings"
	"syscall"
)

// LevelTLS is capsim's IPPROTO_TLS: the socket-option level the terminator
// handles itself. 0x544C is "TL" in ASCII; it differs from Linux's SOL_TLS
// (282, kTLS), which passes through to the backend like every other level.
const LevelTLS int32 = 0x544C

// Option names at LevelTLS (docs/TLS.md has the value encodings).
const (
	// OptServerName: set/get the server name, sent as SNI and verified
	// (bytes of the name; one trailing NUL is ignored; at most 255 bytes;
	// empty clears). Settable only before Connect.
	OptServerName int32 = 1
	// OptRequireOCSP: set only; a little-endian int32 (or one byte),
	// nonzero requires a good OCSP staple from the server.
	OptRequireOCSP int32 = 2
	// OptSessionID: get only; SessionIDSize bytes (ENOTCONN before the
	// handshake).
	OptSessionID int32 = 3
	// OptVerifyResult: get only; the VerifyResult of the last handshake
	// as a little-endian uint32 (0 before any).
	OptVerifyResult int32 = 4
)

// maxServerName is the longest server name (DNS limit).
const maxServerName = 255

// SockOpts is the TLS state of one socket that the options read and write.
type SockOpts struct {
	ServerName  string
	RequireOCSP bool
	// Connected is set once Connect or Accept started a handshake: the
	// name and the OCSP requirement no longer change.
	Connected bool
	// SessionID is set after a successful handshake.
	SessionID []byte
	// Result is the last handshake's verification result.
	Result VerifyResult
}

// Set handles SetSockOpt(LevelTLS, name, value). The error is a
// syscall.Errno: ENOPROTOOPT for an unknown or get-only option, EINVAL for
// a malformed value, EISCONN after the handshake started.
func (o *SockOpts) Set(name int32, value []byte) error {
	switch name {
	case OptServerName:
		if o.Connected {
			return syscall.EISCONN
		}
		v := strings.TrimSuffix(string(value), "\x00")
		if len(v) > maxServerName || strings.ContainsAny(v, "\x00/ ") {
			return syscall.EINVAL
		}
		o.ServerName = v
		return nil
	case OptRequireOCSP:
		if o.Connected {
			return syscall.EISCONN
		}
		on, ok := boolValue(value)
		if !ok {
			return syscall.EINVAL
		}
		o.RequireOCSP = on
		return nil
	}
	return syscall.ENOPROTOOPT
}

func boolValue(v []byte) (bool, bool) {
	switch len(v) {
	case 1:
		return v[0] != 0, true
	case 4:
		return binary.LittleEndian.Uint32(v) != 0, true
	}
	return false, false
}

// Get handles GetSockOpt(LevelTLS, name, size): the value, cut to size
// bytes as getsockopt does. The error is a syscall.Errno: ENOPROTOOPT for
// an unknown or set-only option, EINVAL for a size too small for an
// integer, ENOTCONN for the session id before a handshake.
func (o *SockOpts) Get(name int32, size uint32) ([]byte, error) {
	var v []byte
	switch name {
	case OptServerName:
		v = []byte(o.ServerName)
	case OptSessionID:
		if o.SessionID == nil {
			return nil, syscall.ENOTCONN
		}
		v = o.SessionID
	case OptVerifyResult:
		if size < 4 {
			return nil, syscall.EINVAL
		}
		v = binary.LittleEndian.AppendUint32(nil, uint32(o.Result))
	default:
		return nil, syscall.ENOPROTOOPT
	}
	if uint32(len(v)) > size {
		v = v[:size]
	}
	return append([]byte(nil), v...), nil
}
