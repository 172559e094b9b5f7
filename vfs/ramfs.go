package vfs

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RamFSOptions configures a RamFS.
type RamFSOptions struct {
	// Size bounds the bytes of file data held (the sum of file sizes, holes
	// included); writes beyond it fail with ENOSPC. Zero or less: no bound.
	Size int64
	// MaxNodes bounds the number of files and directories; zero means
	// max(1024, Size/1024), or no bound when Size is unbounded.
	MaxNodes int
}

// RamFS is an in-memory file system: a tree of nodes under one lock.
// Permission bits are enforced as for the owner of every node (there is one
// identity: the VFS entity), so a file created 0444 cannot be opened for
// writing (EACCES) and a directory without search permission cannot be
// traversed.
type RamFS struct {
	mu       sync.RWMutex
	root     *ramNode
	size     int64 // bound on used, <= 0 unbounded
	used     int64
	maxNodes int // bound on nodes, <= 0 unbounded
	nodes    int
	nextIno  uint64
}

type ramNode struct {
	ino      uint64
	mode     uint32
	mtime    int64
	data     []byte              // regular files
	children map[string]*ramNode // directories
	linked   bool                // reachable from the root
	opens    int                 // open handles
}

var _ FileSystem = (*RamFS)(nil)

// NewRamFS returns an empty RamFS whose root is a 0755 directory.
func NewRamFS(opt RamFSOptions) *RamFS {
	fs := &RamFS{size: opt.Size, maxNodes: opt.MaxNodes}
	if fs.maxNodes == 0 && fs.size > 0 {
		fs.maxNodes = max(1024, int(fs.size/1024))
	}
	fs.root = fs.newNode(S_IFDIR | 0o755)
	fs.nodes = 1
	return fs
}

// Used reports the bytes of file data held, as counted against Size.
func (fs *RamFS) Used() int64 {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return fs.used
}

func (fs *RamFS) newNode(mode uint32) *ramNode {
	fs.nextIno++
	n := &ramNode{ino: fs.nextIno, mode: mode, mtime: time.Now().UnixNano(), linked: true}
	if mode&S_IFMT == S_IFDIR {
		n.children = map[string]*ramNode{}
	}
	return n
}

func (n *ramNode) isDir() bool { return n.mode&S_IFMT == S_IFDIR }

// may reports whether the owner permission bits of n allow want (0o4 read,
// 0o2 write, 0o1 search/execute, or'ed).
func (n *ramNode) may(want uint32) bool { return (n.mode>>6)&want == want }

func (n *ramNode) stat() FileStat {
	st := FileStat{Mode: n.mode, MtimeNs: n.mtime, Ino: n.ino, Nlink: 1}
	if !n.linked {
		st.Nlink = 0
	}
	if n.isDir() {
		st.Nlink = 2
		for _, c := range n.children {
			if c.isDir() {
				st.Nlink++
			}
		}
		return st
	}
	st.Size = uint64(len(n.data))
	return st
}

// walk returns the node at name; fs.mu must be held.
func (fs *RamFS) walk(name string) (*ramNode, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	n := fs.root
	if name == "" {
		return n, nil
	}
	for c := range strings.SplitSeq(name, "/") {
		if !n.isDir() {
			return nil, syscall.ENOTDIR
		}
		if !n.may(1) {
			return nil, syscall.EACCES
		}
		if n = n.children[c]; n == nil {
			return nil, syscall.ENOENT
		}
	}
	return n, nil
}

// parent returns the directory that holds name and name's last component;
// fs.mu must be held and name must not be the root.
func (fs *RamFS) parent(name string) (*ramNode, string, error) {
	if err := checkName(name); err != nil {
		return nil, "", err
	}
	dir, base := splitParent(name)
	p, err := fs.walk(dir)
	if err != nil {
		return nil, "", err
	}
	if !p.isDir() {
		return nil, "", syscall.ENOTDIR
	}
	if !p.may(1) {
		return nil, "", syscall.EACCES
	}
	return p, base, nil
}

// addNode links a new node under p; fs.mu must be held for writing.
func (fs *RamFS) addNode(p *ramNode, base string, mode uint32) (*ramNode, error) {
	if !p.may(3) {
		return nil, syscall.EACCES
	}
	if fs.maxNodes > 0 && fs.nodes >= fs.maxNodes {
		return nil, syscall.ENOSPC
	}
	n := fs.newNode(mode)
	fs.nodes++
	p.children[base] = n
	p.mtime = n.mtime
	return n, nil
}

// unlinkNode detaches n from the tree; its memory goes when the last handle
// closes. fs.mu must be held for writing.
func (fs *RamFS) unlinkNode(p *ramNode, base string, n *ramNode) {
	delete(p.children, base)
	p.mtime = time.Now().UnixNano()
	n.linked = false
	fs.release(n)
}

// release frees an unlinked node that no handle holds.
func (fs *RamFS) release(n *ramNode) {
	if n.linked || n.opens > 0 {
		return
	}
	fs.used -= int64(len(n.data))
	fs.nodes--
	n.data = nil
}

