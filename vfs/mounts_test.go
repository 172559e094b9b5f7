package vfs

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// mountFixture: "/" ramfs with /etc/passwd "ram", "/www" romfs with
// index.html, "/data" hostdir rw, "/srv/app" a ramfs whose /srv exists in
// no file system.
func mountFixture(t *testing.T) (*Files, string) {
	t.Helper()
	root := NewRamFS(RamFSOptions{Size: 1 << 20})
	must(t, root.Mkdir("etc", 0o755))
	writeFile(t, root, "etc/passwd", "ram", 0o644)
	www := t.TempDir()
	must(t, os.WriteFile(filepath.Join(www, "index.html"), []byte("<h1>"), 0o644))
	data := t.TempDir()
	m, err := NewMounts(
		Mount{Path: "/", FS: root},
		Mount{Path: "/www", FS: openHostDir(t, www, "rom")},
		Mount{Path: "/data", FS: openHostDir(t, data, "rw")},
		Mount{Path: "/srv/app", FS: NewRamFS(RamFSOptions{})},
	)
	must(t, err)
	return NewFiles(m, FilesOptions{}), data
}

func TestMountRouting(t *testing.T) {
	f, data := mountFixture(t)
	reads := map[string]string{
		"/www/index.html":           "<h1>",
		"/www/../etc/passwd":        "ram",
		"/www/../../../etc/passwd":  "ram",
		"www/index.html":            "<h1>",
		"//www///index.html":        "<h1>",
		"/data/../www/./index.html": "<h1>",
	}
	for p, want := range reads {
		if got := readAll(t, f, client, p); got != want {
			t.Errorf("%s reads %q, want %q", p, got, want)
		}
	}
	must(t, openOnly("/data/new", O_WRONLY|O_CREAT)(f))
	if _, err := os.Stat(filepath.Join(data, "new")); err != nil {
		t.Errorf("/data/new not in the host folder: %v", err)
	}
	wantErrno(t, "/wwwx is not /www", openOnly("/wwwx/index.html", O_RDONLY)(f), syscall.ENOENT)
	wantErrno(t, "write to romfs", openOnly("/www/index.html", O_WRONLY)(f), syscall.EROFS)
	wantErrno(t, "rename across mounts", f.Rename(bg, client, "/data/new", "/moved"), syscall.EXDEV)
	wantErrno(t, "rename into mount", f.Rename(bg, client, "/etc/passwd", "/data/p"), syscall.EXDEV)
	wantErrno(t, "rename mount point", f.Rename(bg, client, "/data", "/d2"), syscall.EBUSY)
	wantErrno(t, "rename onto mount point", f.Rename(bg, client, "/etc", "/data"), syscall.EBUSY)
	wantErrno(t, "rmdir mount point", f.Unlink(bg, client, "/www", AT_REMOVEDIR), syscall.EBUSY)
	wantErrno(t, "rmdir mount ancestor", f.Unlink(bg, client, "/srv", AT_REMOVEDIR), syscall.EBUSY)
	wantErrno(t, "mkdir mount point", f.MkDir(bg, client, "/www", 0o755), syscall.EEXIST)
	wantErrno(t, "mkdir mount ancestor", f.MkDir(bg, client, "/srv", 0o755), syscall.EEXIST)
	must(t, f.Rename(bg, client, "/data/new", "/data/renamed"))
}

func TestMountPointsListed(t *testing.T) {
	f, _ := mountFixture(t)
	list := func(p string) []string {
		fd, err := f.Open(bg, client, p, O_RDONLY, 0)
		must(t, err)
		defer f.Close(bg, client, fd)
		var names []string
		for {
			ents, err := f.ReadDir(bg, client, fd, 1)
			must(t, err)
			if len(ents) == 0 {
				return names
			}
			for _, e := range ents {
				if e.Mode&S_IFMT != S_IFDIR && e.Name != "passwd" {
					t.Errorf("%s/%s: mode %#o", p, e.Name, e.Mode)
				}
				names = append(names, e.Name)
			}
		}
	}
	if got, want := list("/"), []string{"etc", "data", "srv", "www"}; !slices.Equal(got, want) {
		t.Errorf("/ lists %v, want %v", got, want)
	}
	if got, want := list("/srv"), []string{"app"}; !slices.Equal(got, want) {
		t.Errorf("/srv lists %v, want %v", got, want)
	}
	if st, err := f.Stat(bg, client, "/srv"); err != nil || !st.IsDir() {
		t.Errorf("stat /srv: %+v, %v", st, err)
	}
	wantErrno(t, "write into synthetic dir", openOnly("/srv", O_WRONLY)(f), syscall.EROFS)
	wantErrno(t, "missing", openOnly("/srv/missing", O_RDONLY)(f), syscall.ENOENT)
}

func TestNewMountsErrors(t *testing.T) {
	fs := NewRamFS(RamFSOptions{})
	for _, ms := range [][]Mount{
		{{Path: "www", FS: fs}},
		{{Path: "/www/", FS: fs}},
		{{Path: "/a/../b", FS: fs}},
		{{Path: "/", FS: nil}},
		{{Path: "/", FS: fs}, {Path: "/", FS: fs}},
	} {
		if _, err := NewMounts(ms...); err == nil {
			t.Errorf("NewMounts(%v): no error", ms)
		}
	}
}

func TestNoRootMount(t *testing.T) {
	m, err := NewMounts(Mount{Path: "/data", FS: NewRamFS(RamFSOptions{})})
	must(t, err)
	f := NewFiles(m, FilesOptions{})
	wantErrno(t, "outside every mount", openOnly("/etc/passwd", O_RDONLY)(f), syscall.ENOENT)
	must(t, openOnly("/data/x", O_WRONLY|O_CREAT)(f))
	if st, err := f.Stat(bg, client, "/"); err != nil || !st.IsDir() {
		t.Errorf("stat / above mounts: %+v, %v", st, err)
	}
}
