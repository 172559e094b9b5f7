package wire

import (
	"errors"
	"syscall"
)

// EIO is the errno a dispatcher sends when a server's error carries none.
const EIO = uint64(syscall.EIO)

// Errno returns the syscall.Errno that err wraps, or EIO when it wraps
// none: the value a generated dispatcher sends as a method's one integer
// error parameter when the server returns an untyped error.
func Errno(err error) uint64 {
	var en syscall.Errno
	if errors.As(err, &en) {
		return uint64(en)
	}
	return EIO
}

// ErrnoUpTo is Errno(err) when it is at most max, else EIO: an error
// parameter narrower than the errno would otherwise wrap it into another
// errno.
func ErrnoUpTo(err error, max uint64) uint64 {
	if n := Errno(err); n <= max {
		return n
	}
	return EIO
}
