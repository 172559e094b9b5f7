package vfs

import (
	"context"
	"strings"
	"syscall"
	"testing"
)

const client = 7

// openOnly opens path and closes the descriptor again.
func openOnly(path string, flags uint32) func(*Files) error {
	return func(f *Files) error {
		ctx := context.Background()
		fd, err := f.Open(ctx, client, path, flags, 0o644)
		if err == nil {
			f.Close(ctx, client, fd)
		}
		return err
	}
}

// onFD opens path with flags and runs op on the descriptor.
func onFD(path string, flags uint32, op func(f *Files, fd int32) error) func(*Files) error {
	return func(f *Files) error {
		ctx := context.Background()
		fd, err := f.Open(ctx, client, path, flags, 0)
		if err != nil {
			return err
		}
		defer f.Close(ctx, client, fd)
		return op(f, fd)
	}
}

func readFD(f *Files, fd int32) error {
	_, err := f.Read(context.Background(), client, fd, 10)
	return err
}

func writeFD(f *Files, fd int32) error {
	_, err := f.Write(context.Background(), client, fd, []byte("x"))
	return err
}

func readDirFD(f *Files, fd int32) error {
	_, err := f.ReadDir(context.Background(), client, fd, 10)
	return err
}

var bg = context.Background()

// errnoCases run on every file system kind; rw is the errno on a writable
// one, ro on a read-only one (hostdir mode "ro", romfs): Linux's on a
// read-only mount, which reports a missing parent, an existing name or a
// directory before EROFS (linuxdiff_test.go compares them with one).
var errnoCases = []struct {
	name   string
	op     func(*Files) error
	rw, ro syscall.Errno
}{
	{"open missing", openOnly("/missing", O_RDONLY), syscall.ENOENT, syscall.ENOENT},
	{"open missing for write", openOnly("/missing", O_WRONLY), syscall.ENOENT, syscall.ENOENT},
	{"create in missing dir", openOnly("/nodir/x", O_WRONLY|O_CREAT), syscall.ENOENT, syscall.ENOENT},
	{"create", openOnly("/new", O_WRONLY|O_CREAT), 0, syscall.EROFS},
	{"create exclusive existing", openOnly("/file.txt", O_WRONLY|O_CREAT|O_EXCL), syscall.EEXIST, syscall.EEXIST},
	{"open existing with O_CREAT read-only", openOnly("/file.txt", O_RDONLY|O_CREAT), 0, 0},
	{"open file for write", openOnly("/file.txt", O_WRONLY), 0, syscall.EROFS},
	{"open file O_TRUNC", openOnly("/file.txt", O_RDWR|O_TRUNC), 0, syscall.EROFS},
	{"open dir for write", openOnly("/dir", O_WRONLY), syscall.EISDIR, syscall.EISDIR},
	{"open file O_DIRECTORY", openOnly("/file.txt", O_DIRECTORY), syscall.ENOTDIR, syscall.ENOTDIR},
	{"open dir O_DIRECTORY", openOnly("/dir", O_DIRECTORY), 0, 0},
	{"open through a file", openOnly("/file.txt/x", O_RDONLY), syscall.ENOTDIR, syscall.ENOTDIR},
	{"open file with trailing slash", openOnly("/file.txt/", O_RDONLY), syscall.ENOTDIR, syscall.ENOTDIR},
	{"create with trailing slash", openOnly("/new/", O_WRONLY|O_CREAT), syscall.EISDIR, syscall.EISDIR},
	{"open accmode 3", openOnly("/file.txt", 3), syscall.EINVAL, syscall.EINVAL},
	{"open unknown flag", openOnly("/file.txt", 0x4000000), syscall.EINVAL, syscall.EINVAL},
	{"open O_CREAT|O_DIRECTORY", openOnly("/x", O_CREAT|O_DIRECTORY), syscall.EINVAL, syscall.EINVAL},
	{"open O_CLOEXEC ignored", openOnly("/file.txt", O_RDONLY|O_CLOEXEC|O_LARGEFILE), 0, 0},
	{"open empty path", openOnly("", O_RDONLY), syscall.ENOENT, syscall.ENOENT},
	{"open path with NUL", openOnly("/file\x00.txt", O_RDONLY), syscall.EINVAL, syscall.EINVAL},
	{"open long name", openOnly("/"+strings.Repeat("n", 256), O_RDONLY), syscall.ENAMETOOLONG, syscall.ENAMETOOLONG},
	{"open long path", openOnly(strings.Repeat("/d", 2049), O_RDONLY), syscall.ENAMETOOLONG, syscall.ENAMETOOLONG},
	{"open name of 255", openOnly("/"+strings.Repeat("n", 255), O_RDONLY), syscall.ENOENT, syscall.ENOENT},
	{"read write-only fd", onFD("/file.txt", O_WRONLY, readFD), syscall.EBADF, syscall.EROFS},
	{"write read-only fd", onFD("/file.txt", O_RDONLY, writeFD), syscall.EBADF, syscall.EBADF},
	{"read directory", onFD("/dir", O_RDONLY, readFD), syscall.EISDIR, syscall.EISDIR},
	{"readdir file", onFD("/file.txt", O_RDONLY, readDirFD), syscall.ENOTDIR, syscall.ENOTDIR},
	{"read unknown fd", func(f *Files) error { return readFD(f, 99) }, syscall.EBADF, syscall.EBADF},
	{"close unknown fd", func(f *Files) error { return f.Close(bg, client, 3) }, syscall.EBADF, syscall.EBADF},
	{"fstat unknown fd", func(f *Files) error { _, err := f.FStat(bg, client, -1); return err }, syscall.EBADF, syscall.EBADF},
	{"stat missing", func(f *Files) error { _, err := f.Stat(bg, client, "/missing"); return err }, syscall.ENOENT, syscall.ENOENT},
	{"stat file with trailing slash", func(f *Files) error { _, err := f.Stat(bg, client, "/file.txt/"); return err }, syscall.ENOTDIR, syscall.ENOTDIR},
	{"mkdir", func(f *Files) error { return f.MkDir(bg, client, "/newdir", 0o755) }, 0, syscall.EROFS},
	{"mkdir existing", func(f *Files) error { return f.MkDir(bg, client, "/dir", 0o755) }, syscall.EEXIST, syscall.EEXIST},
	{"mkdir root", func(f *Files) error { return f.MkDir(bg, client, "/", 0o755) }, syscall.EEXIST, syscall.EEXIST},
	{"mkdir in missing dir", func(f *Files) error { return f.MkDir(bg, client, "/nodir/x", 0o755) }, syscall.ENOENT, syscall.ENOENT},
	{"unlink file", func(f *Files) error { return f.Unlink(bg, client, "/file.txt", 0) }, 0, syscall.EROFS},
	{"unlink missing", func(f *Files) error { return f.Unlink(bg, client, "/missing", 0) }, syscall.ENOENT, syscall.EROFS},
	{"unlink dir", func(f *Files) error { return f.Unlink(bg, client, "/empty", 0) }, syscall.EISDIR, syscall.EROFS},
	{"unlink dir with slash", func(f *Files) error { return f.Unlink(bg, client, "/empty/", 0) }, syscall.EISDIR, syscall.EROFS},
	{"unlink file with slash", func(f *Files) error { return f.Unlink(bg, client, "/file.txt/", 0) }, syscall.ENOTDIR, syscall.EROFS},
	{"rmdir empty", func(f *Files) error { return f.Unlink(bg, client, "/empty", AT_REMOVEDIR) }, 0, syscall.EROFS},
	{"rmdir file", func(f *Files) error { return f.Unlink(bg, client, "/file.txt", AT_REMOVEDIR) }, syscall.ENOTDIR, syscall.EROFS},
	{"rmdir non-empty", func(f *Files) error { return f.Unlink(bg, client, "/dir", AT_REMOVEDIR) }, syscall.ENOTEMPTY, syscall.EROFS},
	{"rmdir root", func(f *Files) error { return f.Unlink(bg, client, "/", AT_REMOVEDIR) }, syscall.EBUSY, syscall.EBUSY},
	{"unlink bad flags", func(f *Files) error { return f.Unlink(bg, client, "/file.txt", 1) }, syscall.EINVAL, syscall.EINVAL},
	{"rename file", func(f *Files) error { return f.Rename(bg, client, "/file.txt", "/moved") }, 0, syscall.EROFS},
	{"rename missing", func(f *Files) error { return f.Rename(bg, client, "/missing", "/x") }, syscall.ENOENT, syscall.EROFS},
	{"rename into missing dir", func(f *Files) error { return f.Rename(bg, client, "/file.txt", "/nodir/x") }, syscall.ENOENT, syscall.ENOENT},
	{"rename dir below itself", func(f *Files) error { return f.Rename(bg, client, "/dir", "/dir/sub") }, syscall.EINVAL, syscall.EROFS},
	{"rename dir over file", func(f *Files) error { return f.Rename(bg, client, "/empty", "/file.txt") }, syscall.ENOTDIR, syscall.EROFS},
	{"rename file over dir", func(f *Files) error { return f.Rename(bg, client, "/file.txt", "/empty") }, syscall.EISDIR, syscall.EROFS},
	{"rename dir over non-empty dir", func(f *Files) error { return f.Rename(bg, client, "/empty", "/dir") }, syscall.ENOTEMPTY, syscall.EROFS},
	{"rename dir over empty dir", func(f *Files) error { return f.Rename(bg, client, "/dir", "/empty") }, 0, syscall.EROFS},
	{"rename root", func(f *Files) error { return f.Rename(bg, client, "/", "/x") }, syscall.EBUSY, syscall.EBUSY},
	{"truncate", func(f *Files) error { return f.Truncate(bg, client, "/file.txt", 2) }, 0, syscall.EROFS},
	{"truncate dir", func(f *Files) error { return f.Truncate(bg, client, "/dir", 0) }, syscall.EISDIR, syscall.EISDIR},
	{"truncate missing", func(f *Files) error { return f.Truncate(bg, client, "/missing", 0) }, syscall.ENOENT, syscall.ENOENT},
	{"truncate huge size", func(f *Files) error { return f.Truncate(bg, client, "/file.txt", 1<<63) }, syscall.EINVAL, syscall.EINVAL},
	{"pread huge offset", onFD("/file.txt", O_RDONLY, func(f *Files, fd int32) error {
		_, err := f.PRead(bg, client, fd, 1, 1<<63)
		return err
	}), syscall.EINVAL, syscall.EINVAL},
	{"write too big", onFD("/file.txt", O_RDONLY, func(f *Files, fd int32) error {
		_, err := f.Write(bg, client, fd, make([]byte, MaxData+1))
		return err
	}), syscall.EINVAL, syscall.EINVAL},
	{"fsync", onFD("/file.txt", O_RDONLY, func(f *Files, fd int32) error { return f.FSync(bg, client, fd) }), 0, 0},
}

