package vfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"", 0, false},
		{"100", 100, false},
		{"100B", 100, false},
		{"64MiB", 64 << 20, false},
		{"64 MiB", 64 << 20, false},
		{"2KiB", 2048, false},
		{"1G", 1 << 30, false},
		{"3MB", 3e6, false},
		{"1TiB", 1 << 40, false},
		{"0", 0, true},
		{"-1MiB", 0, true},
		{"+1MiB", 0, true},
		{"1.5MiB", 0, true},
		{"MiB", 0, true},
		{"64XB", 0, true},
		{"9999999999TiB", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64MiB", "1", "9223372036854775807B", "8EiB", " 1 K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && (n < 0 || (n == 0) != (s == "")) {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func TestOpenMounts(t *testing.T) {
	www, data := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(www, "index.html"), []byte("<h1>"), 0o644))
	open := func(p string) *os.File {
		f, err := os.Open(p)
		must(t, err)
		return f
	}
	m, err := OpenMounts([]MountSpec{
		{Path: "/", FS: "ramfs", Size: "1KiB"},
		{Path: "/www", FS: "romfs", Source: open(www)},
		{Path: "/data", FS: "hostdir", Mode: "rw", Source: open(data)},
		{Path: "/ro", FS: "hostdir", Source: open(data)},
	})
	must(t, err)
	defer m.Close()
	f := NewFiles(m, FilesOptions{})
	if got := readAll(t, f, client, "/www/index.html"); got != "<h1>" {
		t.Errorf("/www/index.html: %q", got)
	}
	must(t, openOnly("/data/x", O_WRONLY|O_CREAT)(f))
	wantErrno(t, "hostdir defaults to ro", openOnly("/ro/y", O_WRONLY|O_CREAT)(f), syscall.EROFS)
	fd, err := f.Open(bg, client, "/big", O_WRONLY|O_CREAT, 0o644)
	must(t, err)
	_, err = f.Write(bg, client, fd, make([]byte, 2048))
	must(t, err)
	_, err = f.Write(bg, client, fd, []byte{1})
	wantErrno(t, "ramfs size from the spec", err, syscall.ENOSPC)

	for _, bad := range [][]MountSpec{
		{{Path: "/", FS: "nfs"}},
		{{Path: "/", FS: "romfs"}},
		{{Path: "/", FS: "ramfs", Size: "lots"}},
		{{Path: "/", FS: "hostdir", Mode: "rwx", Source: open(data)}},
		{{Path: "/", FS: "ramfs"}, {Path: "/", FS: "ramfs"}},
	} {
		if _, err := OpenMounts(bad); err == nil {
			t.Errorf("OpenMounts(%+v): no error", bad)
		}
	}
}
