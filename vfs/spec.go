package vfs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// MountSpec is one line of a scenario's mounts list after the kernel has
// opened its source: { path, fs, size, source, mode }.
type MountSpec struct {
	Path   string   // "/", "/www"
	FS     string   // "ramfs", "romfs" or "hostdir"
	Size   string   // ramfs: "64MiB"; empty means unbounded
	Mode   string   // hostdir: "ro" (the default) or "rw"
	Source *os.File // romfs, hostdir: the folder the kernel opened
}

// OpenMounts builds a mount table from specs. It takes ownership of the
// Source files, closing them on error too.
func OpenMounts(specs []MountSpec) (*Mounts, error) {
	var ms []Mount
	fail := func(err error) (*Mounts, error) {
		for _, m := range ms {
			m.FS.Close()
		}
		for _, s := range specs {
			if s.Source != nil {
				s.Source.Close()
			}
		}
		return nil, err
	}
	for i, s := range specs {
		fs, err := openSpec(s)
		if err != nil {
			return fail(fmt.Errorf("mount %q: %w", s.Path, err))
		}
		specs[i].Source = nil // owned by fs now
		ms = append(ms, Mount{Path: s.Path, FS: fs})
	}
	m, err := NewMounts(ms...)
	if err != nil {
		return fail(err)
	}
	return m, nil
}

// openSpec makes the file system of one spec.
func openSpec(s MountSpec) (FileSystem, error) {
	if s.FS != "ramfs" && s.Source == nil {
		return nil, fmt.Errorf("%s needs a source folder", s.FS)
	}
	switch s.FS {
	case "ramfs":
		size, err := ParseSize(s.Size)
		if err != nil {
			return nil, err
		}
		return NewRamFS(RamFSOptions{Size: size}), nil
	case "romfs":
		return NewRomFS(s.Source)
	case "hostdir":
		if s.Mode != "" && s.Mode != "ro" && s.Mode != "rw" {
			return nil, fmt.Errorf("hostdir mode %q: want \"ro\" or \"rw\"", s.Mode)
		}
		return NewHostDir(s.Source, s.Mode != "rw")
	}
	return nil, fmt.Errorf("unknown fs %q: want ramfs, romfs or hostdir", s.FS)
}

// sizeUnits are the suffixes ParseSize knows, longest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1}, {"", 1},
}

var errSize = errors.New(`size: want a whole number of bytes with an optional unit, like "64MiB"`)

// ParseSize parses a ramfs size: a whole number with an optional unit
// (B, KiB/MiB/GiB/TiB, K/M/G/T as binary, KB/MB/GB/TB as decimal), above
// zero. The empty string means unbounded (0).
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 || strings.ContainsAny(num, "+-") {
			return 0, fmt.Errorf("%q: %w", s, errSize)
		}
		if n > math.MaxInt64/u.mult {
			return 0, fmt.Errorf("%q: size too large", s)
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("%q: %w", s, errSize)
}
