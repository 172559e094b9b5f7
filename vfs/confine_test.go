package vfs

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// escapeFixture makes tmp/root with the fixture tree and links that lead
// out of it, and tmp/outside/secret, the sentinel nothing may reach.
func escapeFixture(t *testing.T) (root, outside string) {
	t.Helper()
	tmp := t.TempDir()
	root, outside = filepath.Join(tmp, "root"), filepath.Join(tmp, "outside")
	must(t, os.Mkdir(root, 0o755))
	must(t, os.Mkdir(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	writeHostTree(t, root)
	links := map[string]string{
		"abs":         filepath.Join(outside, "secret"),
		"absdir":      outside,
		"rel":         "../outside/secret",
		"dirlink":     "../outside",
		"chain1":      "chain2",
		"chain2":      "dir/../chain3",
		"chain3":      "../outside",
		"dangle":      "../outside/created",
		"proc":        "/proc/self/root",
		"inner":       "file.txt",
		"innerdotdot": "dir/../file.txt",
		"dir/up":      "../file.txt",
	}
	for name, target := range links {
		must(t, os.Symlink(target, filepath.Join(root, name)))
	}
	return root, outside
}

// outsideNames lists outside, to prove nothing was created or removed there.
func outsideNames(t *testing.T, outside string) []string {
	t.Helper()
	ents, err := os.ReadDir(outside)
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestHostDirConfinement(t *testing.T) {
	for _, mode := range []string{"rw", "ro", "rom"} {
		t.Run(mode, func(t *testing.T) {
			root, outside := escapeFixture(t)
			f := newFiles(t, openHostDir(t, root, mode))
			denied := syscall.EACCES
			tests := []struct {
				name string
				op   func(*Files) error
				want syscall.Errno
				ro   syscall.Errno // on a read-only mount, when it differs
			}{
				{"dotdot", openOnly("/../outside/secret", O_RDONLY), syscall.ENOENT, 0},
				{"dotdot deep", openOnly("/dir/../../../outside/secret", O_RDONLY), syscall.ENOENT, 0},
				{"absolute symlink", openOnly("/abs", O_RDONLY), denied, 0},
				{"absolute dir symlink", openOnly("/absdir/secret", O_RDONLY), denied, 0},
				{"relative symlink", openOnly("/rel", O_RDONLY), denied, 0},
				{"symlink dir", openOnly("/dirlink/secret", O_RDONLY), denied, 0},
				{"symlink chain", openOnly("/chain1/secret", O_RDONLY), denied, 0},
				{"magic link", openOnly("/proc/etc/passwd", O_RDONLY), denied, 0},
				{"create through link", openOnly("/dirlink/new", O_WRONLY|O_CREAT), denied, 0},
				{"create through dangling link", openOnly("/dangle", O_WRONLY|O_CREAT), denied, 0},
				{"stat through link", func(f *Files) error { _, err := f.Stat(bg, client, "/rel"); return err }, denied, 0},
				{"mkdir through link", func(f *Files) error { return f.MkDir(bg, client, "/dirlink/d", 0o755) }, denied, 0},
				{"unlink through link", func(f *Files) error { return f.Unlink(bg, client, "/dirlink/secret", 0) }, denied, 0},
				{"rename out", func(f *Files) error { return f.Rename(bg, client, "/file.txt", "/dirlink/stolen") }, denied, 0},
				{"rename in", func(f *Files) error { return f.Rename(bg, client, "/dirlink/secret", "/got") }, denied, 0},
				{"truncate through link", func(f *Files) error { return f.Truncate(bg, client, "/rel", 0) }, denied, 0},
				{"link inside", openOnly("/inner", O_RDONLY), 0, 0},
				{"link inside via dotdot", openOnly("/innerdotdot", O_RDONLY), 0, 0},
				{"link up inside", openOnly("/dir/up", O_RDONLY), 0, 0},
			}
			before := outsideNames(t, outside)
			for _, tc := range tests {
				want := tc.want
				if mode != "rw" && tc.ro != 0 {
					want = tc.ro
				}
				wantErrno(t, tc.name, tc.op(f), want)
			}
			if after := outsideNames(t, outside); !slices.Equal(before, after) {
				t.Errorf("outside changed: %v, was %v", after, before)
			}
			if b, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(b) != "secret" {
				t.Errorf("sentinel now %q, %v", b, err)
			}
			if got := readAll(t, f, client, "/inner"); got != "hello" {
				t.Errorf("/inner reads %q", got)
			}
		})
	}
}

// TestHostDirReadDirLinks checks that ReadDir reports links as links
// without following them out of the mount.
func TestHostDirReadDirLinks(t *testing.T) {
	root, _ := escapeFixture(t)
	f := newFiles(t, openHostDir(t, root, "ro"))
	fd, err := f.Open(bg, client, "/", O_RDONLY|O_DIRECTORY, 0)
	must(t, err)
	ents, err := f.ReadDir(bg, client, fd, 0)
	must(t, err)
	modes := map[string]uint32{}
	for _, e := range ents {
		modes[e.Name] = e.Mode & S_IFMT
	}
	for name, want := range map[string]uint32{"abs": S_IFLNK, "dirlink": S_IFLNK, "dir": S_IFDIR, "file.txt": S_IFREG} {
		if modes[name] != want {
			t.Errorf("%s: mode %#o, want %#o", name, modes[name], want)
		}
	}
	if _, ok := modes["."]; ok {
		t.Error("ReadDir lists .")
	}
}

// TestHostDirSpecialFiles checks that a FIFO is refused rather than
// opened (which would block).
func TestHostDirSpecialFiles(t *testing.T) {
	root := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	f := newFiles(t, openHostDir(t, root, "rw"))
	wantErrno(t, "open fifo", openOnly("/fifo", O_RDONLY)(f), syscall.EACCES)
	wantErrno(t, "open fifo for write", openOnly("/fifo", O_WRONLY)(f), syscall.EACCES)
}

func TestNewHostDirNotDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(p, nil, 0o644))
	file, err := os.Open(p)
	must(t, err)
	defer file.Close()
	if _, err := NewHostDir(file, false); err == nil {
		t.Fatal("NewHostDir on a file: no error")
	}
}
