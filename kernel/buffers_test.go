package kernel

import (
	"fmt"
	"strings"
	"testing"
)

func TestFrameBuffersReuseAndRelease(t *testing.T) {
	var b frameBuffers
	const size = 1 << 20
	buf := b.get(size)
	if len(buf) != size {
		t.Fatalf("len = %d, want %d", len(buf), size)
	}
	if buf[0] != 0 || buf[size-1] != 0 {
		t.Fatal("a fresh buffer is not zero")
	}
	buf[size-1] = 7 // writable to the end
	b.put(buf)
	again := b.get(size)
	if &again[0] != &buf[0] {
		t.Error("a returned buffer of the same size was not reused")
	}
	other := b.get(size)
	if &other[0] == &again[0] {
		t.Error("one buffer handed out twice")
	}
	b.put(again)
	b.put(other)
	b.release()
	if len(b.free) != 0 || len(b.mapped) != 0 {
		t.Errorf("after release: %d sizes listed, %d mappings kept", len(b.free), len(b.mapped))
	}
}

func TestOutputBufferKeepsTheLastBytes(t *testing.T) {
	var b outputBuffer
	line := strings.Repeat("x", 1000)
	for i := range 3 * outputCap / 1000 {
		b.Write(fmt.Sprintf("%08d %s", i, line))
	}
	b.Write("last")
	s := b.String()
	if len(s) != outputCap || !strings.HasSuffix(s, "\nlast\n") {
		t.Errorf("kept %d bytes ending %q; want the last %d, ending with the last line", len(s), s[max(0, len(s)-20):], outputCap)
	}
	if len(b.buf) > 2*outputCap {
		t.Errorf("holds %d bytes, more than twice the cap", len(b.buf))
	}
}
