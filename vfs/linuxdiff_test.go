package vfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The differential test runs each script of file calls against each capsim
// file system (served by Files, as the VFS entity serves them) and against
// the Linux kernel of the test process, in a folder holding the same tree.
// Each call logs one line of what a program can observe — an errno, bytes
// read, a byte count, a file's type, size and owner permission bits, a
// directory's names (sorted) — and the logs must match.
//
// References: ramfs and a read-write hostdir are compared with Linux in a
// read-write folder; romfs and a read-only hostdir with Linux in the same
// tree bind-mounted read-only (in a child process with its own mount
// namespace; skipped where none can be made); the permission cases run on
// ramfs only (a hostdir's checks are the host's, under the entity's
// credentials) against Linux as an unprivileged user (a child process that
// drops to nobody when the test runs as root).
//
// Not compared, by design:
//   - times, inode numbers, link counts, a directory's size, group and
//     other permission bits (Linux applies the umask, a ramfs does not);
//   - the write bits of a romfs (it clears them in every mode it reports);
//   - ".." above "/" (the VFS root is the client's root, as after chroot;
//     the Linux reference runs in a folder whose parent exists);
//   - removing or renaming "/" (the Linux reference's root is a folder);
//   - permission checks of hostdir and romfs (the host kernel's);
//   - ENOSPC, EFBIG and EMFILE bounds (capsim's own limits);
//   - open flags Linux ignores or gives meaning the interface lacks
//     (unknown bits, O_SYNC, O_PATH, access mode 3): capsim refuses them
//     with EINVAL so a policy can reason about the flags it allows;
//   - a name longer than 255 bytes on a read-only mount (allowed in
//     "name length": capsim checks lengths first, Linux after EROFS).

// ldAPI is the file interface as a program sees it.
type ldAPI interface {
	Open(p string, flags, mode uint32) (int32, error)
	Read(fd int32, size uint32) ([]byte, error)
	Write(fd int32, b []byte) (uint32, error)
	PRead(fd int32, size uint32, off uint64) ([]byte, error)
	PWrite(fd int32, b []byte, off uint64) (uint32, error)
	Close(fd int32) error
	Stat(p string) (FileStat, error)
	FStat(fd int32) (FileStat, error)
	ReadDir(fd int32) ([]string, error) // every remaining name, sorted
	MkDir(p string, mode uint32) error
	Unlink(p string, flags uint32) error
	Rename(from, to string) error
	Truncate(p string, size uint64) error
	FSync(fd int32) error
}

// ldVFS is one client of a Files.
type ldVFS struct{ f *Files }

const ldClient = 7

var ldCtx = context.Background()

func (v ldVFS) Open(p string, flags, mode uint32) (int32, error) {
	return v.f.Open(ldCtx, ldClient, p, flags, mode)
}
func (v ldVFS) Read(fd int32, n uint32) ([]byte, error) { return v.f.Read(ldCtx, ldClient, fd, n) }
func (v ldVFS) Write(fd int32, b []byte) (uint32, error) {
	return v.f.Write(ldCtx, ldClient, fd, b)
}
func (v ldVFS) PRead(fd int32, n uint32, off uint64) ([]byte, error) {
	return v.f.PRead(ldCtx, ldClient, fd, n, off)
}
func (v ldVFS) PWrite(fd int32, b []byte, off uint64) (uint32, error) {
	return v.f.PWrite(ldCtx, ldClient, fd, b, off)
}
func (v ldVFS) Close(fd int32) error             { return v.f.Close(ldCtx, ldClient, fd) }
func (v ldVFS) Stat(p string) (FileStat, error)  { return v.f.Stat(ldCtx, ldClient, p) }
func (v ldVFS) FStat(fd int32) (FileStat, error) { return v.f.FStat(ldCtx, ldClient, fd) }
func (v ldVFS) ReadDir(fd int32) ([]string, error) {
	var names []string
	for {
		// Two at a time, so continuation is exercised too.
		ents, err := v.f.ReadDir(ldCtx, ldClient, fd, 2)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			slices.Sort(names)
			return names, nil
		}
		for _, e := range ents {
			names = append(names, e.Name)
		}
	}
}
func (v ldVFS) MkDir(p string, mode uint32) error { return v.f.MkDir(ldCtx, ldClient, p, mode) }
func (v ldVFS) Unlink(p string, flags uint32) error {
	return v.f.Unlink(ldCtx, ldClient, p, flags)
}
func (v ldVFS) Rename(from, to string) error { return v.f.Rename(ldCtx, ldClient, from, to) }
func (v ldVFS) Truncate(p string, size uint64) error {
	return v.f.Truncate(ldCtx, ldClient, p, size)
}
func (v ldVFS) FSync(fd int32) error { return v.f.FSync(ldCtx, ldClient, fd) }

// ldLinux is the kernel's files under root: a client path "/x" is root+"/x"
// and a relative one is taken from root too. With root "." (the working
// directory is the tree) a relative path is passed unchanged, so path
// length limits compare exactly.
type ldLinux struct {
	root string
	fds  map[int32]bool
}

