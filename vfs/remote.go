package vfs

import (
	"context"

	"capsim/api/capsim/file"
)

// remoteAPI is a capsim.File IPC client as a FileAPI.
type remoteAPI struct{ c *file.Client }

var _ FileAPI = remoteAPI{}

// NewRemoteAPI wraps a generated capsim.File client proxy as a FileAPI, so
// NewFS(NewRemoteAPI(c)) is an io/fs view of a VFS entity. Errors are the
// proxy's (*file.<Method>Error unwraps to the syscall.Errno).
func NewRemoteAPI(c *file.Client) FileAPI { return remoteAPI{c: c} }

// Open implements FileAPI.
func (r remoteAPI) Open(ctx context.Context, path string, flags, mode uint32) (int32, error) {
	return r.c.Open(ctx, path, flags, mode)
}

// PRead implements FileAPI.
func (r remoteAPI) PRead(ctx context.Context, fd int32, size uint32, offset uint64) ([]byte, error) {
	return r.c.PRead(ctx, fd, size, offset)
}

// FStat implements FileAPI.
func (r remoteAPI) FStat(ctx context.Context, fd int32) (FileStat, error) {
	st, err := r.c.FStat(ctx, fd)
	return FileStat(st), err
}

// Stat implements FileAPI.
func (r remoteAPI) Stat(ctx context.Context, path string) (FileStat, error) {
	st, err := r.c.Stat(ctx, path)
	return FileStat(st), err
}

// ReadDir implements FileAPI.
func (r remoteAPI) ReadDir(ctx context.Context, fd int32, max uint32) ([]DirEntry, error) {
	ents, err := r.c.ReadDir(ctx, fd, max)
	out := make([]DirEntry, len(ents))
	for i, e := range ents {
		out[i] = DirEntry(e)
	}
	return out, err
}

// Close implements FileAPI.
func (r remoteAPI) Close(ctx context.Context, fd int32) error { return r.c.Close(ctx, fd) }
