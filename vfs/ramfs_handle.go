package vfs

import (
	"math"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Rename implements FileSystem with rename(2)'s rules: a directory replaces
// only an empty directory, a file only a file, and a directory cannot move
// below itself (EINVAL).
func (fs *RamFS) Rename(from, to string) error {
	if from == "" || to == "" {
		return syscall.EBUSY
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fp, fbase, err := fs.parent(from)
	if err != nil {
		return err
	}
	n := fp.children[fbase]
	if n == nil {
		return syscall.ENOENT
	}
	tp, tbase, err := fs.parent(to)
	if err != nil {
		return err
	}
	if strings.HasPrefix(to, from+"/") { // after the lookups, as Linux
		return syscall.EINVAL
	}
	old := tp.children[tbase]
	if old == n {
		return nil
	}
	if err := checkReplace(n, old); err != nil {
		return err
	}
	if !fp.may(3) || !tp.may(3) {
		return syscall.EACCES
	}
	if old != nil {
		fs.unlinkNode(tp, tbase, old)
	}
	delete(fp.children, fbase)
	tp.children[tbase] = n
	now := time.Now().UnixNano()
	fp.mtime, tp.mtime = now, now
	return nil
}

// checkReplace checks that n may replace old (nil: nothing to replace).
func checkReplace(n, old *ramNode) error {
	switch {
	case old == nil:
		return nil
	case n.isDir() && !old.isDir():
		return syscall.ENOTDIR
	case !n.isDir() && old.isDir():
		return syscall.EISDIR
	case old.isDir() && len(old.children) > 0:
		return syscall.ENOTEMPTY
	}
	return nil
}

// ramHandle is an open RamFS node.
type ramHandle struct {
	fs    *RamFS
	n     *ramNode
	flags int

	mu      sync.Mutex // guards the fields below
	off     int64
	closed  bool
	after   string // ReadDir: last name returned
	started bool   // ReadDir: after is set
}

var _ Handle = (*ramHandle)(nil)

// Read implements Handle.
func (h *ramHandle) Read(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.readAt(p, h.off)
	h.off += int64(n)
	return n, err
}

// ReadAt implements Handle.
func (h *ramHandle) ReadAt(p []byte, off int64) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.readAt(p, off)
}

// readAt reads at off; h.mu must be held.
func (h *ramHandle) readAt(p []byte, off int64) (int, error) {
	switch {
	case h.closed || !readable(h.flags):
		return 0, syscall.EBADF
	case h.n.isDir():
		return 0, syscall.EISDIR
	case off < 0:
		return 0, syscall.EINVAL
	}
	h.fs.mu.RLock()
	defer h.fs.mu.RUnlock()
	if off >= int64(len(h.n.data)) {
		return 0, nil
	}
	return copy(p, h.n.data[off:]), nil
}

// Write implements Handle.
func (h *ramHandle) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, end, err := h.writeAt(p, h.off, h.flags&O_APPEND != 0)
	if n > 0 {
		h.off = end
	}
	return n, err
}

// WriteAt implements Handle. As on Linux, O_APPEND makes it append.
func (h *ramHandle) WriteAt(p []byte, off int64) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, _, err := h.writeAt(p, off, h.flags&O_APPEND != 0)
	return n, err
}

// writeAt writes p at off (at the end if appending) and returns the bytes
// written and the offset after them; h.mu must be held. When the size bound
// leaves room for only part of p, that part is written (a short write);
// when it leaves none, ENOSPC.
func (h *ramHandle) writeAt(p []byte, off int64, appending bool) (int, int64, error) {
	switch {
	case h.closed || !writable(h.flags):
		return 0, 0, syscall.EBADF
	case off < 0:
		return 0, 0, syscall.EINVAL
	}
	fs := h.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := h.n.data
	if appending {
		off = int64(len(d))
	}
	if int64(len(p)) > math.MaxInt64-off {
		return 0, 0, syscall.EFBIG
	}
	end := off + int64(len(p))
	if end > MaxRamFile {
		return 0, 0, syscall.EFBIG
	}
	if grow := end - int64(len(d)); grow > 0 && fs.size > 0 && grow > fs.size-fs.used {
		end -= grow - (fs.size - fs.used)
		if end <= off {
			return 0, 0, syscall.ENOSPC
		}
		p = p[:end-off]
	}
	if end > int64(len(d)) {
		fs.used += end - int64(len(d))
		d = append(d, make([]byte, end-int64(len(d)))...)
	}
	copy(d[off:], p)
	h.n.data = d
	h.n.mtime = time.Now().UnixNano()
	return len(p), end, nil
}

// Stat implements Handle.
func (h *ramHandle) Stat() (FileStat, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return FileStat{}, syscall.EBADF
	}
	h.fs.mu.RLock()
	defer h.fs.mu.RUnlock()
	return h.n.stat(), nil
}

// ReadDir implements Handle. Entries come in name order and continue after
// the last name returned, so entries added or removed between calls neither
// repeat nor shift the others.
func (h *ramHandle) ReadDir(max int) ([]DirEntry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, syscall.EBADF
	case !h.n.isDir():
		return nil, syscall.ENOTDIR
	case !h.n.linked:
		return nil, syscall.ENOENT // removed, as Linux's getdents64
	case max <= 0:
		return nil, syscall.EINVAL
	}
	h.fs.mu.RLock()
	defer h.fs.mu.RUnlock()
	names := sortedNames(h.n, h.after, h.started)
	if len(names) > max {
		names = names[:max]
	}
	out := make([]DirEntry, 0, len(names))
	for _, name := range names {
		c := h.n.children[name]
		st := c.stat()
		out = append(out, DirEntry{Name: name, Mode: st.Mode, Size: st.Size})
	}
	if len(names) > 0 {
		h.after, h.started = names[len(names)-1], true
	}
	return out, nil
}

// Sync implements Handle; memory needs no flushing.
func (h *ramHandle) Sync() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return syscall.EBADF
	}
	return nil
}

// Close implements Handle.
func (h *ramHandle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return syscall.EBADF
	}
	h.closed = true
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	h.n.opens--
	h.fs.release(h.n)
	return nil
}