func newLDLinux(root string) *ldLinux { return &ldLinux{root: root, fds: map[int32]bool{}} }

func (l *ldLinux) path(p string) string {
	switch {
	case p == "":
		return ""
	case strings.HasPrefix(p, "/"):
		return l.root + p
	case l.root == ".":
		return p
	}
	return l.root + "/" + p
}

func ldErr(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return syscall.Errno(e)
	}
	return err
}

func ldStat(st *unix.Stat_t) FileStat {
	return FileStat{Size: uint64(max(st.Size, 0)), Mode: st.Mode}
}

func (l *ldLinux) Open(p string, flags, mode uint32) (int32, error) {
	fd, err := unix.Open(l.path(p), int(flags)|unix.O_CLOEXEC, mode)
	if err != nil {
		return -1, ldErr(err)
	}
	l.fds[int32(fd)] = true
	return int32(fd), nil
}
func (l *ldLinux) Read(fd int32, n uint32) ([]byte, error) {
	b := make([]byte, n)
	m, err := unix.Read(int(fd), b)
	return b[:max(m, 0)], ldErr(err)
}
func (l *ldLinux) Write(fd int32, b []byte) (uint32, error) {
	n, err := unix.Write(int(fd), b)
	return uint32(max(n, 0)), ldErr(err)
}
func (l *ldLinux) PRead(fd int32, n uint32, off uint64) ([]byte, error) {
	b := make([]byte, n)
	m, err := unix.Pread(int(fd), b, int64(off))
	return b[:max(m, 0)], ldErr(err)
}
func (l *ldLinux) PWrite(fd int32, b []byte, off uint64) (uint32, error) {
	n, err := unix.Pwrite(int(fd), b, int64(off))
	return uint32(max(n, 0)), ldErr(err)
}
func (l *ldLinux) Close(fd int32) error {
	if !l.fds[fd] {
		return syscall.EBADF // never close a descriptor of the test process
	}
	delete(l.fds, fd)
	return ldErr(unix.Close(int(fd)))
}
func (l *ldLinux) Stat(p string) (FileStat, error) {
	var st unix.Stat_t
	if err := unix.Stat(l.path(p), &st); err != nil {
		return FileStat{}, ldErr(err)
	}
	return ldStat(&st), nil
}
func (l *ldLinux) FStat(fd int32) (FileStat, error) {
	if !l.fds[fd] {
		return FileStat{}, syscall.EBADF
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return FileStat{}, ldErr(err)
	}
	return ldStat(&st), nil
}
func (l *ldLinux) ReadDir(fd int32) ([]string, error) {
	if !l.fds[fd] {
		return nil, syscall.EBADF
	}
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(int(fd), buf)
		if err != nil {
			return nil, ldErr(err)
		}
		if n == 0 {
			slices.Sort(names)
			return names, nil
		}
		more, err := parseDirents(buf[:n])
		if err != nil {
			return nil, err
		}
		names = append(names, more...)
	}
}
func (l *ldLinux) MkDir(p string, mode uint32) error { return ldErr(unix.Mkdir(l.path(p), mode)) }
func (l *ldLinux) Unlink(p string, flags uint32) error {
	return ldErr(unix.Unlinkat(unix.AT_FDCWD, l.path(p), int(flags)))
}
func (l *ldLinux) Rename(from, to string) error {
	return ldErr(unix.Rename(l.path(from), l.path(to)))
}
func (l *ldLinux) Truncate(p string, size uint64) error {
	return ldErr(unix.Truncate(l.path(p), int64(size)))
}
func (l *ldLinux) FSync(fd int32) error {
	if !l.fds[fd] {
		return syscall.EBADF
	}
	return ldErr(unix.Fsync(int(fd)))
}
func (l *ldLinux) closeAll() {
	for fd := range l.fds {
		unix.Close(int(fd))
	}
}

// ldWorld is one run of a script.
type ldWorld struct {
	t     testing.TB
	api   ldAPI
	rom   bool // the file system reports no write bits
	quiet bool // setup: fail on errors, log nothing
	log   []string
}

func (w *ldWorld) logf(format string, args ...any) {
	if !w.quiet {
		w.log = append(w.log, fmt.Sprintf(format, args...))
	}
}

// res logs an operation's errno, or ok.
func (w *ldWorld) res(op string, err error, ok string) {
	if err != nil {
		if w.quiet {
			w.t.Fatalf("setup: %s: %v", op, err)
		}
		w.logf("%s = %s", op, errStrLD(err))
		return
	}
	w.logf("%s = %s", op, ok)
}

func errStrLD(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return err.Error()
}

// pathStr shortens long paths in the log.
func pathStr(p string) string {
	if len(p) > 40 {
		return fmt.Sprintf("%q…(%d bytes)", p[:20], len(p))
	}
	return strconv.Quote(p)
}

