package posix

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"

	"capsim/api/capsim/file"
	"capsim/vfs"
)

// File is an open file of a VFS entity, used as an *os.File is: Read,
// Write, Seek, ReadAt, WriteAt, Stat, Sync, Truncate, Close. The offset is
// kept here and reads and writes go out as PRead and PWrite at it, except
// for a file opened with os.O_APPEND, whose writes the VFS appends.
// Errors are *fs.PathError wrapping the errno, so errors.Is(err,
// fs.ErrNotExist) works.
type File struct {
	c      *file.Client
	fd     int32
	name   string
	append bool

	mu     sync.Mutex
	off    int64
	closed bool
}

// OpenFile opens name with os.O_* flags and permissions, as os.OpenFile.
func (f *Files) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (*File, error) {
	c, err := f.Client(ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	fd, err := c.Open(ctx, name, uint32(flag), uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &File{c: c, fd: fd, name: name, append: flag&os.O_APPEND != 0}, nil
}

// Open opens name for reading.
func (f *Files) Open(ctx context.Context, name string) (*File, error) {
	return f.OpenFile(ctx, name, os.O_RDONLY, 0)
}

// Create creates or truncates name for reading and writing.
func (f *Files) Create(ctx context.Context, name string) (*File, error) {
	return f.OpenFile(ctx, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Stat returns the file information of name.
func (f *Files) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	c, err := f.Client(ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	st, err := c.Stat(ctx, name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return vfs.NewFileInfo(path.Base(name), vfs.FileStat(st)), nil
}

// Mkdir makes a folder.
func (f *Files) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	c, err := f.Client(ctx)
	if err == nil {
		err = c.MkDir(ctx, name, uint32(perm.Perm()))
	}
	return pathErr("mkdir", name, err)
}

// Remove removes a file or an empty folder, as os.Remove.
func (f *Files) Remove(ctx context.Context, name string) error {
	c, err := f.Client(ctx)
	if err != nil {
		return pathErr("remove", name, err)
	}
	err = c.Unlink(ctx, name, 0)
	if errors.Is(err, syscall.EISDIR) {
		err = c.Unlink(ctx, name, vfs.AT_REMOVEDIR)
	}
	return pathErr("remove", name, err)
}

// Rename renames a file or folder.
func (f *Files) Rename(ctx context.Context, from, to string) error {
	c, err := f.Client(ctx)
	if err == nil {
		err = c.Rename(ctx, from, to)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// WriteFile writes data to name, creating or truncating it.
func (f *Files) WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	fl, err := f.OpenFile(ctx, name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = fl.Write(data)
	if cerr := fl.Close(); err == nil {
		err = cerr
	}
	return err
}

func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Name returns the name the file was opened with.
func (fl *File) Name() string { return fl.name }

// Read reads from the file's offset; io.EOF at the end.
func (fl *File) Read(p []byte) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n, err := fl.readAt(p, fl.off, "read")
	fl.off += int64(n)
	return n, err
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt.
func (fl *File) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := fl.readAt(p[total:], off+int64(total), "read")
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (fl *File) readAt(p []byte, off int64, op string) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if off < 0 {
		return 0, pathErr(op, fl.name, syscall.EINVAL)
	}
	size := min(len(p), file.MaxData)
	data, err := fl.c.PRead(context.Background(), fl.fd, uint32(size), uint64(off))
	if err != nil {
		return 0, pathErr(op, fl.name, err)
	}
	if len(data) == 0 {
		return 0, io.EOF
	}
	return copy(p, data), nil
}

// Write writes at the file's offset (at the end for os.O_APPEND).
func (fl *File) Write(p []byte) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.append {
		return fl.writeLoop(p, func(chunk []byte) (uint32, error) {
			return fl.c.Write(context.Background(), fl.fd, chunk)
		})
	}
	n, err := fl.WriteAt(p, fl.off)
	fl.off += int64(n)
	return n, err
}

// WriteAt writes p at off, as io.WriterAt.
func (fl *File) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("write", fl.name, syscall.EINVAL)
	}
	at := off
	return fl.writeLoop(p, func(chunk []byte) (uint32, error) {
		n, err := fl.c.PWrite(context.Background(), fl.fd, chunk, uint64(at))
		at += int64(n)
		return n, err
	})
}

func (fl *File) writeLoop(p []byte, write func([]byte) (uint32, error)) (int, error) {
	total := 0
	for total < len(p) {
		chunk := p[total:min(len(p), total+file.MaxData)]
		n, err := write(chunk)
		total += int(n)
		if err != nil {
			return total, pathErr("write", fl.name, err)
		}
		if n == 0 {
			return total, pathErr("write", fl.name, io.ErrShortWrite)
		}
	}
	return total, nil
}

// Seek sets the offset for the next Read or Write, as io.Seeker.
func (fl *File) Seek(offset int64, whence int) (int64, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	base := int64(0)
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = fl.off
	case io.SeekEnd:
		st, err := fl.c.FStat(context.Background(), fl.fd)
		if err != nil {
			return 0, pathErr("seek", fl.name, err)
		}
		base = int64(st.Size)
	default:
		return 0, pathErr("seek", fl.name, syscall.EINVAL)
	}
	if base+offset < 0 {
		return 0, pathErr("seek", fl.name, syscall.EINVAL)
	}
	fl.off = base + offset
	return fl.off, nil
}

// Stat returns the file's information.
func (fl *File) Stat() (fs.FileInfo, error) {
	st, err := fl.c.FStat(context.Background(), fl.fd)
	if err != nil {
		return nil, pathErr("stat", fl.name, err)
	}
	return vfs.NewFileInfo(path.Base(fl.name), vfs.FileStat(st)), nil
}

// Sync flushes the file (FSync).
func (fl *File) Sync() error {
	return pathErr("sync", fl.name, fl.c.FSync(context.Background(), fl.fd))
}

// Truncate changes the file's size.
func (fl *File) Truncate(size int64) error {
	if size < 0 {
		return pathErr("truncate", fl.name, syscall.EINVAL)
	}
	return pathErr("truncate", fl.name, fl.c.Truncate(context.Background(), fl.name, uint64(size)))
}

// Close closes the file; a second Close is an error, as for *os.File.
func (fl *File) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return pathErr("close", fl.name, os.ErrClosed)
	}
	fl.closed = true
	return pathErr("close", fl.name, fl.c.Close(context.Background(), fl.fd))
}
