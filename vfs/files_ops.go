package vfs

import (
	"cmp"
	"context"
	"errors"
	"math"
	"syscall"
)

// Open opens path for client with Linux O_* flags and returns the lowest
// free descriptor of client's table (3 or above).
func (f *Files) Open(ctx context.Context, client uint32, path string, flags, mode uint32) (int32, error) {
	h, err := f.open(path, int(flags), mode)
	if err != nil {
		return -1, f.errno("open", err)
	}
	fd, err := f.insert(client, h)
	return fd, f.errno("open", err)
}

// open routes path and opens it, wrapping directories with mount points
// below them.
func (f *Files) open(path string, flags int, mode uint32) (Handle, error) {
	r, err := f.mounts.resolve(path)
	if r.abs == "" {
		return nil, err // not a valid path
	}
	if err == nil && r.mustDir {
		if flags&O_CREAT != 0 {
			return nil, syscall.EISDIR
		}
		flags |= O_DIRECTORY
	}
	var h Handle
	if err == nil {
		h, err = r.fs.Open(r.rel, flags, mode)
	}
	mounts := f.mounts.childMounts(r.abs)
	if len(mounts) == 0 || (err != nil && !errors.Is(err, syscall.ENOENT)) {
		return h, err
	}
	if err != nil { // an ancestor of mount points that no file system holds
		if _, err := checkOpenFlags(flags); err != nil {
			return nil, err
		}
		if writable(flags) || flags&(O_CREAT|O_TRUNC) != 0 {
			return nil, syscall.EROFS
		}
		h = emptyDir{}
	}
	if st, err := h.Stat(); err != nil || !st.IsDir() {
		return h, err
	}
	return &mergedDir{Handle: h, m: f.mounts, abs: r.abs, mounts: mounts}, nil
}

// Read reads up to size bytes (at most MaxData) at fd's offset; no data
// at the end of the file.
func (f *Files) Read(ctx context.Context, client uint32, fd int32, size uint32) ([]byte, error) {
	h, err := f.handle(client, fd)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, min(size, MaxData))
	n, err := h.Read(buf)
	return buf[:n], f.errno("read", err)
}

// Write writes data (at most MaxData bytes) at fd's offset.
func (f *Files) Write(ctx context.Context, client uint32, fd int32, data []byte) (uint32, error) {
	if len(data) > MaxData {
		return 0, syscall.EINVAL
	}
	h, err := f.handle(client, fd)
	if err != nil {
		return 0, err
	}
	n, err := h.Write(data)
	return uint32(n), f.errno("write", err)
}

// PRead reads up to size bytes (at most MaxData) at offset.
func (f *Files) PRead(ctx context.Context, client uint32, fd int32, size uint32, offset uint64) ([]byte, error) {
	if offset > math.MaxInt64 {
		return nil, syscall.EINVAL
	}
	h, err := f.handle(client, fd)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, min(size, MaxData))
	n, err := h.ReadAt(buf, int64(offset))
	return buf[:n], f.errno("pread", err)
}

// PWrite writes data (at most MaxData bytes) at offset.
func (f *Files) PWrite(ctx context.Context, client uint32, fd int32, data []byte, offset uint64) (uint32, error) {
	if len(data) > MaxData || offset > math.MaxInt64 {
		return 0, syscall.EINVAL
	}
	h, err := f.handle(client, fd)
	if err != nil {
		return 0, err
	}
	n, err := h.WriteAt(data, int64(offset))
	return uint32(n), f.errno("pwrite", err)
}

// Close closes client's descriptor fd.
func (f *Files) Close(ctx context.Context, client uint32, fd int32) error {
	h, err := f.remove(client, fd)
	if err != nil {
		return err
	}
	return f.errno("close", h.Close())
}

// Stat reports on path.
func (f *Files) Stat(ctx context.Context, client uint32, path string) (FileStat, error) {
	cp, err := f.mounts.clean(path)
	if err != nil {
		return FileStat{}, f.errno("stat", err)
	}
	st, err := f.mounts.stat(cp.abs)
	if err == nil && cp.mustDir && !st.IsDir() {
		err = syscall.ENOTDIR
	}
	return st, f.errno("stat", err)
}

// FStat reports on client's descriptor fd.
func (f *Files) FStat(ctx context.Context, client uint32, fd int32) (FileStat, error) {
	h, err := f.handle(client, fd)
	if err != nil {
		return FileStat{}, err
	}
	st, err := h.Stat()
	return st, f.errno("fstat", err)
}