// statStr is what a test compares of a stat: the type, a regular file's
// size and the owner permission bits.
func (w *ldWorld) statStr(st FileStat) string {
	perm := (st.Mode >> 6) & 7
	if w.rom {
		perm &^= 2
	}
	switch st.Mode & S_IFMT {
	case S_IFREG:
		return fmt.Sprintf("reg size=%d u=%o", st.Size, perm)
	case S_IFDIR:
		return fmt.Sprintf("dir u=%o", perm)
	}
	return fmt.Sprintf("type %#o", st.Mode&S_IFMT)
}

func (w *ldWorld) open(p string, flags, mode uint32) int32 {
	fd, err := w.api.Open(p, flags, mode)
	w.res(fmt.Sprintf("open(%s,%#x,%#o)", pathStr(p), flags, mode), err, "fd")
	return fd
}
func (w *ldWorld) read(fd int32, n uint32) {
	b, err := w.api.Read(fd, n)
	w.res(fmt.Sprintf("read(%d)", n), err, strconv.Quote(string(b)))
}
func (w *ldWorld) write(fd int32, s string) {
	n, err := w.api.Write(fd, []byte(s))
	w.res(fmt.Sprintf("write(%q)", s), err, fmt.Sprint(n))
}
func (w *ldWorld) pread(fd int32, n uint32, off uint64) {
	b, err := w.api.PRead(fd, n, off)
	w.res(fmt.Sprintf("pread(%d,%d)", n, off), err, strconv.Quote(string(b)))
}
func (w *ldWorld) pwrite(fd int32, s string, off uint64) {
	n, err := w.api.PWrite(fd, []byte(s), off)
	w.res(fmt.Sprintf("pwrite(%q,%d)", s, off), err, fmt.Sprint(n))
}
func (w *ldWorld) close(fd int32) { w.res("close", w.api.Close(fd), "ok") }
func (w *ldWorld) stat(p string) {
	st, err := w.api.Stat(p)
	w.res(fmt.Sprintf("stat(%s)", pathStr(p)), err, w.statStr(st))
}
func (w *ldWorld) fstat(fd int32) {
	st, err := w.api.FStat(fd)
	w.res("fstat", err, w.statStr(st))
}
func (w *ldWorld) readdir(fd int32) {
	names, err := w.api.ReadDir(fd)
	w.res("readdir", err, fmt.Sprint(names))
}
func (w *ldWorld) mkdir(p string, mode uint32) {
	w.res(fmt.Sprintf("mkdir(%s,%#o)", pathStr(p), mode), w.api.MkDir(p, mode), "ok")
}
func (w *ldWorld) unlink(p string) {
	w.res(fmt.Sprintf("unlink(%s)", pathStr(p)), w.api.Unlink(p, 0), "ok")
}
func (w *ldWorld) rmdir(p string) {
	w.res(fmt.Sprintf("rmdir(%s)", pathStr(p)), w.api.Unlink(p, AT_REMOVEDIR), "ok")
}
func (w *ldWorld) rename(from, to string) {
	w.res(fmt.Sprintf("rename(%s,%s)", pathStr(from), pathStr(to)), w.api.Rename(from, to), "ok")
}
func (w *ldWorld) truncate(p string, size uint64) {
	w.res(fmt.Sprintf("truncate(%s,%d)", pathStr(p), size), w.api.Truncate(p, size), "ok")
}
func (w *ldWorld) fsync(fd int32) { w.res("fsync", w.api.FSync(fd), "ok") }

// cat logs a file's whole content.
func (w *ldWorld) cat(p string) {
	fd, err := w.api.Open(p, O_RDONLY, 0)
	if err != nil {
		w.res("cat("+pathStr(p)+")", err, "")
		return
	}
	defer w.api.Close(fd)
	b, err := w.api.PRead(fd, 4096, 0)
	w.res("cat("+pathStr(p)+")", err, strconv.Quote(string(b)))
}

// ls logs a directory's sorted names.
func (w *ldWorld) ls(p string) {
	fd, err := w.api.Open(p, O_RDONLY|O_DIRECTORY, 0)
	if err != nil {
		w.res("ls("+pathStr(p)+")", err, "")
		return
	}
	defer w.api.Close(fd)
	names, err := w.api.ReadDir(fd)
	w.res("ls("+pathStr(p)+")", err, fmt.Sprint(names))
}

// mkfile creates p holding data (setup).
func (w *ldWorld) mkfile(p, data string, mode uint32) {
	fd := w.open(p, O_WRONLY|O_CREAT|O_TRUNC, mode)
	if data != "" {
		w.write(fd, data)
	}
	w.close(fd)
}

// fixture makes the tree every case starts from: /f "hello", /d/g "inner",
// the empty folder /e.
func (w *ldWorld) fixture(extra func(*ldWorld)) {
	w.quiet = true
	w.mkfile("/f", "hello", 0o644)
	w.mkdir("/d", 0o755)
	w.mkfile("/d/g", "inner", 0o644)
	w.mkdir("/e", 0o755)
	if extra != nil {
		extra(w)
	}
	w.quiet = false
}

