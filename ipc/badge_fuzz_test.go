package ipc_test

import (
	"bytes"
	"math"
	"testing"

	"capsim/idl/wire"
	"capsim/ipc"
)

// FuzzDecodeBadge decodes arbitrary badge payloads: decoding must not
// panic, what decodes must re-encode to the same bytes, and everything the
// generic IDL wire decoder reads as the badge struct must decode alike.
func FuzzDecodeBadge(f *testing.F) {
	f.Add(ipc.AppendBadge(nil, &ipc.Badge{ID: 7, Task: "client", Class: "demo.EchoClient", SID: 3, Channel: "echo"}))
	f.Add(ipc.AppendBadge(nil, &ipc.Badge{}))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := ipc.DecodeBadge(p)
		if err == nil {
			if again := ipc.AppendBadge(nil, b); !bytes.Equal(again, p) {
				t.Fatalf("re-encoding %+v gives %x, want %x", b, again, p)
			}
		}
		d := wire.NewDecoder(p, nil)
		w := ipc.Badge{ID: d.Uint32("id"), Task: d.String(math.MaxInt32, "task"), Class: d.String(math.MaxInt32, "class"),
			SID: d.Uint64("sid"), Channel: d.String(math.MaxInt32, "channel")}
		if d.Finish() == nil && (err != nil || *b != w) {
			t.Fatalf("wire decoder reads %+v, DecodeBadge %+v, %v", w, b, err)
		}
	})
}
