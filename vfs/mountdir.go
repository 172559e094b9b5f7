package vfs

import (
	"slices"
	"sync"
	"syscall"
)

// mergedDir is an open directory with mount points below it: ReadDir gives
// the file system's entries, mount points reported as the mounted root, then
// the mount points the file system lacks.
type mergedDir struct {
	Handle
	m   *Mounts
	abs string // the directory's cleaned path

	mu     sync.Mutex
	mounts []string // child mount names not yet returned
}

// ReadDir implements Handle.
func (d *mergedDir) ReadDir(max int) ([]DirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ents, err := d.Handle.ReadDir(max)
	if err != nil || len(ents) > 0 {
		for i, e := range ents {
			if j := slices.Index(d.mounts, e.Name); j >= 0 {
				d.mounts = slices.Delete(d.mounts, j, j+1)
				ents[i] = d.entry(e.Name)
			}
		}
		return ents, err
	}
	n := min(max, len(d.mounts))
	for _, name := range d.mounts[:n] {
		ents = append(ents, d.entry(name))
	}
	d.mounts = d.mounts[n:]
	return ents, nil
}

// entry describes the mount point (or synthetic ancestor) name.
func (d *mergedDir) entry(name string) DirEntry {
	st, err := d.m.stat(joinAbs(d.abs, name))
	if err != nil {
		st = syntheticDirStat()
	}
	return DirEntry{Name: name, Mode: st.Mode, Size: st.Size}
}

func joinAbs(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// emptyDir is the handle under a synthetic ancestor of mount points (see
// Mounts): an empty directory that wraps in a mergedDir.
type emptyDir struct{}

func (emptyDir) Read([]byte) (int, error)           { return 0, syscall.EISDIR }
func (emptyDir) Write([]byte) (int, error)          { return 0, syscall.EBADF }
func (emptyDir) ReadAt([]byte, int64) (int, error)  { return 0, syscall.EISDIR }
func (emptyDir) WriteAt([]byte, int64) (int, error) { return 0, syscall.EBADF }
func (emptyDir) Stat() (FileStat, error)            { return syntheticDirStat(), nil }
func (emptyDir) ReadDir(int) ([]DirEntry, error)    { return nil, nil }
func (emptyDir) Sync() error                        { return nil }
func (emptyDir) Close() error                       { return nil }