// ldCase is one script. allow lists accepted differences: a Linux log line
// and the line capsim may give instead, with the reason.
type ldCase struct {
	name   string
	setup  func(w *ldWorld) // beyond the fixture
	script func(w *ldWorld)
	perm   bool // permission checks: ramfs only, Linux unprivileged
	allow  []ldAllowed
}

type ldAllowed struct{ linux, capsim, why string }

const ldBadFD = 9999

var long256 = strings.Repeat("n", 256)
var long255 = strings.Repeat("n", 255)

// relPath is a relative path of exactly n bytes ("a/a/…/a" or with a
// trailing "aa"), naming nothing.
func relPath(n int) string {
	p := strings.Repeat("a/", n/2)
	if n%2 == 1 {
		p += "a"
	} else {
		p = p[:len(p)-1] + "b"
	}
	return p[:n]
}

var ldCases = []ldCase{
	{name: "read to end", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDONLY, 0)
		w.read(fd, 3)
		w.read(fd, 10)
		w.read(fd, 10)
		w.read(fd, 0)
		w.pread(fd, 10, 1)
		w.pread(fd, 10, 5)
		w.pread(fd, 10, 100)
		w.read(fd, 10)
		w.close(fd)
	}},
	{name: "write then read", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDWR, 0)
		w.write(fd, "HE")
		w.read(fd, 10)
		w.write(fd, "!")
		w.pread(fd, 100, 0)
		w.fstat(fd)
		w.write(fd, "")
		w.close(fd)
		w.cat("/f")
	}},
	{name: "append", script: func(w *ldWorld) {
		fd := w.open("/f", O_WRONLY|O_APPEND, 0)
		w.write(fd, "X")
		w.pwrite(fd, "Y", 0)
		w.read(fd, 10)
		w.fstat(fd)
		w.close(fd)
		w.cat("/f")
		fd = w.open("/f", O_RDWR|O_APPEND, 0)
		w.read(fd, 2)
		w.write(fd, "Z")
		w.read(fd, 10)
		w.close(fd)
		w.cat("/f")
	}},
	{name: "truncate on open", script: func(w *ldWorld) {
		fd := w.open("/f", O_WRONLY|O_TRUNC, 0)
		w.fstat(fd)
		w.write(fd, "ab")
		w.close(fd)
		w.cat("/f")
		fd = w.open("/d/g", O_RDONLY|O_TRUNC, 0)
		w.read(fd, 10)
		w.close(fd)
		w.stat("/d/g")
		w.open("/d", O_RDONLY|O_TRUNC, 0)
	}},
	{name: "create exclusive", script: func(w *ldWorld) {
		w.open("/f", O_WRONLY|O_CREAT|O_EXCL, 0o644)
		w.open("/d", O_RDONLY|O_CREAT|O_EXCL, 0o644)
		w.open("/d", O_RDONLY|O_CREAT, 0o644)
		w.open("/d", O_WRONLY|O_CREAT, 0o644)
		fd := w.open("/n", O_RDWR|O_CREAT|O_EXCL, 0o640)
		w.fstat(fd)
		w.write(fd, "new")
		w.close(fd)
		w.open("/n", O_RDWR|O_CREAT|O_EXCL, 0o640)
		fd = w.open("/n", O_RDWR|O_CREAT, 0o600)
		w.read(fd, 10)
		w.close(fd)
		fd = w.open("/r", O_RDONLY|O_CREAT, 0o644)
		w.write(fd, "x")
		w.read(fd, 10)
		w.close(fd)
		w.stat("/r")
		w.ls("/")
	}},
	{name: "create in missing or file parent", script: func(w *ldWorld) {
		w.open("/missing/n", O_WRONLY|O_CREAT, 0o644)
		w.open("/f/n", O_WRONLY|O_CREAT, 0o644)
		w.open("/missing", O_RDONLY, 0)
		w.open("/n/", O_WRONLY|O_CREAT, 0o644)
		w.open("/f/", O_RDONLY, 0)
		w.open("/d/", O_WRONLY|O_CREAT, 0o644)
		w.open("/d/.", O_RDONLY|O_CREAT, 0o644)
		w.open("/n", O_RDONLY|O_CREAT|O_DIRECTORY, 0o644)
		w.stat("/n")
	}},
	{name: "write hole", script: func(w *ldWorld) {
		fd := w.open("/h", O_RDWR|O_CREAT, 0o644)
		w.pwrite(fd, "x", 10)
		w.fstat(fd)
		w.pread(fd, 20, 0)
		w.read(fd, 4)
		w.write(fd, "ab")
		w.pread(fd, 20, 0)
		w.close(fd)
	}},
	{name: "truncate path", script: func(w *ldWorld) {
		w.truncate("/f", 2)
		w.cat("/f")
		w.truncate("/f", 8)
		w.cat("/f")
		w.stat("/f")
		w.truncate("/f", 0)
		w.stat("/f")
		w.truncate("/d", 0)
		w.truncate("/missing", 0)
		w.truncate("/f/", 0)
		w.truncate("/d/", 0)
		w.truncate("", 0)
		w.truncate("/f", 1<<63)
	}},
	{name: "truncate open file", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDWR, 0)
		w.read(fd, 4)
		w.truncate("/f", 2)
		w.read(fd, 10)
		w.write(fd, "Z")
		w.fstat(fd)
		w.pread(fd, 10, 0)
		w.close(fd)
	}},
	{name: "stat", script: func(w *ldWorld) {
		w.stat("/f")
		w.stat("/d")
		w.stat("/d/g")
		w.stat("/e")
		w.stat("/")
		w.stat("/missing")
		w.stat("")
		w.stat("/f/")
		w.stat("/d/")
		w.stat("/f/x")
		w.stat("/d/g/x")
		w.stat("/missing/x")
		w.stat("//d//g")
		w.stat("d/g")
		w.stat("/d/./g")
		w.stat("/d/../f")
		w.stat("/f/.")
		w.stat("/d/.")
		w.stat("/e/..")
		w.stat("/d/g/..")
		w.stat("/f/..")
		w.stat("/missing/..")
		w.stat("/missing/../f")
		w.stat("/f/../d")
		w.stat("/d/g/../g")
	}},
	{name: "fstat", script: func(w *ldWorld) {
		fd := w.open("/d", O_RDONLY, 0)
		w.fstat(fd)
		w.close(fd)
		fd = w.open("/f", O_WRONLY, 0)
		w.fstat(fd)
		w.write(fd, "0123456789")
		w.fstat(fd)
		w.close(fd)
		w.fstat(fd)
		w.fstat(ldBadFD)
	}},
	{name: "readdir", script: func(w *ldWorld) {
		w.ls("/")
		w.ls("/d")
		w.ls("/e")
		w.ls("/d/")
		w.ls("/d/.")
		w.ls("/f")
		// read before readdir: at ext4's end-of-directory offset Linux's
		// read fails EINVAL before it checks the type.
		fd := w.open("/d", O_RDONLY, 0)
		w.read(fd, 10)
		w.pread(fd, 10, 0)
		w.write(fd, "x")
		w.readdir(fd)
		w.readdir(fd)
		w.fsync(fd)
		w.close(fd)
		fd = w.open("/f", O_RDONLY, 0)
		w.readdir(fd)
		w.close(fd)
	}, setup: func(w *ldWorld) {
		for _, n := range []string{"z", "a", "m", "B", "a.b", "-"} {
			w.mkfile("/d/"+n, n, 0o644)
		}
		w.mkdir("/d/sub", 0o755)
	}},
	{name: "open directories", script: func(w *ldWorld) {
		w.open("/d", O_WRONLY, 0)
		w.open("/d", O_RDWR, 0)
		w.open("/f", O_RDONLY|O_DIRECTORY, 0)
		fd := w.open("/d", O_RDONLY|O_DIRECTORY, 0)
		w.close(fd)
		fd = w.open("/", O_RDONLY, 0)
		w.fstat(fd)
		w.close(fd)
		w.open("/", O_WRONLY, 0)
		w.open("", O_RDONLY, 0)
	}},
	{name: "access modes", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDONLY, 0)
		w.write(fd, "x")
		w.pwrite(fd, "x", 0)
		w.close(fd)
		fd = w.open("/f", O_WRONLY, 0)
		w.read(fd, 10)
		w.pread(fd, 10, 0)
		w.fsync(fd)
		w.close(fd)
	}},
	{name: "closed descriptors", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDWR, 0)
		w.close(fd)
		w.read(fd, 10)
		w.write(fd, "x")
		w.pread(fd, 10, 0)
		w.pwrite(fd, "x", 0)
		w.fsync(fd)
		w.readdir(fd)
		w.close(fd)
		w.read(ldBadFD, 10)
		w.close(ldBadFD)
		w.read(-1, 10)
		w.cat("/f")
	}},
	{name: "name length", script: func(w *ldWorld) {
		w.stat("/" + long255)
		w.stat("/" + long256)
		w.open("/"+long256, O_WRONLY|O_CREAT, 0o644)
		w.mkdir("/"+long256, 0o755)
		w.mkdir("/d/"+long255, 0o755)
		w.stat("/d/" + long255)
		w.stat("/d/" + long255 + "/../g")
		w.unlink("/" + long256)
		w.rename("/f", "/"+long256)
		w.stat(relPath(4094))
		w.stat(relPath(4095))
		w.stat(relPath(4096))
		w.stat(relPath(4097))
		w.open(relPath(4096), O_RDONLY, 0)
		w.mkdir(relPath(4096), 0o755)
	}, allow: []ldAllowed{
		// Linux leaves a last component's length to the file system's
		// lookup, after the read-only check; capsim checks every
		// component's length first.
		{"unlink(" + pathStr("/"+long256) + ") = EROFS", "unlink(" + pathStr("/"+long256) + ") = ENAMETOOLONG", "name length checked first"},
		{`rename("/f",` + pathStr("/"+long256) + ") = EROFS", `rename("/f",` + pathStr("/"+long256) + ") = ENAMETOOLONG", "name length checked first"},
	}},
	{name: "mkdir", script: func(w *ldWorld) {
		w.mkdir("/n", 0o755)
		w.stat("/n")
		w.mkdir("/n", 0o755)
		w.mkdir("/f", 0o755)
		w.mkdir("/d/g", 0o755)
		w.mkdir("/missing/n", 0o755)
		w.mkdir("/f/n", 0o755)
		w.mkdir("/", 0o755)
		w.mkdir("", 0o755)
		w.mkdir("/t/", 0o755)
		w.stat("/t")
		w.mkdir("/e/.", 0o755)
		w.mkdir("/e/..", 0o755)
		w.mkdir("/u/.", 0o755)
		w.mkdir("/v/..", 0o755)
		w.mkdir("/missing/../w", 0o755)
		w.mkdir("/f/../x", 0o755)
		w.ls("/")
	}},
	{name: "unlink and rmdir", script: func(w *ldWorld) {
		w.unlink("/d")
		w.unlink("/d/")
		w.unlink("/f/")
		w.unlink("/missing")
		w.unlink("")
		w.unlink("/")
		w.unlink("/e/.")
		w.unlink("/e/..")
		w.rmdir("/d")
		w.rmdir("/f")
		w.rmdir("/missing")
		w.rmdir("/e/.")
		w.rmdir("/d/..")
		w.rmdir("/f/")
		w.rmdir("/missing/../e")
		w.rmdir("/e/")
		w.stat("/e")
		w.unlink("/f")
		w.stat("/f")
		w.unlink("/d/g")
		w.rmdir("/d")
		w.ls("/")
	}},
	{name: "unlink open file", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDWR, 0)
		w.unlink("/f")
		w.stat("/f")
		w.read(fd, 10)
		w.write(fd, "++")
		w.pread(fd, 10, 0)
		w.fstat(fd)
		w.open("/f", O_RDONLY, 0)
		fd2 := w.open("/f", O_RDWR|O_CREAT|O_EXCL, 0o644)
		w.fstat(fd2)
		w.close(fd2)
		w.close(fd)
		w.ls("/")
	}},
	{name: "rmdir open directory", script: func(w *ldWorld) {
		fd := w.open("/e", O_RDONLY, 0)
		w.rmdir("/e")
		w.readdir(fd)
		w.open("/e/n", O_WRONLY|O_CREAT, 0o644)
		w.close(fd)
	}},
	{name: "rename files", script: func(w *ldWorld) {
		w.rename("/f", "/f2")
		w.cat("/f2")
		w.stat("/f")
		w.rename("/f2", "/d/g")
		w.cat("/d/g")
		w.rename("/d/g", "/d/g")
		w.rename("/missing", "/x")
		w.rename("/d/g", "/missing/x")
		w.rename("/d/g", "/e")
		w.rename("/d/g", "/e/")
		w.rename("/d/g/", "/x")
		w.rename("/d/g", "/x/")
		w.rename("/d/g", "")
		w.rename("", "/x")
		w.rename("/d/g", "/f/x")
		w.ls("/")
		w.ls("/d")
	}},
	{name: "rename directories", script: func(w *ldWorld) {
		w.rename("/d", "/f")
		w.rename("/d", "/d/sub")
		w.rename("/d", "/d/g/x")
		w.rename("/d", "/d/missing/x")
		w.rename("/e", "/d")
		w.rename("/d", "/e")
		w.ls("/")
		w.ls("/e")
		w.mkdir("/d", 0o755)
		w.rename("/e/", "/d/")
		w.rename("/d/.", "/x")
		w.rename("/d", "/e/..")
		w.rename("/d", "/x/.")
		w.rename("/missing/../d", "/y")
		w.ls("/")
		w.ls("/d")
	}},
	{name: "rename over open file", script: func(w *ldWorld) {
		fd := w.open("/d/g", O_RDONLY, 0)
		w.rename("/f", "/d/g")
		w.read(fd, 10)
		w.cat("/d/g")
		w.close(fd)
	}},
	{name: "ignored flags", script: func(w *ldWorld) {
		fd := w.open("/f", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY|O_LARGEFILE, 0)
		w.read(fd, 10)
		w.close(fd)
		w.open("/f", O_RDWR|O_NOFOLLOW, 0)
	}},
	{name: "permissions", perm: true, setup: func(w *ldWorld) {
		w.mkfile("/ro", "ro", 0o444)
		w.mkfile("/wo", "wo", 0o222)
		w.mkdir("/rx", 0o755)
		w.mkfile("/rx/in", "in", 0o644)
		w.mkdir("/nx", 0o755)
		w.mkfile("/nx/in", "in", 0o644)
	}, script: func(w *ldWorld) {
		w.open("/ro", O_WRONLY, 0)
		w.open("/ro", O_RDWR, 0)
		w.open("/ro", O_RDONLY|O_TRUNC, 0)
		w.truncate("/ro", 0)
		w.cat("/ro")
		w.open("/wo", O_RDONLY, 0)
		fd := w.open("/wo", O_WRONLY, 0)
		w.write(fd, "W")
		w.close(fd)
		fd = w.open("/c", O_RDWR|O_CREAT|O_EXCL, 0o400)
		w.write(fd, "created")
		w.pread(fd, 10, 0)
		w.close(fd)
		w.open("/c", O_WRONLY, 0)
		w.stat("/c")
	}},
	{name: "directory permissions", perm: true, setup: func(w *ldWorld) {
		w.mkdir("/rx", 0o755)
		w.mkfile("/rx/in", "in", 0o644)
		w.mkdir("/rx/sub", 0o755)
		w.mkdir("/nx", 0o755)
		w.mkfile("/nx/in", "in", 0o644)
		w.mkdir("/nr", 0o755)
		w.mkfile("/nr/in", "in", 0o644)
		// Lock the folders only after filling them.
		lin, ok := w.api.(*ldLinux)
		if ok {
			must(w.t, unix.Chmod(lin.path("/rx"), 0o555))
			must(w.t, unix.Chmod(lin.path("/nx"), 0o600))
			must(w.t, unix.Chmod(lin.path("/nr"), 0o300))
		} else {
			ram := w.api.(ldVFS).f.mounts.list[0].FS.(*RamFS)
			ram.mu.Lock()
			ram.root.children["rx"].mode = S_IFDIR | 0o555
			ram.root.children["nx"].mode = S_IFDIR | 0o600
			ram.root.children["nr"].mode = S_IFDIR | 0o300
			ram.mu.Unlock()
		}
	}, script: func(w *ldWorld) {
		w.open("/rx/new", O_WRONLY|O_CREAT, 0o644)
		w.mkdir("/rx/new", 0o755)
		w.unlink("/rx/in")
		w.rmdir("/rx/sub")
		w.rename("/rx/in", "/moved")
		w.rename("/f", "/rx/f")
		w.truncate("/rx/in", 0)
		w.cat("/rx/in")
		w.ls("/rx")
		w.stat("/nx")
		w.stat("/nx/in")
		w.cat("/nx/in")
		w.ls("/nx")
		w.unlink("/nx/in")
		w.stat("/nx/in/..")
		w.ls("/nr")
		w.cat("/nr/in")
		w.stat("/nr/in")
	}},
}

