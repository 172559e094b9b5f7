package kernel

import "testing"

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
