package vfs

import (
	"context"
	"io"
	"io/fs"
	"path"
	"sync"
	"time"
)

// FileAPI is the part of capsim.File that a read-only io/fs view needs.
// Files.Client gives one in process; an IPC client of capsim.File gives one
// across entities (its adapter converts the generated structs).
type FileAPI interface {
	Open(ctx context.Context, path string, flags, mode uint32) (int32, error)
	PRead(ctx context.Context, fd int32, size uint32, offset uint64) ([]byte, error)
	FStat(ctx context.Context, fd int32) (FileStat, error)
	Stat(ctx context.Context, path string) (FileStat, error)
	ReadDir(ctx context.Context, fd int32, max uint32) ([]DirEntry, error)
	Close(ctx context.Context, fd int32) error
}

// NewFS returns a read-only io/fs view of api, as net/http.FS and
// fs.WalkDir want it. Its files implement io.ReadSeeker and io.ReaderAt
// (by PRead at an offset the file keeps) and fs.ReadDirFile; it also
// implements fs.StatFS. Errors are *fs.PathError wrapping the errno, so
// errors.Is(err, fs.ErrNotExist) works.
func NewFS(api FileAPI) fs.FS { return &apiFS{api: api} }

type apiFS struct{ api FileAPI }

var _ fs.StatFS = (*apiFS)(nil)

// vfsPath turns an io/fs name into a VFS path.
func vfsPath(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "/", nil
	}
	return "/" + name, nil
}

// Open implements fs.FS.
func (a *apiFS) Open(name string) (fs.File, error) {
	p, err := vfsPath("open", name)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	fd, err := a.api.Open(ctx, p, O_RDONLY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	st, err := a.api.FStat(ctx, fd)
	if err != nil {
		a.api.Close(ctx, fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return &apiFile{fsys: a, fd: fd, name: name, stat: st}, nil
}

// Stat implements fs.StatFS.
func (a *apiFS) Stat(name string) (fs.FileInfo, error) {
	p, err := vfsPath("stat", name)
	if err != nil {
		return nil, err
	}
	st, err := a.api.Stat(context.Background(), p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fileInfo{name: path.Base(name), st: st}, nil
}

// apiFile is an open file of an apiFS.
type apiFile struct {
	fsys *apiFS
	fd   int32
	name string
	stat FileStat

	mu     sync.Mutex
	off    int64
	closed bool
}

var (
	_ fs.ReadDirFile = (*apiFile)(nil)
	_ io.ReadSeeker  = (*apiFile)(nil)
	_ io.ReaderAt    = (*apiFile)(nil)
)

func (f *apiFile) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

// Stat implements fs.File.
func (f *apiFile) Stat() (fs.FileInfo, error) {
	st, err := f.fsys.api.FStat(context.Background(), f.fd)
	if err != nil {
		return nil, f.pathErr("stat", err)
	}
	return fileInfo{name: path.Base(f.name), st: st}, nil
}

// Read implements io.Reader.
func (f *apiFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathErr("read", fs.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	b, err := f.fsys.api.PRead(context.Background(), f.fd, uint32(min(len(p), MaxData)), uint64(f.off))
	if err != nil {
		return 0, f.pathErr("read", err)
	}
	if len(b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b)
	f.off += int64(n)
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (f *apiFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, f.pathErr("readat", fs.ErrInvalid)
	}
	n := 0
	for n < len(p) {
		b, err := f.fsys.api.PRead(context.Background(), f.fd, uint32(min(len(p)-n, MaxData)), uint64(off)+uint64(n))
		if err != nil {
			return n, f.pathErr("readat", err)
		}
		if len(b) == 0 {
			return n, io.EOF
		}
		n += copy(p[n:], b)
	}
	return n, nil
}

// Seek implements io.Seeker.
func (f *apiFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := int64(0)
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		st, err := f.fsys.api.FStat(context.Background(), f.fd)
		if err != nil {
			return 0, f.pathErr("seek", err)
		}
		base = int64(st.Size)
	default:
		return 0, f.pathErr("seek", fs.ErrInvalid)
	}
	if base+offset < 0 {
		return 0, f.pathErr("seek", fs.ErrInvalid)
	}
	f.off = base + offset
	return f.off, nil
}

// Close implements fs.File.
func (f *apiFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathErr("close", fs.ErrClosed)
	}
	f.closed = true
	if err := f.fsys.api.Close(context.Background(), f.fd); err != nil {
		return f.pathErr("close", err)
	}
	return nil
}

// ReadDir implements fs.ReadDirFile.
func (f *apiFile) ReadDir(n int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for {
		want := MaxEntries
		if n > 0 {
			want = min(n-len(out), MaxEntries)
		}
		ents, err := f.fsys.api.ReadDir(context.Background(), f.fd, uint32(want))
		if err != nil {
			return out, f.pathErr("readdir", err)
		}
		for _, e := range ents {
			out = append(out, dirEntry{fsys: f.fsys, dir: f.name, e: e})
		}
		switch {
		case len(ents) == 0 && n > 0 && len(out) == 0:
			return nil, io.EOF
		case len(ents) == 0, n > 0 && len(out) >= n:
			return out, nil
		}
	}
}

// fileInfo is a FileStat as an fs.FileInfo.
type fileInfo struct {
	name string
	st   FileStat
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return int64(i.st.Size) }
func (i fileInfo) Mode() fs.FileMode  { return fileMode(i.st.Mode) }
func (i fileInfo) ModTime() time.Time { return time.Unix(0, i.st.MtimeNs) }
func (i fileInfo) IsDir() bool        { return i.st.IsDir() }
func (i fileInfo) Sys() any           { return i.st }

// fileMode converts Linux mode bits to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & S_IFMT {
	case S_IFREG:
	case S_IFDIR:
		mode |= fs.ModeDir
	case S_IFLNK:
		mode |= fs.ModeSymlink
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}

// dirEntry is a DirEntry as an fs.DirEntry; Info stats the entry.
type dirEntry struct {
	fsys *apiFS
	dir  string
	e    DirEntry
}

func (d dirEntry) Name() string               { return d.e.Name }
func (d dirEntry) IsDir() bool                { return d.e.Mode&S_IFMT == S_IFDIR }
func (d dirEntry) Type() fs.FileMode          { return fileMode(d.e.Mode).Type() }
func (d dirEntry) String() string             { return fs.FormatDirEntry(d) }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.info() }

func (d dirEntry) info() (fs.FileInfo, error) {
	if d.e.Mode&S_IFMT == S_IFLNK { // Stat would follow it
		return fileInfo{name: d.e.Name, st: FileStat{Mode: d.e.Mode, Size: d.e.Size}}, nil
	}
	return d.fsys.Stat(path.Join(d.dir, d.e.Name))
}

// NewFileInfo returns st as the fs.FileInfo of a file called name.
func NewFileInfo(name string, st FileStat) fs.FileInfo { return fileInfo{name: name, st: st} }