// ldKind is a capsim file system the cases run on.
type ldKind struct {
	name string
	ro   bool // compared with a read-only mount; the tree is made on the host
	rom  bool
	perm bool // runs the permission cases
	// make serves the tree: for ro kinds, the folder dir holding it.
	make func(t *testing.T, dir string) FileSystem
}

var ldKinds = []ldKind{
	{name: "ramfs", perm: true, make: func(t *testing.T, _ string) FileSystem {
		return NewRamFS(RamFSOptions{})
	}},
	{name: "hostdir", make: func(t *testing.T, dir string) FileSystem { return openHostDir(t, dir, "rw") }},
	{name: "hostdir-ro", ro: true, make: func(t *testing.T, dir string) FileSystem { return openHostDir(t, dir, "ro") }},
	{name: "romfs", ro: true, rom: true, make: func(t *testing.T, dir string) FileSystem { return openHostDir(t, dir, "rom") }},
}

// runVFS runs c on a fresh file system of kind k.
func runVFS(t *testing.T, k ldKind, c ldCase) []string {
	dir := t.TempDir()
	if k.ro {
		lin := newLDLinux(dir)
		(&ldWorld{t: t, api: lin}).fixture(c.setup)
		lin.closeAll()
	}
	files := newFiles(t, k.make(t, dir))
	defer files.Drop(ldClient)
	w := &ldWorld{t: t, api: ldVFS{files}, rom: k.rom}
	if !k.ro {
		w.fixture(c.setup)
	}
	c.script(w)
	return w.log
}

