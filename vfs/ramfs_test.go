package vfs

import (
	"fmt"
	"syscall"
	"testing"
)

func TestRamFSSizeLimit(t *testing.T) {
	fs := NewRamFS(RamFSOptions{Size: 100})
	f := newFiles(t, fs)
	fd, err := f.Open(bg, client, "/a", O_WRONLY|O_CREAT, 0o644)
	must(t, err)
	n, err := f.Write(bg, client, fd, make([]byte, 60))
	if n != 60 || err != nil {
		t.Fatalf("write 60: %d, %v", n, err)
	}
	n, err = f.Write(bg, client, fd, make([]byte, 60))
	if n != 40 || err != nil {
		t.Fatalf("short write: %d, %v; want 40, nil", n, err)
	}
	_, err = f.Write(bg, client, fd, []byte{1})
	wantErrno(t, "write when full", err, syscall.ENOSPC)
	_, err = f.PWrite(bg, client, fd, []byte{1}, 0)
	wantErrno(t, "overwrite when full", err, 0)
	_, err = f.PWrite(bg, client, fd, []byte{1}, 500)
	wantErrno(t, "hole beyond the limit", err, syscall.ENOSPC)
	wantErrno(t, "truncate beyond the limit", f.Truncate(bg, client, "/a", 101), syscall.ENOSPC)
	if got := fs.Used(); got != 100 {
		t.Errorf("used %d, want 100", got)
	}
	// An unlinked file keeps its space until its last descriptor closes.
	must(t, f.Unlink(bg, client, "/a", 0))
	if got := fs.Used(); got != 100 {
		t.Errorf("used %d after unlink of an open file, want 100", got)
	}
	st, err := f.FStat(bg, client, fd)
	must(t, err)
	if st.Nlink != 0 || st.Size != 100 {
		t.Errorf("fstat of unlinked file: %+v", st)
	}
	must(t, f.Close(bg, client, fd))
	if got := fs.Used(); got != 0 {
		t.Errorf("used %d after close, want 0", got)
	}
	// O_TRUNC gives space back too.
	fd, err = f.Open(bg, client, "/b", O_WRONLY|O_CREAT, 0o644)
	must(t, err)
	_, err = f.Write(bg, client, fd, make([]byte, 100))
	must(t, err)
	must(t, f.Close(bg, client, fd))
	fd, err = f.Open(bg, client, "/b", O_WRONLY|O_TRUNC, 0)
	must(t, err)
	must(t, f.Close(bg, client, fd))
	if got := fs.Used(); got != 0 {
		t.Errorf("used %d after O_TRUNC, want 0", got)
	}
}

func TestRamFSNodeLimit(t *testing.T) {
	fs := NewRamFS(RamFSOptions{MaxNodes: 3}) // the root and two more
	f := newFiles(t, fs)
	must(t, f.MkDir(bg, client, "/d", 0o755))
	must(t, openOnly("/d/f", O_WRONLY|O_CREAT)(f))
	wantErrno(t, "third node", openOnly("/g", O_WRONLY|O_CREAT)(f), syscall.ENOSPC)
	wantErrno(t, "third dir", f.MkDir(bg, client, "/e", 0o755), syscall.ENOSPC)
	must(t, f.Unlink(bg, client, "/d/f", 0))
	must(t, openOnly("/g", O_WRONLY|O_CREAT)(f))
}

func TestRamFSUnbounded(t *testing.T) {
	fs := NewRamFS(RamFSOptions{})
	f := newFiles(t, fs)
	for i := range 2000 {
		must(t, openOnly(fmt.Sprintf("/f%d", i), O_WRONLY|O_CREAT)(f))
	}
}

// TestRamFSFarWrite: without a size, a write or truncate far beyond the
// end is EFBIG, not an allocation of the whole hole (which ended the VFS
// entity with an out-of-memory crash).
func TestRamFSFarWrite(t *testing.T) {
	fs := NewRamFS(RamFSOptions{})
	f := newFiles(t, fs)
	fd, err := f.Open(bg, client, "/big", O_RDWR|O_CREAT, 0o644)
	must(t, err)
	_, err = f.PWrite(bg, client, fd, []byte("x"), 1<<40)
	wantErrno(t, "write at 1 TiB", err, syscall.EFBIG)
	wantErrno(t, "truncate to 4 EiB", f.Truncate(bg, client, "/big", 1<<62), syscall.EFBIG)
	_, err = f.PWrite(bg, client, fd, []byte("x"), 1<<20)
	wantErrno(t, "write at 1 MiB", err, 0)
	if got := fs.Used(); got != 1<<20+1 {
		t.Errorf("used %d, want %d", got, 1<<20+1)
	}
}

func TestRamFSNameChecks(t *testing.T) {
	fs := NewRamFS(RamFSOptions{})
	for _, name := range []string{"/abs", "a//b", "a/./b", "../x", "a/", "x\x00"} {
		if _, err := fs.Open(name, O_RDONLY|O_CREAT, 0o644); err == nil {
			t.Errorf("Open(%q) accepted a name the mount table never passes", name)
		}
	}
}