func TestErrnos(t *testing.T) {
	for _, kind := range fsKinds {
		for _, tc := range errnoCases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				fs, _ := kind.make(t)
				f := newFiles(t, fs)
				want := tc.rw
				if kind.readOnly {
					want = tc.ro
				}
				wantErrno(t, tc.name, tc.op(f), want)
				if n := f.NumOpen(client); n != 0 {
					t.Errorf("%d descriptors left open", n)
				}
			})
		}
	}
}

// TestRamFSPermissions covers EACCES, which ramfs enforces from the owner
// permission bits (a host folder defers to the host kernel, and tests may
// run as root, which bypasses permission bits).
func TestRamFSPermissions(t *testing.T) {
	fs, _ := newRamFixture(t)
	writeFile(t, fs, "ro.txt", "x", 0o444)
	writeFile(t, fs, "wo.txt", "x", 0o200)
	must(t, fs.Mkdir("locked", 0o000))
	must(t, fs.Mkdir("nowrite", 0o555))
	f := newFiles(t, fs)
	tests := []struct {
		name string
		op   func(*Files) error
		want syscall.Errno
	}{
		{"write 0444", openOnly("/ro.txt", O_WRONLY), syscall.EACCES},
		{"read 0444", openOnly("/ro.txt", O_RDONLY), 0},
		{"read 0200", openOnly("/wo.txt", O_RDONLY), syscall.EACCES},
		{"write 0200", openOnly("/wo.txt", O_WRONLY), 0},
		{"truncate 0444", func(f *Files) error { return f.Truncate(bg, client, "/ro.txt", 0) }, syscall.EACCES},
		{"search 0000", openOnly("/locked/x", O_RDONLY), syscall.EACCES},
		{"create in 0555", openOnly("/nowrite/x", O_WRONLY|O_CREAT), syscall.EACCES},
		{"mkdir in 0555", func(f *Files) error { return f.MkDir(bg, client, "/nowrite/d", 0o755) }, syscall.EACCES},
		{"create 0444 opens for writing", openOnly("/new", O_WRONLY|O_CREAT), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrno(t, tc.name, tc.op(f), tc.want) })
	}
}