// runLinux runs c in dir, the working directory for the script.
func runLinux(t testing.TB, dir string, c ldCase, setup bool) []string {
	wd, err := os.Getwd()
	must(t, err)
	must(t, os.Chdir(dir))
	defer os.Chdir(wd)
	lin := newLDLinux(".")
	defer lin.closeAll()
	w := &ldWorld{t: t, api: lin}
	if setup {
		w.fixture(c.setup)
	}
	c.script(w)
	return w.log
}

const ldChildEnv = "CAPSIM_VFS_LINUXDIFF_CHILD"

// TestVFSLinuxDiffChild is the Linux reference run in a child process:
// mode "ro" runs every non-permission case i in BASE/i (made by the
// parent) bind-mounted read-only, mode "nobody" the permission cases as
// an unprivileged user. It prints the logs as JSON.
func TestVFSLinuxDiffChild(t *testing.T) {
	mode, base, ok := strings.Cut(os.Getenv(ldChildEnv), ":")
	if !ok {
		t.Skip("run by TestVFSLinuxDifferential")
	}
	logs := map[string][]string{}
	switch mode {
	case "ro":
		must(t, unix.Mount(base, base, "", unix.MS_BIND|unix.MS_REC, ""))
		must(t, unix.Mount("", base, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))
		for i, c := range ldCases {
			if !c.perm {
				logs[c.name] = runLinux(t, filepath.Join(base, strconv.Itoa(i)), c, false)
			}
		}
	case "nobody":
		if os.Geteuid() == 0 {
			must(t, syscall.Setgroups(nil))
			must(t, syscall.Setgid(65534))
			must(t, syscall.Setuid(65534))
		}
		unix.Umask(0o022)
		for i, c := range ldCases {
			if c.perm {
				dir := filepath.Join(base, strconv.Itoa(i))
				must(t, os.Mkdir(dir, 0o755))
				logs[c.name] = runLinux(t, dir, c, true)
			}
		}
	}
	b, err := json.Marshal(logs)
	must(t, err)
	fmt.Printf("\nLINUXDIFF %s\n", b)
}

