package vfs

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// HostDir serves a host folder through a directory descriptor the kernel
// opened and handed over; it never opens a host path by name. Every lookup
// is an openat2(2) beneath that descriptor with RESOLVE_BENEATH and
// RESOLVE_NO_MAGICLINKS; a symlink leading out of it gives EACCES. Only
// regular files and directories are served: opening a FIFO, socket or device
// gives EACCES. Permission checks are the host kernel's, under the VFS
// entity's credentials.
//
// A read-only HostDir (hostdir mode "ro", and every romfs) refuses changes
// with EROFS, checking existence first as Linux does, so opening a missing
// file for writing without O_CREAT still gives ENOENT.
type HostDir struct {
	root     *os.File
	fd       int
	readOnly bool
	rom      bool // romfs: also clear the write bits in reported modes
}

var _ FileSystem = (*HostDir)(nil)

// NewHostDir serves the folder open as dir, which the HostDir then owns.
// readOnly gives hostdir mode "ro".
func NewHostDir(dir *os.File, readOnly bool) (*HostDir, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return nil, fmt.Errorf("hostdir %s: %w", dir.Name(), err)
	}
	if st.Mode&S_IFMT != S_IFDIR {
		return nil, fmt.Errorf("hostdir %s: %w", dir.Name(), syscall.ENOTDIR)
	}
	h := &HostDir{root: dir, fd: int(dir.Fd()), readOnly: readOnly}
	fd, err := h.resolve("", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("hostdir %s: openat2 beneath the folder: %w", dir.Name(), err)
	}
	unix.Close(fd)
	return h, nil
}

// NewRomFS serves the scenario folder open as dir read-only, as a romfs
// mount; the returned file system owns dir.
func NewRomFS(dir *os.File) (*HostDir, error) {
	h, err := NewHostDir(dir, true)
	if err != nil {
		return nil, fmt.Errorf("romfs: %w", err)
	}
	h.rom = true
	return h, nil
}

