package posix

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"capsim/api/capsim/file"
	"capsim/entities"
	"capsim/vfs"
)

// FilesystemBackend is the variable naming an entity's file backend.
const FilesystemBackend = "VFS_FILESYSTEM_BACKEND"

// Files is the file API over one capsim.File server (a VFS entity).
type Files struct {
	rt       *entities.Runtime
	variable string
	id       string

	once sync.Once
	c    *file.Client
	err  error
}

// NewFiles returns the file API over the backend that
// VFS_FILESYSTEM_BACKEND names. Nothing is looked up until the first call.
func NewFiles(rt *entities.Runtime) *Files { return &Files{rt: rt, variable: FilesystemBackend} }

// FilesOn returns the file API over the channel id.
func FilesOn(rt *entities.Runtime, id string) *Files { return &Files{rt: rt, id: id} }

// Client returns the capsim.File proxy, finding the channel on first use.
func (f *Files) Client(ctx context.Context) (*file.Client, error) {
	f.once.Do(func() {
		id := f.id
		if f.variable != "" {
			if id, f.err = entities.Backend(f.variable); f.err != nil {
				return
			}
		}
		h, riid, err := f.rt.Lookup(ctx, id, file.InterfaceName)
		if err != nil {
			f.err = fmt.Errorf("file backend %s: %w", id, err)
			return
		}
		f.c = &file.Client{Caller: f.rt, Handle: h, Endpoint: riid}
	})
	return f.c, f.err
}

// FS returns a read-only io/fs view of the backend, as net/http.FS and
// fs.WalkDir want it.
func (f *Files) FS() fs.FS { return vfs.NewFS(lazyAPI{f}) }

// ReadFile reads a whole file.
func (f *Files) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return fs.ReadFile(f.FS(), trimRoot(path))
}

func trimRoot(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if p == "" {
		return "."
	}
	return p
}

// lazyAPI finds the backend on its first call.
type lazyAPI struct{ f *Files }

func (l lazyAPI) api(ctx context.Context) (vfs.FileAPI, error) {
	c, err := l.f.Client(ctx)
	if err != nil {
		return nil, err
	}
	return vfs.NewRemoteAPI(c), nil
}

func (l lazyAPI) Open(ctx context.Context, path string, flags, mode uint32) (int32, error) {
	a, err := l.api(ctx)
	if err != nil {
		return -1, err
	}
	return a.Open(ctx, path, flags, mode)
}

func (l lazyAPI) PRead(ctx context.Context, fd int32, size uint32, offset uint64) ([]byte, error) {
	a, err := l.api(ctx)
	if err != nil {
		return nil, err
	}
	return a.PRead(ctx, fd, size, offset)
}

func (l lazyAPI) FStat(ctx context.Context, fd int32) (vfs.FileStat, error) {
	a, err := l.api(ctx)
	if err != nil {
		return vfs.FileStat{}, err
	}
	return a.FStat(ctx, fd)
}

func (l lazyAPI) Stat(ctx context.Context, path string) (vfs.FileStat, error) {
	a, err := l.api(ctx)
	if err != nil {
		return vfs.FileStat{}, err
	}
	return a.Stat(ctx, path)
}

func (l lazyAPI) ReadDir(ctx context.Context, fd int32, max uint32) ([]vfs.DirEntry, error) {
	a, err := l.api(ctx)
	if err != nil {
		return nil, err
	}
	return a.ReadDir(ctx, fd, max)
}

func (l lazyAPI) Close(ctx context.Context, fd int32) error {
	a, err := l.api(ctx)
	if err != nil {
		return err
	}
	return a.Close(ctx, fd)
}
