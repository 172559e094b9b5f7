package confine

import (
	"fmt"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// maxLandlockABI is the newest Landlock ABI whose rights the ruleset
// handles; newer kernels enforce it as they would ABI 7.
const maxLandlockABI = 7

// landlockABI returns the kernel's Landlock ABI version, 0 without it.
func landlockABI() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// handledFS is every filesystem right of ABI v (capped at maxLandlockABI).
func handledFS(v int) uint64 {
	switch {
	case v <= 0:
		return 0
	case v == 1:
		return 1<<13 - 1
	case v == 2:
		return 1<<14 - 1
	case v <= 4:
		return 1<<15 - 1
	default:
		return 1<<16 - 1
	}
}

func handledNet(v int) uint64 {
	if v >= 4 {
		return ll.AccessNetBindTCP | ll.AccessNetConnectTCP
	}
	return 0
}

func scoped(v int) uint64 {
	if v >= 6 {
		return ll.ScopeAbstractUnixSocket | ll.ScopeSignal
	}
	return 0
}

// Rights granted beneath each kind of rule.
const (
	rightsExec  = ll.AccessFSExecute | ll.AccessFSReadFile
	rightsLibs  = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir
	rightsRead  = ll.AccessFSReadFile
	rightsProc  = ll.AccessFSReadFile | ll.AccessFSReadDir
	fileRights  = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	grantedFile = ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate
)

// pathRule grants rights beneath each of paths.
type pathRule struct {
	paths  []string
	rights uint64
}

// ruleset builds the Landlock ruleset of a plan: nothing by path but the
// program and its loader and libraries, /proc (the entity's own, read
// only) and what the kernel handed over as descriptors; no TCP; both
// scopes. It returns the ruleset descriptor, to enforce just before exec.
func ruleset(p *plan) (int, error) {
	v := min(p.Landlock, maxLandlockABI)
	fs := handledFS(v)
	attr := ll.RulesetAttr{HandledAccessFS: fs, HandledAccessNet: handledNet(v), Scoped: scoped(v)}
	fd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return -1, fmt.Errorf("landlock: create ruleset (ABI %d): %w", v, err)
	}
	add := func(path string, rights uint64) error {
		pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("landlock: %s: %w", path, err)
		}
		defer unix.Close(pfd)
		return addFD(fd, pfd, rights&fs)
	}
	rules := []pathRule{{p.Exec, rightsExec}, {p.Libs, rightsLibs}, {p.ReadFiles, rightsRead}}
	if p.Proc {
		rules = append(rules, pathRule{[]string{"/proc"}, rightsProc})
	}
	for _, r := range rules {
		for _, path := range r.paths {
			if err := add(path, r.rights); err != nil {
				unix.Close(fd)
				return -1, err
			}
		}
	}
	if err := addFD(fd, p.ProgramFD, rightsExec&fs); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("program: %w", err)
	}
	if err := addGranted(fd, p.Granted, p.WritableDirs, fs); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// addGranted adds a rule for each granted descriptor that is a directory
// (reading beneath it; everything beneath it when writable says so) or a
// regular file (as it was opened: read only, or read and write, so a
// program may reopen it through /proc/self/fd but not for more). Other
// descriptors (sockets, pipes) need no rule.
func addGranted(rfd, granted int, writable []bool, fs uint64) error {
	for i := range granted {
		gfd := firstGranted + i
		var st unix.Stat_t
		if err := unix.Fstat(gfd, &st); err != nil {
			return fmt.Errorf("landlock: granted descriptor %d: %w", gfd, err)
		}
		var rights uint64
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			rights = rightsProc // read files and list folders beneath it
			if i < len(writable) && writable[i] {
				rights = fs
			}
		case unix.S_IFREG:
			flags, err := unix.FcntlInt(uintptr(gfd), unix.F_GETFL, 0)
			if err != nil {
				return fmt.Errorf("landlock: granted descriptor %d: %w", gfd, err)
			}
			rights = rightsRead
			if flags&unix.O_ACCMODE != unix.O_RDONLY {
				rights = grantedFile
			}
		default:
			continue
		}
		if err := addFD(rfd, gfd, rights&fs); err != nil {
			return fmt.Errorf("granted descriptor %d: %w", gfd, err)
		}
	}
	return nil
}

// addFD adds a path-beneath rule for the file or directory open as pfd.
// Rights that do not apply to a file are dropped for a file.
func addFD(rfd, pfd int, rights uint64) error {
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		rights &= fileRights
	}
	if rights == 0 {
		return nil
	}
	attr := ll.PathBeneathAttr{AllowedAccess: rights, ParentFd: pfd}
	if err := ll.LandlockAddPathBeneathRule(rfd, &attr, 0); err != nil {
		return fmt.Errorf("landlock: add rule: %w", err)
	}
	return nil
}
