package vfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// hostHandle is a descriptor opened beneath a HostDir's root.
type hostHandle struct {
	fs    *HostDir
	isDir bool

	mu sync.RWMutex // read-held around every use of fd, held by Close
	fd int          // -1 once closed

	dmu     sync.Mutex // guards ReadDir's state
	pending []string   // names read by getdents64 but not yet returned
	eof     bool
}

var _ Handle = (*hostHandle)(nil)

// use runs op on the descriptor unless the handle is closed, retrying EINTR.
func (h *hostHandle) use(op func(fd int) (int, error)) (int, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.fd < 0 {
		return 0, syscall.EBADF
	}
	for {
		n, err := op(h.fd)
		if !errors.Is(err, unix.EINTR) {
			return max(n, 0), err
		}
	}
}

// Read implements Handle.
func (h *hostHandle) Read(p []byte) (int, error) {
	return h.use(func(fd int) (int, error) { return unix.Read(fd, p) })
}

// Write implements Handle.
func (h *hostHandle) Write(p []byte) (int, error) {
	return h.use(func(fd int) (int, error) { return unix.Write(fd, p) })
}

// ReadAt implements Handle.
func (h *hostHandle) ReadAt(p []byte, off int64) (int, error) {
	return h.use(func(fd int) (int, error) { return unix.Pread(fd, p, off) })
}

// WriteAt implements Handle.
func (h *hostHandle) WriteAt(p []byte, off int64) (int, error) {
	return h.use(func(fd int) (int, error) { return unix.Pwrite(fd, p, off) })
}

// Stat implements Handle.
func (h *hostHandle) Stat() (FileStat, error) {
	var st FileStat
	_, err := h.use(func(fd int) (int, error) {
		var err error
		st, err = h.fs.fstat(fd)
		return 0, err
	})
	return st, err
}

// Sync implements Handle.
func (h *hostHandle) Sync() error {
	_, err := h.use(func(fd int) (int, error) { return 0, unix.Fsync(fd) })
	return err
}

// Close implements Handle.
func (h *hostHandle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 {
		return syscall.EBADF
	}
	fd := h.fd
	h.fd = -1
	return unix.Close(fd)
}

// ReadDir implements Handle. Entries come in the host's getdents64 order,
// without "." and ".."; mode and size come from fstatat relative to the
// directory, not following symlinks.
func (h *hostHandle) ReadDir(max int) ([]DirEntry, error) {
	if !h.isDir {
		return nil, syscall.ENOTDIR
	}
	if max <= 0 {
		return nil, syscall.EINVAL
	}
	h.dmu.Lock()
	defer h.dmu.Unlock()
	var out []DirEntry
	_, err := h.use(func(fd int) (int, error) {
		for len(out) < max {
			if len(h.pending) == 0 {
				if err := h.fill(fd); err != nil || h.eof {
					return 0, err
				}
				continue
			}
			name := h.pending[0]
			h.pending = h.pending[1:]
			var st unix.Stat_t
			err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if errors.Is(err, unix.ENOENT) {
				continue // removed since getdents64 listed it
			}
			if err != nil {
				return 0, err
			}
			fs := h.fs.fromStat(&st)
			out = append(out, DirEntry{Name: name, Mode: fs.Mode, Size: fs.Size})
		}
		return 0, nil
	})
	return out, err
}

// fill reads the next batch of names from the directory.
func (h *hostHandle) fill(fd int) error {
	if h.eof {
		return nil
	}
	buf := make([]byte, 8192)
	n, err := unix.Getdents(fd, buf)
	if err != nil {
		return err
	}
	if n == 0 {
		h.eof = true
		return nil
	}
	names, err := parseDirents(buf[:n])
	h.pending = append(h.pending, names...)
	return err
}

// direntHeader is the fixed part of struct linux_dirent64: d_ino (8),
// d_off (8), d_reclen (2), d_type (1).
const direntHeader = 19

// parseDirents decodes the names in a getdents64 buffer, leaving out "."
// and "..". A malformed record gives EIO with the names before it.
func parseDirents(buf []byte) ([]string, error) {
	var names []string
	for len(buf) > 0 {
		if len(buf) < direntHeader {
			return names, syscall.EIO
		}
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < direntHeader+1 || reclen > len(buf) {
			return names, syscall.EIO
		}
		name := buf[direntHeader:reclen]
		end := 0
		for end < len(name) && name[end] != 0 {
			end++
		}
		if end == len(name) || end == 0 || bytes.IndexByte(name[:end], '/') >= 0 {
			return names, syscall.EIO
		}
		if s := string(name[:end]); s != "." && s != ".." {
			names = append(names, s)
		}
		buf = buf[reclen:]
	}
	return names, nil
}
