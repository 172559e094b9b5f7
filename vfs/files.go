package vfs

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
)

// FilesOptions configures Files.
type FilesOptions struct {
	// MaxFDs bounds each client's open descriptors (EMFILE beyond it);
	// zero means 1024.
	MaxFDs int
	// Logger receives debug records of unexpected errors; nil discards them.
	Logger *slog.Logger
}

// Files serves the capsim.File interface over a mount table: one
// descriptor table per client, keyed by the client id the caller passes (the
// IPC badge's ID), so two clients' descriptor 3 are different files. Every
// method returns a bare syscall.Errno as its error. Safe for concurrent use.
type Files struct {
	mounts *Mounts
	maxFDs int
	log    *slog.Logger

	mu      sync.Mutex
	clients map[uint32]*fdTable
}

// fdTable is one client's descriptors.
type fdTable struct {
	mu      sync.Mutex
	fds     map[int32]Handle
	dropped bool
}

// firstFD is the lowest descriptor Open hands out, as after stdio.
const firstFD = 3

// NewFiles serves the file systems of m.
func NewFiles(m *Mounts, opt FilesOptions) *Files {
	f := &Files{mounts: m, maxFDs: opt.MaxFDs, log: opt.Logger, clients: map[uint32]*fdTable{}}
	if f.maxFDs <= 0 {
		f.maxFDs = 1024
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f
}

// table returns client's descriptor table, creating it on first use.
func (f *Files) table(client uint32) *fdTable {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.clients[client]
	if t == nil {
		t = &fdTable{fds: map[int32]Handle{}}
		f.clients[client] = t
	}
	return t
}

// insert gives h the lowest free descriptor of client's table.
func (f *Files) insert(client uint32, h Handle) (int32, error) {
	t := f.table(client)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped || len(t.fds) >= f.maxFDs {
		h.Close()
		if t.dropped {
			return -1, syscall.EBADF
		}
		return -1, syscall.EMFILE
	}
	fd := int32(firstFD)
	for t.fds[fd] != nil {
		fd++
	}
	t.fds[fd] = h
	return fd, nil
}

// handle returns client's open descriptor fd.
func (f *Files) handle(client uint32, fd int32) (Handle, error) {
	f.mu.Lock()
	t := f.clients[client]
	f.mu.Unlock()
	if t == nil {
		return nil, syscall.EBADF
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.fds[fd]; h != nil {
		return h, nil
	}
	return nil, syscall.EBADF
}

// remove takes fd out of client's table.
func (f *Files) remove(client uint32, fd int32) (Handle, error) {
	f.mu.Lock()
	t := f.clients[client]
	f.mu.Unlock()
	if t == nil {
		return nil, syscall.EBADF
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.fds[fd]
	if h == nil {
		return nil, syscall.EBADF
	}
	delete(t.fds, fd)
	return h, nil
}

// Drop closes every descriptor client has and forgets its table, as when
// the client's connection closes. Descriptors being opened while Drop runs
// are closed too.
func (f *Files) Drop(client uint32) error {
	f.mu.Lock()
	t := f.clients[client]
	delete(f.clients, client)
	f.mu.Unlock()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	t.dropped = true
	fds := t.fds
	t.fds = nil
	t.mu.Unlock()
	var errs []error
	for _, h := range fds {
		if err := h.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NumOpen reports how many descriptors client has open.
func (f *Files) NumOpen(client uint32) int {
	f.mu.Lock()
	t := f.clients[client]
	f.mu.Unlock()
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.fds)
}

// errno reduces err to the syscall.Errno a client receives; an error that
// carries none is logged and reported as EIO.
func (f *Files) errno(op string, err error) error {
	if err == nil {
		return nil
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	f.log.Debug("vfs: error without errno", "op", op, "err", err)
	return syscall.EIO
}

// Errno returns the syscall.Errno err carries, EIO if none, 0 for nil.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}
