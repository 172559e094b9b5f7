package vfs

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"testing/fstest"

	"capsim/api/capsim/file"
	"capsim/ipc"
)

// loopback is an ipc.Caller that hands each call to a dispatcher in
// process, with a fixed badge, as the entity runtime would.
type loopback struct {
	d     *file.Dispatcher
	badge *ipc.Badge
}

type captured struct{ m *ipc.Message }

func (c *captured) Reply(_ *ipc.Request, m *ipc.Message) error { c.m = m; return nil }

func (l loopback) Call(ctx context.Context, _ ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	req := &ipc.Request{Txn: 1, Badge: l.badge, Message: *m}
	var r captured
	l.d.Serve(ipc.WithBadge(ctx, l.badge), req, &r)
	if r.m == nil {
		return nil, errors.New("no reply")
	}
	if r.m.Status != ipc.OK && r.m.Status != ipc.AppError {
		return nil, &ipc.Error{Status: r.m.Status, Reason: string(r.m.Payload)}
	}
	return r.m, nil
}

func TestFileServerOverIPC(t *testing.T) {
	fs, _ := newRamFixture(t)
	f := newFiles(t, fs)
	d := file.NewDispatcher(NewFileServer(f))
	c1 := &file.Client{Caller: loopback{d: d, badge: &ipc.Badge{ID: 1, Task: "a"}}}
	c2 := &file.Client{Caller: loopback{d: d, badge: &ipc.Badge{ID: 2, Task: "b"}}}

	fd1, err := c1.Open(bg, "/file.txt", O_RDONLY, 0)
	must(t, err)
	fd2, err := c2.Open(bg, "/dir/inner.txt", O_RDONLY, 0)
	must(t, err)
	b1, err := c1.Read(bg, fd1, 100)
	must(t, err)
	b2, err := c2.Read(bg, fd2, 100)
	must(t, err)
	if fd1 != fd2 || string(b1) != "hello" || string(b2) != "inner" {
		t.Errorf("fds %d, %d read %q, %q", fd1, fd2, b1, b2)
	}
	_, err = c1.Open(bg, "/missing", O_RDONLY, 0)
	var oe *file.OpenError
	if !errors.As(err, &oe) || oe.Errno != uint32(syscall.ENOENT) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("open missing over IPC: %v", err)
	}
	must(t, c1.Close(bg, fd1))
	wantErrno(t, "close twice over IPC", c1.Close(bg, fd1), syscall.EBADF)
	if n := f.NumOpen(2); n != 1 {
		t.Errorf("client 2 has %d open, want 1", n)
	}
	st, err := c2.Stat(bg, "/dir")
	if err != nil || st.Mode&S_IFMT != S_IFDIR {
		t.Errorf("stat over IPC: %+v, %v", st, err)
	}
	must(t, c2.MkDir(bg, "/made", 0o755))
	must(t, c2.Rename(bg, "/made", "/made2"))
	must(t, c2.Unlink(bg, "/made2", AT_REMOVEDIR))
	wantErrno(t, "truncate dir over IPC", c2.Truncate(bg, "/dir", 0), syscall.EISDIR)

	if err := fstest.TestFS(NewFS(NewRemoteAPI(c1)), "file.txt", "dir/inner.txt"); err != nil {
		t.Error(err)
	}
	if n := f.NumOpen(1); n != 0 {
		t.Errorf("client 1 has %d open after TestFS", n)
	}
}

func TestFileServerNeedsBadge(t *testing.T) {
	fs, _ := newRamFixture(t)
	s := NewFileServer(newFiles(t, fs))
	_, err := s.Open(bg, "/file.txt", O_RDONLY, 0)
	wantErrno(t, "open without badge", err, syscall.EACCES)
}