// resolve opens name beneath the root with openat2. The kernel's EXDEV (the
// path would leave the root) is reported as EACCES.
func (h *HostDir) resolve(name string, flags int, mode uint32) (int, error) {
	if err := checkName(name); err != nil {
		return -1, err
	}
	if name == "" {
		name = "."
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	if flags&O_CREAT != 0 {
		how.Mode = uint64(mode) // openat2 wants no mode otherwise
	}
	for range 16 {
		fd, err := unix.Openat2(h.fd, name, &how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			continue // a concurrent rename raced the lookup
		case errors.Is(err, unix.EXDEV):
			return -1, syscall.EACCES
		}
		return -1, err
	}
	return -1, syscall.EAGAIN
}

// resolveParent opens the directory holding name and returns its last
// component, a single name safe for the *at calls.
func (h *HostDir) resolveParent(name string) (int, string, error) {
	if err := checkName(name); err != nil {
		return -1, "", err
	}
	dir, base := splitParent(name)
	fd, err := h.resolve(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	return fd, base, err
}

// lstat reports on name, following a final symlink unless nofollow.
func (h *HostDir) lstat(name string, nofollow bool) (FileStat, error) {
	flags := unix.O_PATH
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := h.resolve(name, flags, 0)
	if err != nil {
		return FileStat{}, err
	}
	defer unix.Close(fd)
	return h.fstat(fd)
}

func (h *HostDir) fstat(fd int) (FileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return FileStat{}, err
	}
	return h.fromStat(&st), nil
}

func (h *HostDir) fromStat(st *unix.Stat_t) FileStat {
	mode := st.Mode & (S_IFMT | 0o7777)
	if h.rom {
		mode &^= 0o222
	}
	return FileStat{
		Size:    uint64(max(st.Size, 0)),
		Mode:    mode,
		MtimeNs: st.Mtim.Nano(),
		Ino:     st.Ino,
		Nlink:   uint32(st.Nlink),
	}
}

// Open implements FileSystem.
func (h *HostDir) Open(name string, flags int, mode uint32) (Handle, error) {
	flags, err := checkOpenFlags(flags)
	if err != nil {
		return nil, err
	}
	if flags&(O_CREAT|O_DIRECTORY) == O_CREAT|O_DIRECTORY {
		return nil, syscall.EINVAL
	}
	if h.readOnly {
		if flags, err = h.checkReadOnlyOpen(name, flags); err != nil {
			return nil, err
		}
	}
	fd, err := h.resolve(name, flags|unix.O_NONBLOCK, mode&0o777)
	if errors.Is(err, syscall.ENXIO) { // a FIFO without reader, a device
		return nil, syscall.EACCES
	}
	if err != nil {
		return nil, err
	}
	st, err := h.fstat(fd)
	if err == nil && st.Mode&S_IFMT != S_IFREG && st.Mode&S_IFMT != S_IFDIR {
		err = syscall.EACCES
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &hostHandle{fs: h, fd: fd, isDir: st.IsDir()}, nil
}

// checkReadOnlyOpen gives the errno Linux gives for flags on a read-only
// mount, or the flags to open with.
func (h *HostDir) checkReadOnlyOpen(name string, flags int) (int, error) {
	st, err := h.lstat(name, flags&O_NOFOLLOW != 0)
	switch {
	case errors.Is(err, syscall.ENOENT) && flags&O_CREAT != 0:
		dir, _ := splitParent(name)
		if pst, err := h.lstat(dir, false); err != nil || !pst.IsDir() {
			return 0, cmp.Or(err, error(syscall.ENOTDIR))
		}
		return 0, syscall.EROFS
	case err != nil:
		return 0, err
	case flags&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL:
		return 0, syscall.EEXIST
	case st.IsDir() && (writable(flags) || flags&(O_CREAT|O_TRUNC) != 0):
		return 0, syscall.EISDIR
	case writable(flags) || flags&O_TRUNC != 0:
		return 0, syscall.EROFS
	}
	return flags &^ O_CREAT, nil
}

// Stat implements FileSystem.
func (h *HostDir) Stat(name string) (FileStat, error) { return h.lstat(name, false) }

// ReadOnly reports whether h refuses changes (EROFS).
func (h *HostDir) ReadOnly() bool { return h.readOnly }

// Mkdir implements FileSystem. Read-only, it reports a missing parent or an
// existing name before EROFS, as Linux does.
func (h *HostDir) Mkdir(name string, mode uint32) error {
	if name == "" {
		return syscall.EEXIST
	}
	pfd, base, err := h.resolveParent(name)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if h.readOnly {
		var st unix.Stat_t
		if unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return syscall.EEXIST
		}
		return syscall.EROFS
	}
	return unix.Mkdirat(pfd, base, mode&0o777)
}

// Unlink implements FileSystem.
func (h *HostDir) Unlink(name string, flags int) error {
	switch {
	case flags&^AT_REMOVEDIR != 0:
		return syscall.EINVAL
	case name == "":
		return syscall.EBUSY
	}
	pfd, base, err := h.resolveParent(name)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if h.readOnly {
		return syscall.EROFS // after the parent, before the name: as Linux
	}
	return unix.Unlinkat(pfd, base, flags)
}

// Rename implements FileSystem.
func (h *HostDir) Rename(from, to string) error {
	switch {
	case from == "" || to == "":
		return syscall.EBUSY
	}
	// Both parents first, as Linux: their errors come before EROFS and
	// EINVAL.
	ffd, fbase, err := h.resolveParent(from)
	if err != nil {
		return err
	}
	defer unix.Close(ffd)
	tfd, tbase, err := h.resolveParent(to)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	switch {
	case h.readOnly:
		return syscall.EROFS
	case strings.HasPrefix(to, from+"/"):
		return syscall.EINVAL
	}
	return unix.Renameat(ffd, fbase, tfd, tbase)
}

// Truncate implements FileSystem.
func (h *HostDir) Truncate(name string, size int64) error {
	switch {
	case size < 0:
		return syscall.EINVAL
	case h.readOnly:
		st, err := h.lstat(name, false)
		switch {
		case err != nil:
			return err
		case st.IsDir():
			return syscall.EISDIR // Linux checks the type first
		}
		return syscall.EROFS
	}
	hd, err := h.Open(name, O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer hd.Close()
	return unix.Ftruncate(hd.(*hostHandle).fd, size)
}

// Close implements FileSystem: it closes the folder's descriptor.
func (h *HostDir) Close() error { return h.root.Close() }
