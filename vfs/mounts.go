package vfs

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"syscall"
)

// Mount is one line of a VFS entity's mount table.
type Mount struct {
	Path string     // absolute, clean: "/", "/www", "/data"
	FS   FileSystem // what is mounted there
}

// Mounts is a mount table: it routes a client path to the mounted file
// system with the longest matching prefix (by whole components) and the
// path relative to that mount. It is immutable after NewMounts and safe for
// concurrent use.
//
// A mount point need not exist in the file system below it: ReadDir of the
// parent lists it, and an ancestor folder of a mount point that exists in no
// file system (a mount at /srv/www over a "/" without srv) reads as an empty,
// read-only directory holding the next component.
type Mounts struct {
	list []Mount // longest path first
}

// route is where a client path leads.
type route struct {
	fs      FileSystem
	mount   string // the mount's path
	rel     string // name relative to the mount, "" for its root
	abs     string // the cleaned client path
	mustDir bool
	last    lastKind
}

// NewMounts builds a mount table. Paths must be absolute, clean and unique.
func NewMounts(ms ...Mount) (*Mounts, error) {
	list := slices.Clone(ms)
	seen := map[string]bool{}
	for _, m := range list {
		if m.Path == "" || m.Path[0] != '/' || path.Clean(m.Path) != m.Path {
			return nil, fmt.Errorf("mount %q: path must be absolute and clean", m.Path)
		}
		if m.FS == nil {
			return nil, fmt.Errorf("mount %q: no file system", m.Path)
		}
		if seen[m.Path] {
			return nil, fmt.Errorf("mount %q: mounted twice", m.Path)
		}
		seen[m.Path] = true
	}
	slices.SortStableFunc(list, func(a, b Mount) int { return len(b.Path) - len(a.Path) })
	return &Mounts{list: list}, nil
}

// Close closes every mounted file system.
func (m *Mounts) Close() error {
	var errs []error
	for _, mt := range m.list {
		if err := mt.FS.Close(); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mt.Path, err))
		}
	}
	return errors.Join(errs...)
}

// resolve cleans a client path, checks the folders its "." and ".."
// components follow, and routes it. A path under no mount gives ENOENT; an
// invalid one an error and no abs.
func (m *Mounts) resolve(p string) (route, error) {
	cp, err := m.clean(p)
	if err != nil {
		return route{}, err
	}
	return m.route(cp)
}

// route routes a cleaned path.
func (m *Mounts) route(cp clientPath) (route, error) {
	for _, mt := range m.list {
		if rel, ok := below(cp.abs, mt.Path); ok {
			return route{fs: mt.FS, mount: mt.Path, rel: rel, abs: cp.abs, mustDir: cp.mustDir, last: cp.last}, nil
		}
	}
	return route{abs: cp.abs, mustDir: cp.mustDir, last: cp.last}, syscall.ENOENT
}

// clean cleans a client path and checks that each folder a "." or ".."
// follows is one, as Linux's walk of the path would.
func (m *Mounts) clean(p string) (clientPath, error) {
	cp, err := cleanClientPath(p)
	if err != nil {
		return clientPath{}, err
	}
	for _, d := range cp.dirs {
		st, err := m.stat(d)
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		if err != nil {
			return clientPath{}, err
		}
	}
	return cp, nil
}

// below reports whether abs is mount or lies under it, and the rest.
func below(abs, mount string) (string, bool) {
	switch {
	case mount == "/":
		return abs[1:], true
	case abs == mount:
		return "", true
	case strings.HasPrefix(abs, mount) && abs[len(mount)] == '/':
		return abs[len(mount)+1:], true
	}
	return "", false
}

// childMounts returns the names directly under abs that lead to a mount
// point (the next component of each mount path strictly below abs), sorted.
func (m *Mounts) childMounts(abs string) []string {
	var names []string
	for _, mt := range m.list {
		rel, ok := below(mt.Path, abs)
		if !ok || rel == "" || mt.Path == abs {
			continue
		}
		first, _, _ := strings.Cut(rel, "/")
		if !slices.Contains(names, first) {
			names = append(names, first)
		}
	}
	slices.Sort(names)
	return names
}

// stat reports on a cleaned absolute path, mount points and their
// synthetic ancestors included.
func (m *Mounts) stat(abs string) (FileStat, error) {
	r, err := m.route(clientPath{abs: abs})
	if err == nil {
		var st FileStat
		if st, err = r.fs.Stat(r.rel); err == nil {
			return st, nil
		}
	}
	if errors.Is(err, syscall.ENOENT) && len(m.childMounts(abs)) > 0 {
		return syntheticDirStat(), nil
	}
	return FileStat{}, err
}

// syntheticDirStat is what an ancestor of a mount point that exists in no
// file system reports.
func syntheticDirStat() FileStat { return FileStat{Mode: S_IFDIR | 0o555, Nlink: 2} }
