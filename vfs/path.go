package vfs

import (
	"path"
	"strings"
	"syscall"
)

// clientPath is a client's path after lexical cleaning.
type clientPath struct {
	abs     string   // cleaned, absolute: "/" or "/a/b"
	mustDir bool     // the client wrote a trailing "/", "/." or "/.."
	last    lastKind // what the last component is
	// dirs are the cleaned paths a "." or ".." component follows, in order:
	// each must be a directory the client can search, as Linux walks them
	// (so "/f/.." is ENOTDIR and "/missing/../f" ENOENT).
	dirs []string
}

// lastKind is the kind of a path's last component, as Linux's path walk
// tells them apart: mkdir, unlink, rmdir and rename refuse anything but a
// name.
type lastKind int

const (
	lastName   lastKind = iota // a name, with or without a trailing "/"
	lastRoot                   // no component: "/"
	lastDot                    // "."
	lastDotDot                 // ".."
)

// cleanClientPath validates and cleans a client path. The VFS keeps no
// working directory, so a relative path is taken from "/". ".." is resolved
// lexically and stops at "/": no client path names anything above the root
// of the mount table; the folders "." and ".." follow are listed for the
// caller to check. A path of MaxPath bytes or more is ENAMETOOLONG, as
// Linux's PATH_MAX counts the terminating NUL.
func cleanClientPath(p string) (clientPath, error) {
	switch {
	case p == "":
		return clientPath{}, syscall.ENOENT
	case len(p) >= MaxPath:
		return clientPath{}, syscall.ENAMETOOLONG
	case strings.IndexByte(p, 0) >= 0:
		return clientPath{}, syscall.EINVAL
	}
	final, cur, kind := "", "/", lastRoot
	var dirs []string
	for c := range strings.SplitSeq(p, "/") {
		if len(c) > MaxName {
			return clientPath{}, syscall.ENAMETOOLONG
		}
		final = c
		switch c {
		case "":
			continue
		case ".", "..":
			if cur != "/" && (len(dirs) == 0 || dirs[len(dirs)-1] != cur) {
				dirs = append(dirs, cur)
			}
			kind = lastDot
			if c == ".." {
				cur, kind = path.Dir(cur), lastDotDot
			}
		default:
			cur, kind = joinAbs(cur, c), lastName
		}
	}
	mustDir := cur != "/" && (final == "" || final == "." || final == "..")
	return clientPath{abs: cur, mustDir: mustDir, last: kind, dirs: dirs}, nil
}

// splitParent splits a cleaned relative name into its parent and last
// component: "a/b/c" gives "a/b", "c"; "c" gives "", "c".
func splitParent(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// checkName reports whether name is a cleaned relative name as FileSystem
// methods receive it; file systems call it to defend against misuse.
func checkName(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > MaxPath || name[0] == '/' {
		return syscall.EINVAL
	}
	for c := range strings.SplitSeq(name, "/") {
		switch {
		case c == "" || c == "." || c == "..":
			return syscall.EINVAL
		case len(c) > MaxName:
			return syscall.ENAMETOOLONG
		case strings.IndexByte(c, 0) >= 0:
			return syscall.EINVAL
		}
	}
	return nil
}
