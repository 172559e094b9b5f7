package vfs

import (
	"context"
	"syscall"

	"capsim/api/capsim/file"
	"capsim/ipc"
)

// fileServer serves capsim.File over IPC: the client id is the caller's
// badge ID, so each connection has its own descriptor table.
type fileServer struct{ f *Files }

var _ file.Server = fileServer{}

// NewFileServer returns the capsim.File server of f, for
// file.NewDispatcher. Each call takes its client id from
// ipc.BadgeFromContext(ctx).ID; a call without a badge fails with EACCES.
// Errors are bare syscall.Errno values, which the dispatcher sends as the
// errno parameter. When a client's connection ends, the owner calls
// f.Drop(badge ID).
func NewFileServer(f *Files) file.Server { return fileServer{f: f} }

// clientID returns the caller's badge ID.
func clientID(ctx context.Context) (uint32, error) {
	b := ipc.BadgeFromContext(ctx)
	if b == nil {
		return 0, syscall.EACCES
	}
	return b.ID, nil
}

// Open implements file.Server.
func (s fileServer) Open(ctx context.Context, path string, flags, mode uint32) (int32, error) {
	id, err := clientID(ctx)
	if err != nil {
		return -1, err
	}
	return s.f.Open(ctx, id, path, flags, mode)
}

// Read implements file.Server.
func (s fileServer) Read(ctx context.Context, fd int32, size uint32) ([]byte, error) {
	id, err := clientID(ctx)
	if err != nil {
		return nil, err
	}
	return s.f.Read(ctx, id, fd, size)
}

// Write implements file.Server.
func (s fileServer) Write(ctx context.Context, fd int32, data []byte) (uint32, error) {
	id, err := clientID(ctx)
	if err != nil {
		return 0, err
	}
	return s.f.Write(ctx, id, fd, data)
}

// PRead implements file.Server.
func (s fileServer) PRead(ctx context.Context, fd int32, size uint32, offset uint64) ([]byte, error) {
	id, err := clientID(ctx)
	if err != nil {
		return nil, err
	}
	return s.f.PRead(ctx, id, fd, size, offset)
}

// PWrite implements file.Server.
func (s fileServer) PWrite(ctx context.Context, fd int32, data []byte, offset uint64) (uint32, error) {
	id, err := clientID(ctx)
	if err != nil {
		return 0, err
	}
	return s.f.PWrite(ctx, id, fd, data, offset)
}

// Close implements file.Server.
func (s fileServer) Close(ctx context.Context, fd int32) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.Close(ctx, id, fd)
}

// Stat implements file.Server.
func (s fileServer) Stat(ctx context.Context, path string) (file.FileStat, error) {
	id, err := clientID(ctx)
	if err != nil {
		return file.FileStat{}, err
	}
	st, err := s.f.Stat(ctx, id, path)
	return file.FileStat(st), err
}

// FStat implements file.Server.
func (s fileServer) FStat(ctx context.Context, fd int32) (file.FileStat, error) {
	id, err := clientID(ctx)
	if err != nil {
		return file.FileStat{}, err
	}
	st, err := s.f.FStat(ctx, id, fd)
	return file.FileStat(st), err
}

// ReadDir implements file.Server.
func (s fileServer) ReadDir(ctx context.Context, fd int32, max uint32) ([]file.DirEntry, error) {
	id, err := clientID(ctx)
	if err != nil {
		return nil, err
	}
	ents, err := s.f.ReadDir(ctx, id, fd, max)
	out := make([]file.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = file.DirEntry(e)
	}
	return out, err
}

// MkDir implements file.Server.
func (s fileServer) MkDir(ctx context.Context, path string, mode uint32) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.MkDir(ctx, id, path, mode)
}

// Unlink implements file.Server.
func (s fileServer) Unlink(ctx context.Context, path string, flags uint32) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.Unlink(ctx, id, path, flags)
}

// Rename implements file.Server.
func (s fileServer) Rename(ctx context.Context, from, to string) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.Rename(ctx, id, from, to)
}

// Truncate implements file.Server.
func (s fileServer) Truncate(ctx context.Context, path string, size uint64) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.Truncate(ctx, id, path, size)
}

// FSync implements file.Server.
func (s fileServer) FSync(ctx context.Context, fd int32) error {
	id, err := clientID(ctx)
	if err != nil {
		return err
	}
	return s.f.FSync(ctx, id, fd)
}
