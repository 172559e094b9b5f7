package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// frameBuffers hands out the buffers a process's frames are read into, one
// per process, as large as its biggest frame (4 MiB by default). They are
// mapped rather than allocated: Go zeroes a large allocation and every
// page then faults in as it is cleared — ≈ 25 ms of CPU per spawn on a
// small virtual machine — while the pages of a fresh mapping cost nothing
// until a frame that large arrives. A buffer goes back on the list when its
// process ends, for the next process (a restart); release unmaps them once
// no reader is left.
type frameBuffers struct {
	mu     sync.Mutex
	free   map[int][][]byte
	mapped map[*byte]bool // buffers that are mappings (not heap fallbacks)
}

func (b *frameBuffers) get(size int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.free[size]; len(l) > 0 {
		buf := l[len(l)-1]
		b.free[size] = l[:len(l)-1]
		return buf
	}
	buf, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, size)
	}
	if b.mapped == nil {
		b.mapped = make(map[*byte]bool)
	}
	b.mapped[&buf[0]] = true
	return buf
}

func (b *frameBuffers) put(buf []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free == nil {
		b.free = make(map[int][][]byte)
	}
	b.free[len(buf)] = append(b.free[len(buf)], buf)
}

// release unmaps the buffers on the list. Only for when every reader has
// ended: nothing may refer to a frame any more.
func (b *frameBuffers) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for size, l := range b.free {
		for _, buf := range l {
			if b.mapped[&buf[0]] {
				delete(b.mapped, &buf[0])
				_ = unix.Munmap(buf)
			}
		}
		delete(b.free, size)
	}
}
