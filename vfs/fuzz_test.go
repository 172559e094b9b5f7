package vfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"syscall"
)

// FuzzResolve sends random client paths through a mount table of a
// read-write hostdir at "/" (full of links leading out) and a ramfs at
// "/mnt", and checks that nothing outside the hostdir's folder is read,
// created, changed or removed.
func FuzzResolve(f *testing.F) {
	for _, p := range []string{
		"/file.txt", "/../secret", "/../outside/secret", "..", "/mnt/../../secret",
		"/abs", "/rel", "/dirlink/secret", "/chain1/secret", "/dangle", "/proc/self/environ",
		"dir/up", "/dir/../../outside", "//..//..//outside/./secret", "/mnt/x/", "/innerdotdot",
	} {
		f.Add(p)
	}
	tmp := f.TempDir()
	root, outside := filepath.Join(tmp, "root"), filepath.Join(tmp, "outside")
	must(f, os.Mkdir(root, 0o755))
	must(f, os.Mkdir(outside, 0o755))
	must(f, os.WriteFile(filepath.Join(outside, "secret"), []byte("SENTINEL"), 0o644))
	must(f, os.WriteFile(filepath.Join(tmp, "secret"), []byte("SENTINEL"), 0o644))
	for name, target := range map[string]string{
		"abs": filepath.Join(outside, "secret"), "rel": "../outside/secret", "dirlink": "../outside",
		"chain1": "chain2", "chain2": "../outside", "dangle": "../outside/created", "up": "..",
		"proc": "/proc/self", "file.txt": "", "innerdotdot": "dir/../file.txt",
	} {
		if target == "" {
			must(f, os.WriteFile(filepath.Join(root, name), []byte("inside"), 0o644))
			continue
		}
		must(f, os.Symlink(target, filepath.Join(root, name)))
	}
	host := openHostDir(f, root, "rw")
	m, err := NewMounts(Mount{Path: "/", FS: host}, Mount{Path: "/mnt", FS: NewRamFS(RamFSOptions{Size: 1 << 16})})
	must(f, err)
	files := NewFiles(m, FilesOptions{})
	before := [][]string{listNames(f, tmp), listNames(f, outside)}
	var secretIno uint64
	if st, err := os.Stat(filepath.Join(outside, "secret")); err == nil {
		secretIno = st.Sys().(*syscall.Stat_t).Ino
	}

	f.Fuzz(func(t *testing.T, p string) {
		checkRoute(t, m, p)
		if fd, err := files.Open(bg, 1, p, O_RDONLY, 0); err == nil {
			b, _ := files.Read(bg, 1, fd, 64)
			if bytes.Contains(b, []byte("SENTINEL")) {
				t.Fatalf("%q read the sentinel", p)
			}
			files.Close(bg, 1, fd)
		}
		if st, err := files.Stat(bg, 1, p); err == nil && st.Ino == secretIno && st.Size == 8 {
			t.Fatalf("%q stats the sentinel", p)
		}
		if fd, err := files.Open(bg, 1, p, O_WRONLY|O_CREAT, 0o644); err == nil {
			files.Write(bg, 1, fd, []byte("x"))
			files.Close(bg, 1, fd)
		}
		files.MkDir(bg, 1, p+"d", 0o755)
		files.Truncate(bg, 1, p, 0)
		files.Rename(bg, 1, p, "/renamed")
		after := [][]string{listNames(t, tmp), listNames(t, outside)}
		for i := range before {
			if !slices.Equal(before[i], after[i]) {
				t.Fatalf("%q changed the host outside the mount: %v, was %v", p, after[i], before[i])
			}
		}
		for _, s := range []string{filepath.Join(outside, "secret"), filepath.Join(tmp, "secret")} {
			if b, err := os.ReadFile(s); err != nil || string(b) != "SENTINEL" {
				t.Fatalf("%q changed the sentinel %s: %q, %v", p, s, b, err)
			}
		}
	})
}

// checkRoute checks the mount table's cleaning: the route's path is
// absolute, clean, free of "..", and lies under the mount it names.
func checkRoute(t *testing.T, m *Mounts, p string) {
	r, err := m.resolve(p)
	if r.abs == "" {
		if err == nil {
			t.Fatalf("%q: no path and no error", p)
		}
		return
	}
	if !strings.HasPrefix(r.abs, "/") || path.Clean(r.abs) != r.abs || slices.Contains(strings.Split(r.abs, "/"), "..") {
		t.Fatalf("%q cleaned to %q", p, r.abs)
	}
	if err == nil && joinAbs(r.mount, r.rel) != r.abs && !(r.rel == "" && r.mount == r.abs) {
		t.Fatalf("%q: route %q + %q is not %q", p, r.mount, r.rel, r.abs)
	}
	if err == nil && checkName(r.rel) != nil && len(r.rel) <= MaxPath {
		t.Fatalf("%q: relative name %q is not clean", p, r.rel)
	}
}

func listNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// FuzzParseDirents checks that the getdents64 decoder never panics and
// only returns plain names.
func FuzzParseDirents(f *testing.F) {
	f.Add(direntRecord("file.txt"))
	f.Add(append(direntRecord("."), direntRecord("a")...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, buf []byte) {
		names, _ := parseDirents(buf)
		for _, n := range names {
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
				t.Fatalf("parseDirents gave name %q", n)
			}
		}
	})
}

// direntRecord encodes one linux_dirent64 record, padded to 8 bytes.
func direntRecord(name string) []byte {
	reclen := (direntHeader + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.NativeEndian.PutUint64(b, 1)
	binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
	copy(b[direntHeader:], name)
	return b
}

func TestParseDirents(t *testing.T) {
	tests := []struct {
		name string
		buf  []byte
		want []string
		err  bool
	}{
		{"two", append(direntRecord("a"), direntRecord("bc")...), []string{"a", "bc"}, false},
		{"dots skipped", append(direntRecord("."), direntRecord("..")...), nil, false},
		{"short header", []byte{1, 2, 3}, nil, true},
		{"reclen too long", direntRecord("a")[:20], nil, true},
		{"slash in name", direntRecord("a/b"), nil, true},
		{"good then bad", append(direntRecord("a"), 0), []string{"a"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDirents(tc.buf)
			if !slices.Equal(got, tc.want) || (err != nil) != tc.err {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}
