package tls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
)

func TestSockOptsSet(t *testing.T) {
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	tests := []struct {
		name      string
		connected bool
		opt       int32
		value     []byte
		want      error
		check     func(*SockOpts) bool
	}{
		{"sni", false, OptServerName, []byte("cloud"), nil, func(o *SockOpts) bool { return o.ServerName == "cloud" }},
		{"sni with NUL", false, OptServerName, []byte("cloud\x00"), nil, func(o *SockOpts) bool { return o.ServerName == "cloud" }},
		{"sni clear", false, OptServerName, nil, nil, func(o *SockOpts) bool { return o.ServerName == "" }},
		{"sni inner NUL", false, OptServerName, []byte("a\x00b"), syscall.EINVAL, nil},
		{"sni too long", false, OptServerName, bytes.Repeat([]byte("a"), 256), syscall.EINVAL, nil},
		{"sni after connect", true, OptServerName, []byte("cloud"), syscall.EISCONN, nil},
		{"ocsp on int", false, OptRequireOCSP, le(1), nil, func(o *SockOpts) bool { return o.RequireOCSP }},
		{"ocsp on byte", false, OptRequireOCSP, []byte{1}, nil, func(o *SockOpts) bool { return o.RequireOCSP }},
		{"ocsp off", false, OptRequireOCSP, le(0), nil, func(o *SockOpts) bool { return !o.RequireOCSP }},
		{"ocsp bad size", false, OptRequireOCSP, []byte{1, 0}, syscall.EINVAL, nil},
		{"ocsp after connect", true, OptRequireOCSP, le(1), syscall.EISCONN, nil},
		{"session id is get-only", false, OptSessionID, le(1), syscall.ENOPROTOOPT, nil},
		{"verify result is get-only", false, OptVerifyResult, le(1), syscall.ENOPROTOOPT, nil},
		{"unknown", false, 99, nil, syscall.ENOPROTOOPT, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &SockOpts{Connected: tt.connected}
			err := o.Set(tt.opt, tt.value)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Set = %v, want %v", err, tt.want)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("state %+v", o)
			}
		})
	}
}

func TestSockOptsGet(t *testing.T) {
	id := bytes.Repeat([]byte{7}, SessionIDSize)
	done := &SockOpts{ServerName: "cloud", SessionID: id, Result: Expired | NameMismatch, Connected: true}
	tests := []struct {
		name string
		o    *SockOpts
		opt  int32
		size uint32
		want []byte
		err  error
	}{
		{"sni", done, OptServerName, 255, []byte("cloud"), nil},
		{"sni cut", done, OptServerName, 3, []byte("clo"), nil},
		{"session id", done, OptSessionID, 1024, id, nil},
		{"session id before handshake", &SockOpts{}, OptSessionID, 1024, nil, syscall.ENOTCONN},
		{"verify result", done, OptVerifyResult, 4, []byte{0x0a, 0, 0, 0}, nil},
		{"verify result before handshake", &SockOpts{}, OptVerifyResult, 8, []byte{0, 0, 0, 0}, nil},
		{"verify result small", done, OptVerifyResult, 2, nil, syscall.EINVAL},
		{"require ocsp is set-only", done, OptRequireOCSP, 4, nil, syscall.ENOPROTOOPT},
		{"unknown", done, -1, 4, nil, syscall.ENOPROTOOPT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.Get(tt.opt, tt.size)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || !bytes.Equal(got, tt.want) {
				t.Fatalf("Get = %x, %v; want %x, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestVerifyResultString(t *testing.T) {
	tests := []struct {
		r    VerifyResult
		want string
	}{
		{0, "ok"},
		{NotTrusted, "not-trusted"},
		{Expired | NameMismatch, "expired|name-mismatch"},
		{Revoked | OCSPBad | Other, "revoked|ocsp-bad|other"},
		{1 << 31, "unknown"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%#x: %q, want %q", uint32(tt.r), got, tt.want)
		}
	}
}

func FuzzSockOpts(f *testing.F) {
	f.Add(int32(OptServerName), []byte("cloud\x00"), uint32(255))
	f.Add(int32(OptRequireOCSP), []byte{1, 0, 0, 0}, uint32(4))
	f.Add(int32(OptVerifyResult), []byte{}, uint32(2))
	f.Fuzz(func(t *testing.T, name int32, value []byte, size uint32) {
		o := &SockOpts{}
		if err := o.Set(name, value); err == nil && name == OptServerName {
			got, err := o.Get(OptServerName, 1024)
			if err != nil || len(got) > maxServerName || bytes.IndexByte(got, 0) >= 0 {
				t.Fatalf("Set(%q) then Get = %q, %v", value, got, err)
			}
		}
		if got, err := o.Get(name, size); err == nil && uint32(len(got)) > size {
			t.Fatalf("Get(%d, %d) returned %d bytes", name, size, len(got))
		}
	})
}
