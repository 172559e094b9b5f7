package vfs

import (
	"path"
	"strings"
	"syscall"
)

// clientPath is a client's path after lexical cleaning.
type clientPath struct {
	abs     string // cleaned, absolute: "/" or "/a/b"
	mustDir bool   // the client wrote a trailing "/", "/." or "/.."
}

// cleanClientPath validates and cleans a client path. The VFS keeps no
// working directory, so a relative path is taken from "/". ".." is resolved
// lexically and stops at "/": no client path names anything above the root
// of the mount table.
func cleanClientPath(p string) (clientPath, error) {
	switch {
	case p == "":
		return clientPath{}, syscall.ENOENT
	case len(p) > MaxPath:
		return clientPath{}, syscall.ENAMETOOLONG
	case strings.IndexByte(p, 0) >= 0:
		return clientPath{}, syscall.EINVAL
	}
	last := ""
	for c := range strings.SplitSeq(p, "/") {
		if len(c) > MaxName {
			return clientPath{}, syscall.ENAMETOOLONG
		}
		last = c
	}
	abs := path.Clean("/" + p)
	mustDir := abs != "/" && (last == "" || last == "." || last == "..")
	return clientPath{abs: abs, mustDir: mustDir}, nil
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