// childLogs runs TestVFSLinuxDiffChild in mode over base.
func childLogs(t *testing.T, mode, base string) (map[string][]string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestVFSLinuxDiffChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), ldChildEnv+"="+mode+":"+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if mode == "ro" {
		if os.Geteuid() == 0 {
			cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
		} else {
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "LINUXDIFF "); ok {
			logs := map[string][]string{}
			return logs, json.Unmarshal([]byte(js), &logs)
		}
	}
	return nil, fmt.Errorf("no logs: %s", out)
}

func TestVFSLinuxDifferential(t *testing.T) {
	if os.Getenv(ldChildEnv) != "" {
		t.Skip("child")
	}
	unix.Umask(0o022)
	// Read-only references: the trees, then one child over all of them.
	base := t.TempDir()
	for i, c := range ldCases {
		if c.perm {
			continue
		}
		dir := filepath.Join(base, strconv.Itoa(i))
		must(t, os.Mkdir(dir, 0o755))
		lin := newLDLinux(dir)
		(&ldWorld{t: t, api: lin}).fixture(c.setup)
		lin.closeAll()
	}
	roLogs, roErr := childLogs(t, "ro", base)
	if roErr != nil {
		t.Logf("no read-only reference, read-only kinds skipped: %v", roErr)
	}
	// Permission references: as an unprivileged user.
	pbase, err := os.MkdirTemp("", "vfsdiff")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(pbase) })
	must(t, os.Chmod(pbase, 0o777))
	permLogs, permErr := childLogs(t, "nobody", pbase)
	if permErr != nil {
		t.Logf("no unprivileged reference, permission cases skipped: %v", permErr)
	}

	for _, c := range ldCases {
		t.Run(c.name, func(t *testing.T) {
			var rwLog []string
			if !c.perm {
				rwLog = runLinux(t, t.TempDir(), c, true)
			}
			for _, k := range ldKinds {
				var ref []string
				switch {
				case c.perm && (!k.perm || permErr != nil):
					continue
				case c.perm:
					ref = permLogs[c.name]
				case k.ro && roErr != nil:
					continue
				case k.ro:
					ref = roLogs[c.name]
				default:
					ref = rwLog
				}
				if k.rom {
					ref = romModes(ref)
				}
				t.Run(k.name, func(t *testing.T) {
					compareLD(t, ref, runVFS(t, k, c), c.allow)
				})
			}
		})
	}
}

// romModes clears the owner write bit in the stat lines of a Linux log, as
// a romfs reports modes.
func romModes(log []string) []string {
	r := strings.NewReplacer("u=7", "u=5", "u=6", "u=4", "u=3", "u=1", "u=2", "u=0")
	out := make([]string, len(log))
	for i, l := range log {
		out[i] = r.Replace(l)
	}
	return out
}

func compareLD(t *testing.T, lin, got []string, allow []ldAllowed) {
	if len(lin) != len(got) {
		t.Errorf("log lengths differ: linux %d, capsim %d", len(lin), len(got))
	}
	var bad bool
	for i := range max(len(lin), len(got)) {
		var l, g string
		if i < len(lin) {
			l = lin[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if l == g || slices.ContainsFunc(allow, func(a ldAllowed) bool { return a.linux == l && a.capsim == g }) {
			continue
		}
		bad = true
		t.Errorf("step %d:\n  linux:  %s\n  capsim: %s", i, l, g)
	}
	if bad || testing.Verbose() {
		t.Logf("linux log:\n  %s", strings.Join(lin, "\n  "))
		t.Logf("capsim log:\n  %s", strings.Join(got, "\n  "))
	}
}
