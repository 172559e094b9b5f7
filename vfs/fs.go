package vfs

import (
	"syscall"
)

// Open flags, Linux's O_* values (the capsim.File wire values).
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_ACCMODE   = 0x3
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_NOCTTY    = 0x100
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_LARGEFILE = 0x8000
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_CLOEXEC   = 0x80000

	// AT_REMOVEDIR asks Unlink to remove an empty directory.
	AT_REMOVEDIR = 0x200
)

// File type bits of FileStat.Mode and DirEntry.Mode.
const (
	S_IFMT  = 0xf000
	S_IFREG = 0x8000
	S_IFDIR = 0x4000
	S_IFLNK = 0xa000
)

// Limits of the capsim.File interface.
const (
	MaxPath    = 4096    // longest client path, in bytes
	MaxName    = 255     // longest path component
	MaxData    = 1 << 20 // largest payload of one Read or Write
	MaxEntries = 256     // most entries one ReadDir returns
)

// openFlagsKnown are the flags Open accepts. The last four carry no meaning
// for a VFS descriptor and are ignored.
const (
	openFlagsKnown   = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NOFOLLOW | openFlagsIgnored
	openFlagsIgnored = O_NOCTTY | O_NONBLOCK | O_LARGEFILE | O_CLOEXEC
)

// FileStat is what Stat and FStat report; it mirrors capsim.File's FileStat.
type FileStat struct {
	Size    uint64
	Mode    uint32 // type bits (S_IF*) and permissions
	MtimeNs int64
	Ino     uint64
	Nlink   uint32
}

// IsDir reports whether the stat describes a directory.
func (s FileStat) IsDir() bool { return s.Mode&S_IFMT == S_IFDIR }

// DirEntry is one ReadDir result; it mirrors capsim.File's DirEntry.
type DirEntry struct {
	Name string
	Mode uint32
	Size uint64
}

// FileSystem is one mountable file system. Names are relative to its root,
// already cleaned by the mount table: "" is the root itself, otherwise
// slash-separated components with no ".", ".." or empty ones. Errors are
// syscall.Errno values (possibly wrapped) with POSIX meaning.
type FileSystem interface {
	// Open opens name with Linux O_* flags; mode is used when O_CREAT creates.
	Open(name string, flags int, mode uint32) (Handle, error)
	// Stat reports on name, following a final symlink.
	Stat(name string) (FileStat, error)
	// Mkdir creates directory name.
	Mkdir(name string, mode uint32) error
	// Unlink removes a file, or an empty directory if flags has AT_REMOVEDIR.
	Unlink(name string, flags int) error
	// Rename moves from to to, replacing to as rename(2) does.
	Rename(from, to string) error
	// Truncate sets the size of file name.
	Truncate(name string, size int64) error
	// Close releases what the file system holds (its directory descriptor).
	Close() error
}

// Handle is an open file or directory of a FileSystem. Handles are safe for
// concurrent use.
type Handle interface {
	// Read reads at the handle's offset and advances it; 0, nil at the end.
	Read(p []byte) (int, error)
	// Write writes at the offset (at the end with O_APPEND) and advances it.
	Write(p []byte) (int, error)
	// ReadAt reads at off without moving the offset; 0, nil at the end.
	ReadAt(p []byte, off int64) (int, error)
	// WriteAt writes at off without moving the offset.
	WriteAt(p []byte, off int64) (int, error)
	// Stat reports on the open file.
	Stat() (FileStat, error)
	// ReadDir returns up to max next entries of a directory, none at the end.
	ReadDir(max int) ([]DirEntry, error)
	// Sync flushes the file to stable storage.
	Sync() error
	// Close releases the handle.
	Close() error
}

// checkOpenFlags validates flags and strips the ignored ones.
func checkOpenFlags(flags int) (int, error) {
	if flags&^openFlagsKnown != 0 || flags&O_ACCMODE == O_ACCMODE {
		return 0, syscall.EINVAL
	}
	return flags &^ openFlagsIgnored, nil
}

// writable reports whether flags open for writing.
func writable(flags int) bool { return flags&O_ACCMODE != O_RDONLY }

// readable reports whether flags open for reading.
func readable(flags int) bool { return flags&O_ACCMODE != O_WRONLY }