// ReadDir returns the next entries (at most max; 0 or above MaxEntries
// means MaxEntries) of the directory open as fd; none at the end.
func (f *Files) ReadDir(ctx context.Context, client uint32, fd int32, max uint32) ([]DirEntry, error) {
	if max == 0 || max > MaxEntries {
		max = MaxEntries
	}
	h, err := f.handle(client, fd)
	if err != nil {
		return nil, err
	}
	ents, err := h.ReadDir(int(max))
	return ents, f.errno("readdir", err)
}

// MkDir creates directory path.
func (f *Files) MkDir(ctx context.Context, client uint32, path string, mode uint32) error {
	r, err := f.mounts.resolve(path)
	switch {
	case r.abs == "":
		return f.errno("mkdir", err) // not a valid path
	case err == nil && (r.rel == "" || r.last != lastName), len(f.mounts.childMounts(r.abs)) > 0:
		return syscall.EEXIST // "/", "x/.", "x/..": Linux finds them existing
	case err != nil:
		return err
	}
	return f.errno("mkdir", r.fs.Mkdir(r.rel, mode))
}

// Unlink removes a file, or an empty directory when flags has AT_REMOVEDIR.
// A last component "." or ".." (or "/") gives what Linux gives: EISDIR to
// unlink, EINVAL, ENOTEMPTY (or EBUSY) to rmdir.
func (f *Files) Unlink(ctx context.Context, client uint32, path string, flags uint32) error {
	r, err := f.mounts.resolve(path)
	if err != nil {
		return f.errno("unlink", err)
	}
	switch {
	case r.last != lastName && flags&AT_REMOVEDIR == 0:
		return syscall.EISDIR
	case r.last == lastDot:
		return syscall.EINVAL
	case r.last == lastDotDot:
		return syscall.ENOTEMPTY
	case r.rel == "" || len(f.mounts.childMounts(r.abs)) > 0:
		return syscall.EBUSY
	}
	if r.mustDir && flags&AT_REMOVEDIR == 0 {
		if readOnly(r.fs) {
			return syscall.EROFS // Linux refuses before it looks the name up
		}
		st, err := r.fs.Stat(r.rel)
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		if err == nil {
			err = syscall.EISDIR
		}
		return f.errno("unlink", err)
	}
	return f.errno("unlink", r.fs.Unlink(r.rel, int(flags)))
}

// Rename moves from to to within one mount; across mounts it gives EXDEV,
// and a mount point cannot move (EBUSY), nor a path ending in "." or "..".
// A trailing "/" on either path needs from to be a directory (ENOTDIR).
func (f *Files) Rename(ctx context.Context, client uint32, from, to string) error {
	rf, err := f.mounts.resolve(from)
	if err != nil {
		return f.errno("rename", err)
	}
	rt, err := f.mounts.resolve(to)
	if err != nil {
		return f.errno("rename", err)
	}
	switch {
	case rf.last != lastName || rt.last != lastName:
		return syscall.EBUSY
	case rf.rel == "" || rt.rel == "" || len(f.mounts.childMounts(rf.abs)) > 0:
		return syscall.EBUSY
	case rf.mount != rt.mount:
		return syscall.EXDEV
	}
	if (rf.mustDir || rt.mustDir) && !readOnly(rf.fs) {
		if st, err := rf.fs.Stat(rf.rel); err == nil && !st.IsDir() {
			// Linux looks up both parents first.
			dir, _ := splitParent(rt.rel)
			if pst, err := rf.fs.Stat(dir); err != nil || !pst.IsDir() {
				return f.errno("rename", cmp.Or(err, error(syscall.ENOTDIR)))
			}
			return syscall.ENOTDIR
		}
	}
	return f.errno("rename", rf.fs.Rename(rf.rel, rt.rel))
}

// readOnly reports whether fs refuses every change (EROFS).
func readOnly(fs FileSystem) bool {
	ro, ok := fs.(interface{ ReadOnly() bool })
	return ok && ro.ReadOnly()
}

// Truncate sets the size of file path.
func (f *Files) Truncate(ctx context.Context, client uint32, path string, size uint64) error {
	if size > math.MaxInt64 {
		return syscall.EINVAL
	}
	r, err := f.mounts.resolve(path)
	if err != nil {
		return f.errno("truncate", err)
	}
	if r.mustDir { // "f/" is no directory; a directory cannot be truncated
		st, err := r.fs.Stat(r.rel)
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		return f.errno("truncate", cmp.Or(err, error(syscall.EISDIR)))
	}
	return f.errno("truncate", r.fs.Truncate(r.rel, int64(size)))
}

// FSync flushes client's descriptor fd to stable storage.
func (f *Files) FSync(ctx context.Context, client uint32, fd int32) error {
	h, err := f.handle(client, fd)
	if err != nil {
		return err
	}
	return f.errno("fsync", h.Sync())
}
