package vfs

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
)

// rwKinds runs fn on every writable file system kind.
func rwKinds(t *testing.T, fn func(t *testing.T, f *Files)) {
	for _, kind := range fsKinds {
		if kind.readOnly {
			continue
		}
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := kind.make(t)
			fn(t, newFiles(t, fs))
		})
	}
}

func TestReadWriteSemantics(t *testing.T) {
	rwKinds(t, func(t *testing.T, f *Files) {
		fd, err := f.Open(bg, client, "/w", O_RDWR|O_CREAT|O_EXCL, 0o600)
		must(t, err)
		if fd != firstFD {
			t.Errorf("first descriptor %d, want %d", fd, firstFD)
		}
		n, err := f.Write(bg, client, fd, []byte("hello world"))
		if n != 11 || err != nil {
			t.Fatalf("write: %d, %v", n, err)
		}
		got, err := f.Read(bg, client, fd, 10)
		if len(got) != 0 || err != nil {
			t.Errorf("read at end: %q, %v", got, err)
		}
		_, err = f.PWrite(bg, client, fd, []byte("W"), 6)
		must(t, err)
		got, err = f.PRead(bg, client, fd, 100, 6)
		if string(got) != "World" || err != nil {
			t.Errorf("pread: %q, %v", got, err)
		}
		got, err = f.PRead(bg, client, fd, 100, 1000)
		if len(got) != 0 || err != nil {
			t.Errorf("pread past end: %q, %v", got, err)
		}
		st, err := f.FStat(bg, client, fd)
		must(t, err)
		if st.Size != 11 || st.Mode != S_IFREG|0o600 || st.Nlink != 1 || st.Ino == 0 || st.MtimeNs == 0 {
			t.Errorf("fstat: %+v", st)
		}
		must(t, f.FSync(bg, client, fd))
		must(t, f.Close(bg, client, fd))
		wantErrno(t, "close twice", f.Close(bg, client, fd), syscall.EBADF)

		fd, err = f.Open(bg, client, "/w", O_WRONLY|O_APPEND, 0)
		must(t, err)
		_, err = f.Write(bg, client, fd, []byte("!"))
		must(t, err)
		_, err = f.PWrite(bg, client, fd, []byte("?"), 0) // appends, as on Linux
		must(t, err)
		must(t, f.Close(bg, client, fd))
		if got := readAll(t, f, client, "/w"); got != "hello World!?" {
			t.Errorf("after append: %q", got)
		}
		must(t, f.Truncate(bg, client, "/w", 5))
		if got := readAll(t, f, client, "/w"); got != "hello" {
			t.Errorf("after truncate: %q", got)
		}
		must(t, f.Truncate(bg, client, "/w", 7))
		if got := readAll(t, f, client, "/w"); got != "hello\x00\x00" {
			t.Errorf("after truncate up: %q", got)
		}
		fd, err = f.Open(bg, client, "/w", O_RDWR|O_TRUNC, 0)
		must(t, err)
		must(t, f.Close(bg, client, fd))
		if st, err := f.Stat(bg, client, "/w"); err != nil || st.Size != 0 {
			t.Errorf("after O_TRUNC: %+v, %v", st, err)
		}
		if st, err := f.Stat(bg, client, "/dir/"); err != nil || !st.IsDir() {
			t.Errorf("stat dir: %+v, %v", st, err)
		}
	})
}

func TestRenameSemantics(t *testing.T) {
	rwKinds(t, func(t *testing.T, f *Files) {
		must(t, f.Rename(bg, client, "/file.txt", "/dir/moved"))
		wantErrno(t, "old name", openOnly("/file.txt", O_RDONLY)(f), syscall.ENOENT)
		if got := readAll(t, f, client, "/dir/moved"); got != "hello" {
			t.Errorf("moved file reads %q", got)
		}
		// Replacing a file: the old target goes, an open descriptor of it
		// still reads the old content.
		fd, err := f.Open(bg, client, "/dir/inner.txt", O_RDONLY, 0)
		must(t, err)
		must(t, f.Rename(bg, client, "/dir/moved", "/dir/inner.txt"))
		if got := readAll(t, f, client, "/dir/inner.txt"); got != "hello" {
			t.Errorf("replaced file reads %q", got)
		}
		got, err := f.Read(bg, client, fd, 100)
		if string(got) != "inner" || err != nil {
			t.Errorf("descriptor of the replaced file reads %q, %v", got, err)
		}
		must(t, f.Close(bg, client, fd))
		must(t, f.Rename(bg, client, "/dir/inner.txt", "/dir/inner.txt")) // same name: no-op
		// A directory moves with its content, over an empty directory.
		must(t, f.Rename(bg, client, "/dir", "/empty"))
		if got := readAll(t, f, client, "/empty/inner.txt"); got != "hello" {
			t.Errorf("moved dir content %q", got)
		}
		wantErrno(t, "old dir", openOnly("/dir", O_RDONLY)(f), syscall.ENOENT)
	})
}

func TestReadDirContinuation(t *testing.T) {
	rwKinds(t, func(t *testing.T, f *Files) {
		must(t, f.MkDir(bg, client, "/many", 0o755))
		var want []string
		for i := range 600 {
			name := fmt.Sprintf("f%03d", i)
			want = append(want, name)
			must(t, openOnly("/many/"+name, O_WRONLY|O_CREAT)(f))
		}
		fd, err := f.Open(bg, client, "/many", O_RDONLY|O_DIRECTORY, 0)
		must(t, err)
		var got []string
		var calls int
		for {
			ents, err := f.ReadDir(bg, client, fd, 1000) // clamped to MaxEntries
			must(t, err)
			if len(ents) > MaxEntries {
				t.Fatalf("ReadDir returned %d entries, more than %d", len(ents), MaxEntries)
			}
			if len(ents) == 0 {
				break
			}
			calls++
			for _, e := range ents {
				if e.Mode&S_IFMT != S_IFREG {
					t.Errorf("%s: mode %#o", e.Name, e.Mode)
				}
				got = append(got, e.Name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ReadDir gave %d names, want %d (first %v)", len(got), len(want), got[:min(3, len(got))])
		}
		if calls < 3 {
			t.Errorf("%d calls for 600 entries", calls)
		}
		ents, err := f.ReadDir(bg, client, fd, 10)
		if len(ents) != 0 || err != nil {
			t.Errorf("after the end: %v, %v", ents, err)
		}
		must(t, f.Close(bg, client, fd))
	})
}
