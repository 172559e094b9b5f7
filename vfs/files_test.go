package vfs

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
)

func TestClientsHaveOwnTables(t *testing.T) {
	fs, _ := newRamFixture(t)
	f := newFiles(t, fs)
	fdA, err := f.Open(bg, 1, "/file.txt", O_RDONLY, 0)
	must(t, err)
	fdB, err := f.Open(bg, 2, "/dir/inner.txt", O_RDONLY, 0)
	must(t, err)
	if fdA != 3 || fdB != 3 {
		t.Fatalf("descriptors %d and %d, want 3 and 3", fdA, fdB)
	}
	a, _ := f.Read(bg, 1, 3, 100)
	b, _ := f.Read(bg, 2, 3, 100)
	if string(a) != "hello" || string(b) != "inner" {
		t.Errorf("client 1 fd 3 reads %q, client 2 fd 3 reads %q", a, b)
	}
	_, err = f.Read(bg, 3, 3, 100)
	wantErrno(t, "client 3 has no fd 3", err, syscall.EBADF)
	wantErrno(t, "client 2 closes client 1's fd 4", f.Close(bg, 2, 4), syscall.EBADF)

	// Lowest free descriptor is reused.
	fd4, err := f.Open(bg, 1, "/file.txt", O_RDONLY, 0)
	must(t, err)
	must(t, f.Close(bg, 1, 3))
	fd3, err := f.Open(bg, 1, "/file.txt", O_RDONLY, 0)
	must(t, err)
	if fd4 != 4 || fd3 != 3 {
		t.Errorf("descriptors %d, %d; want 4, 3", fd4, fd3)
	}
	must(t, f.Drop(1))
	if n := f.NumOpen(1); n != 0 {
		t.Errorf("%d descriptors after Drop", n)
	}
	_, err = f.Read(bg, 1, 3, 1)
	wantErrno(t, "read after Drop", err, syscall.EBADF)
	if n := f.NumOpen(2); n != 1 {
		t.Errorf("client 2 has %d descriptors, want 1", n)
	}
	must(t, f.Drop(99)) // unknown client: nothing to do
}

func TestMaxFDs(t *testing.T) {
	m, err := NewMounts(Mount{Path: "/", FS: NewRamFS(RamFSOptions{})})
	must(t, err)
	f := NewFiles(m, FilesOptions{MaxFDs: 2})
	for range 2 {
		_, err := f.Open(bg, client, "/", O_RDONLY, 0)
		must(t, err)
	}
	_, err = f.Open(bg, client, "/", O_RDONLY, 0)
	wantErrno(t, "third descriptor", err, syscall.EMFILE)
	_, err = f.Open(bg, client+1, "/", O_RDONLY, 0)
	wantErrno(t, "another client", err, 0)
}

// TestConcurrentClients runs many clients at once, each writing and reading
// back its own files through its own table; run with -race.
func TestConcurrentClients(t *testing.T) {
	rwKinds(t, func(t *testing.T, f *Files) {
		const clients, files = 8, 20
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range uint32(clients) {
			wg.Go(func() { errs <- clientWork(f, c+1, files) })
		}
		// Meanwhile, a client that opens and is dropped over and over.
		wg.Go(func() {
			for range 50 {
				f.Open(bg, 100, "/file.txt", O_RDONLY, 0)
				f.Drop(100)
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

func clientWork(f *Files, c uint32, files int) error {
	var fds []int32
	for i := range files {
		p := fmt.Sprintf("/c%d-%d", c, i)
		fd, err := f.Open(bg, c, p, O_RDWR|O_CREAT|O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("client %d: open %s: %w", c, p, err)
		}
		if _, err := f.Write(bg, c, fd, []byte(p)); err != nil {
			return fmt.Errorf("client %d: write: %w", c, err)
		}
		fds = append(fds, fd)
	}
	for i, fd := range fds {
		want := fmt.Sprintf("/c%d-%d", c, i)
		got, err := f.PRead(bg, c, fd, 100, 0)
		if err != nil || string(got) != want {
			return fmt.Errorf("client %d: fd %d reads %q, %v; want %q", c, fd, got, err, want)
		}
	}
	if n := f.NumOpen(c); n != files {
		return fmt.Errorf("client %d: %d open, want %d", c, n, files)
	}
	return f.Drop(c)
}
