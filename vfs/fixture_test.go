package vfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// fsKind names a file system the shared tests run on.
type fsKind struct {
	name     string
	readOnly bool
	// make returns the file system holding the fixture tree and, for host
	// folders, the folder's path ("" for ramfs).
	make func(t *testing.T) (FileSystem, string)
}

var fsKinds = []fsKind{
	{name: "ramfs", make: newRamFixture},
	{name: "hostdir-rw", make: func(t *testing.T) (FileSystem, string) { return newHostFixture(t, "rw") }},
	{name: "hostdir-ro", readOnly: true, make: func(t *testing.T) (FileSystem, string) { return newHostFixture(t, "ro") }},
	{name: "romfs", readOnly: true, make: func(t *testing.T) (FileSystem, string) { return newHostFixture(t, "rom") }},
}

// The fixture tree: file.txt "hello", dir/inner.txt "inner", empty/.
func writeHostTree(t *testing.T, root string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(root, "file.txt"), []byte("hello"), 0o644))
	must(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "dir", "inner.txt"), []byte("inner"), 0o644))
	must(t, os.Mkdir(filepath.Join(root, "empty"), 0o755))
}

func newHostFixture(t *testing.T, mode string) (FileSystem, string) {
	t.Helper()
	root := t.TempDir()
	writeHostTree(t, root)
	return openHostDir(t, root, mode), root
}

func openHostDir(t testing.TB, root, mode string) FileSystem {
	t.Helper()
	dir, err := os.Open(root)
	must(t, err)
	var fs FileSystem
	if mode == "rom" {
		fs, err = NewRomFS(dir)
	} else {
		fs, err = NewHostDir(dir, mode == "ro")
	}
	must(t, err)
	t.Cleanup(func() { fs.Close() })
	return fs
}

func newRamFixture(t *testing.T) (FileSystem, string) {
	t.Helper()
	fs := NewRamFS(RamFSOptions{Size: 1 << 20})
	writeFile(t, fs, "file.txt", "hello", 0o644)
	must(t, fs.Mkdir("dir", 0o755))
	writeFile(t, fs, "dir/inner.txt", "inner", 0o644)
	must(t, fs.Mkdir("empty", 0o755))
	return fs, ""
}

func writeFile(t *testing.T, fs FileSystem, name, data string, mode uint32) {
	t.Helper()
	h, err := fs.Open(name, O_WRONLY|O_CREAT|O_TRUNC, mode)
	must(t, err)
	_, err = h.Write([]byte(data))
	must(t, err)
	must(t, h.Close())
}

// newFiles mounts fs at "/" and serves it.
func newFiles(t *testing.T, fs FileSystem) *Files {
	t.Helper()
	m, err := NewMounts(Mount{Path: "/", FS: fs})
	must(t, err)
	return NewFiles(m, FilesOptions{})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErrno checks that err is exactly the errno want (0: no error).
func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	var got syscall.Errno
	if !errors.As(err, &got) || got != want {
		t.Errorf("%s: error %v, want %v (%d)", what, err, want, int(want))
	}
}

// readAll reads path through f as client, failing the test on error.
func readAll(t *testing.T, f *Files, client uint32, path string) string {
	t.Helper()
	ctx := context.Background()
	fd, err := f.Open(ctx, client, path, O_RDONLY, 0)
	must(t, err)
	defer f.Close(ctx, client, fd)
	var out []byte
	for {
		b, err := f.Read(ctx, client, fd, 4096)
		must(t, err)
		if len(b) == 0 {
			return string(out)
		}
		out = append(out, b...)
	}
}