// Open implements FileSystem.
func (fs *RamFS) Open(name string, flags int, mode uint32) (Handle, error) {
	flags, err := checkOpenFlags(flags)
	if err != nil {
		return nil, err
	}
	if flags&(O_CREAT|O_DIRECTORY) == O_CREAT|O_DIRECTORY {
		return nil, syscall.EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.openNode(name, flags, mode)
	if err != nil {
		return nil, err
	}
	n.opens++
	return &ramHandle{fs: fs, n: n, flags: flags}, nil
}

// openNode finds or creates the node Open names and checks access.
func (fs *RamFS) openNode(name string, flags int, mode uint32) (*ramNode, error) {
	var n *ramNode
	if name == "" {
		n = fs.root
	} else {
		p, base, err := fs.parent(name)
		if err != nil {
			return nil, err
		}
		if n = p.children[base]; n == nil {
			if flags&O_CREAT == 0 {
				return nil, syscall.ENOENT
			}
			return fs.addNode(p, base, S_IFREG|mode&0o777)
		}
	}
	if flags&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL {
		return nil, syscall.EEXIST
	}
	if err := checkOpenNode(n, flags); err != nil {
		return nil, err
	}
	if flags&O_TRUNC != 0 { // Linux truncates even when opening read-only
		fs.used -= int64(len(n.data))
		n.data = nil
		n.mtime = time.Now().UnixNano()
	}
	return n, nil
}

// checkOpenNode checks flags against an existing node's type and mode. As
// on Linux, O_CREAT on a directory is EISDIR, and O_TRUNC needs write
// permission whatever the access mode.
func checkOpenNode(n *ramNode, flags int) error {
	trunc := flags&O_TRUNC != 0
	switch {
	case flags&O_DIRECTORY != 0 && !n.isDir():
		return syscall.ENOTDIR
	case n.isDir() && (writable(flags) || flags&(O_CREAT|O_TRUNC) != 0):
		return syscall.EISDIR
	case readable(flags) && !n.may(4), (writable(flags) || trunc) && !n.may(2):
		return syscall.EACCES
	}
	return nil
}

// Stat implements FileSystem.
func (fs *RamFS) Stat(name string) (FileStat, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.walk(name)
	if err != nil {
		return FileStat{}, err
	}
	return n.stat(), nil
}

// Mkdir implements FileSystem.
func (fs *RamFS) Mkdir(name string, mode uint32) error {
	if name == "" {
		return syscall.EEXIST
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p, base, err := fs.parent(name)
	if err != nil {
		return err
	}
	if p.children[base] != nil {
		return syscall.EEXIST
	}
	_, err = fs.addNode(p, base, S_IFDIR|mode&0o777)
	return err
}

// Unlink implements FileSystem.
func (fs *RamFS) Unlink(name string, flags int) error {
	if flags&^AT_REMOVEDIR != 0 {
		return syscall.EINVAL
	}
	if name == "" {
		return syscall.EBUSY
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p, base, err := fs.parent(name)
	if err != nil {
		return err
	}
	n := p.children[base]
	switch {
	case n == nil:
		return syscall.ENOENT
	case flags&AT_REMOVEDIR != 0 && !n.isDir():
		return syscall.ENOTDIR
	case flags&AT_REMOVEDIR == 0 && n.isDir():
		return syscall.EISDIR
	case n.isDir() && len(n.children) > 0:
		return syscall.ENOTEMPTY
	case !p.may(3):
		return syscall.EACCES
	}
	fs.unlinkNode(p, base, n)
	return nil
}

// Truncate implements FileSystem.
func (fs *RamFS) Truncate(name string, size int64) error {
	if size < 0 {
		return syscall.EINVAL
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(name)
	if err != nil {
		return err
	}
	if n.isDir() {
		return syscall.EISDIR
	}
	if !n.may(2) {
		return syscall.EACCES
	}
	return fs.resize(n, size)
}

// resize sets n's size, all or nothing; fs.mu must be held for writing.
// MaxRamFile is the largest file a RamFS holds, with or without a size:
// a write far beyond the end would otherwise allocate the hole at once
// and end the entity (a ramfs is not sparse).
const MaxRamFile = 1 << 30

func (fs *RamFS) resize(n *ramNode, size int64) error {
	if size > MaxRamFile {
		return syscall.EFBIG
	}
	grow := size - int64(len(n.data))
	if grow > 0 && fs.size > 0 && grow > fs.size-fs.used {
		return syscall.ENOSPC
	}
	if grow > 0 {
		n.data = append(n.data, make([]byte, grow)...)
	} else {
		clear(n.data[size:])
		n.data = n.data[:size]
	}
	fs.used += grow
	n.mtime = time.Now().UnixNano()
	return nil
}

// Close implements FileSystem; a RamFS holds no host resources.
func (fs *RamFS) Close() error { return nil }

// sortedNames returns the names in d after the name after, sorted.
func sortedNames(d *ramNode, after string, started bool) []string {
	names := slices.Sorted(maps.Keys(d.children))
	if started {
		i, found := slices.BinarySearch(names, after)
		if found {
			i++
		}
		names = names[i:]
	}
	return names
}
