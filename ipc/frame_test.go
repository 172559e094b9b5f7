package ipc

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	h := Header{Kind: KindCall, Handle: 7, Txn: 1 << 40, Endpoint: 2, Method: 3, Status: OK, Deadline: 123456789}
	slots := []Slot{{Handle: 5, Rights: RightCall}, {Handle: 9, Rights: RightsAll}}
	b := Append(nil, h, slots, []byte("payload"))
	f, err := Decode(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.NHandles = 2
	if f.Header != h {
		t.Errorf("header = %+v, want %+v", f.Header, h)
	}
	if len(f.Slots) != 2 || f.Slots[1] != slots[1] {
		t.Errorf("slots = %v", f.Slots)
	}
	if !bytes.Equal(f.Payload, []byte("payload")) {
		t.Errorf("payload = %q", f.Payload)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Append(nil, Header{Kind: KindReply}, nil, []byte("x"))
	tests := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"empty", nil, 0, ErrShort},
		{"short", good[:HeaderSize-1], 0, ErrShort},
		{"kind zero", func() []byte { b := bytes.Clone(good); b[0] = 0; return b }(), 0, ErrKind},
		{"kind unknown", func() []byte { b := bytes.Clone(good); b[0] = 99; return b }(), 0, ErrKind},
		{"flags", func() []byte { b := bytes.Clone(good); b[1] = 1; return b }(), 0, ErrFlags},
		{"slots beyond frame", func() []byte { b := bytes.Clone(good); b[2] = 3; return b }(), 0, ErrHandles},
		{"too many handles", func() []byte { b := bytes.Clone(good); b[2] = 0xff; return b }(), 0, ErrTooMany},
		{"too large", Append(nil, Header{Kind: KindCall}, nil, make([]byte, 10)), 9, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.b, tt.max); !errors.Is(err, tt.want) {
				t.Errorf("Decode: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBadgeRoundTrip(t *testing.T) {
	in := &Badge{ID: 3, Task: "client", Class: "demo.EchoClient", SID: 12, Channel: "echo"}
	out, err := DecodeBadge(AppendBadge(nil, in))
	if err != nil || *out != *in {
		t.Fatalf("DecodeBadge = %+v, %v", out, err)
	}
	b := AppendBadge(nil, in)
	for i := range b {
		if _, err := DecodeBadge(b[:i]); err == nil {
			t.Errorf("truncated badge of %d bytes decoded", i)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := error(&Error{Status: Denied, Reason: "denied by policy.psl:3:1"})
	if !errors.Is(err, ErrDenied) || errors.Is(err, ErrPeerGone) {
		t.Error("errors.Is does not match by status")
	}
	if StatusOf(err) != Denied || StatusOf(errors.New("x")) != OK {
		t.Error("StatusOf")
	}
	late := error(&Error{Status: DeadlineExceeded, Reason: "deadline"})
	if !errors.Is(late, context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		t.Error("a kernel deadline should be context.DeadlineExceeded, and only it")
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Status: Denied}, "denied by the security policy"},
		{&Error{Status: Denied, Reason: "denied by p.psl:3:1"}, "denied by the security policy: denied by p.psl:3:1"},
		{&Error{Status: Invalid, Reason: "invalid message: slot 0"}, "invalid message: slot 0"},
		{&Error{Status: Limit, Reason: "limit: handles"}, "limit reached: limit: handles"},
		{&Error{Status: PeerGone, Reason: "peer gone"}, "peer gone"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, Header{Kind: KindCall, Handle: 1}, []Slot{{1, 1}}, []byte("abc")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b, 1<<16)
		if err != nil {
			return
		}
		again := Append(nil, fr.Header, fr.Slots, fr.Payload)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
		_, _ = DecodeBadge(fr.Payload)
	})
}
