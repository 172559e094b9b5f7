package confine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// firstGranted is the first granted descriptor: 0-2 are standard input
// and output, 3 the kernel socket.
const firstGranted = 4

// MainIfTrampoline confines this process and executes the entity's
// program, when the kernel started it as a trampoline (argv[0]
// "capsim-trampoline"). Otherwise it returns at once. Call it first thing
// in main and in the TestMain of every test binary that starts entities.
// It never returns in a trampoline: it executes the program or exits 126.
func MainIfTrampoline() {
	if len(os.Args) == 0 || os.Args[0] != TrampolineArg0 {
		return
	}
	// Every step applies to this thread, which executes the program.
	runtime.LockOSThread()
	p, err := decodePlan(os.Getenv(planEnv))
	if err == nil {
		if p.Probe {
			err = probeHere(p)
		} else {
			err = trampoline(p)
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", TrampolineArg0, err)
	os.Exit(126)
}

// trampoline confines the process as p says and executes the program. It
// returns only on failure.
func trampoline(p *plan) error {
	env := withoutEnv(os.Environ(), planEnv)
	if err := joinCgroups(p.Granted, p.Cgroups); err != nil {
		return err
	}
	if p.Proc {
		if err := mountProc(); err != nil {
			return err
		}
	}
	rfd := -1
	if p.Landlock > 0 {
		var err error
		if rfd, err = ruleset(p); err != nil {
			return err
		}
	}
	// Everything above the granted descriptors closes at exec: the cgroup
	// descriptors, the ruleset, the Go runtime's own.
	if err := unix.CloseRange(uint(firstGranted+p.Granted), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close descriptors: %w", err)
	}
	if err := dropPrivileges(p); err != nil {
		return err
	}
	// The credential change cleared the parent-death signal; set it again
	// before seccomp, which then refuses to change it.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("pdeathsig: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if rfd >= 0 {
		if err := ll.LandlockRestrictSelf(rfd, 0); err != nil {
			return fmt.Errorf("landlock: restrict: %w", err)
		}
	}
	if p.Seccomp {
		if err := loadSeccomp(); err != nil {
			return err
		}
	}
	err := execveat(p.ProgramFD, p.Argv, env)
	return fmt.Errorf("exec %s: %w", p.Path, err)
}

// execveat executes the program open as fd (fexecve).
func execveat(fd int, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	empty, err := syscall.BytePtrFromString("")
	if err != nil {
		return err
	}
	_, _, e := syscall.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return e
}

// joinCgroups writes this process into each cgroup whose cgroup.procs the
// kernel opened for it (descriptors after the granted ones). The kernel's
// open descriptor carries the right to write, so no privilege is needed.
func joinCgroups(granted, n int) error {
	for i := range n {
		fd := firstGranted + granted + i
		if _, err := unix.Write(fd, []byte("0\n")); err != nil {
			return fmt.Errorf("join cgroup (descriptor %d): %w", fd, err)
		}
	}
	return nil
}

// mountProc mounts a /proc of this PID namespace over the host's, after
// making every mount private so nothing propagates back.
func mountProc() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// dropPrivileges empties the bounding set, locks root out of capabilities
// (securebits), switches to the plan's ids with no supplementary groups,
// clears every capability set and makes the process undumpable.
func dropPrivileges(p *plan) error {
	if p.Caps {
		last := lastCap()
		for c := 0; c <= last; c++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
			}
		}
		const bits = 1<<0 | 1<<1 | 1<<5 // SECBIT_NOROOT(_LOCKED), SECBIT_KEEP_CAPS_LOCKED
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, bits, 0, 0, 0); err != nil {
			return fmt.Errorf("securebits: %w", err)
		}
	}
	if p.SetID {
		if err := syscall.Setgroups(nil); err != nil && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setresgid(p.GID, p.GID, p.GID); err != nil {
			return fmt.Errorf("setresgid %d: %w", p.GID, err)
		}
		if err := syscall.Setresuid(p.UID, p.UID, p.UID); err != nil {
			return fmt.Errorf("setresuid %d: %w", p.UID, err)
		}
	}
	if p.Caps {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("clear ambient capabilities: %w", err)
		}
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("capset: %w", err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("dumpable: %w", err)
	}
	return nil
}

// lastCap is the highest capability number the running kernel knows.
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 63
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 63
	}
	return n
}

// probeResult is what a probe trampoline found it could do.
type probeResult struct {
	Proc     string `json:"proc"` // "" when /proc could be mounted, else why not
	Landlock int    `json:"landlock"`
	Seccomp  bool   `json:"seccomp"`
}

// probeHere reports, on standard output, what this trampoline could do in
// the namespaces it was started in, and exits.
func probeHere(p *plan) error {
	var r probeResult
	if p.Proc {
		if err := mountProc(); err != nil {
			r.Proc = err.Error()
		}
	}
	r.Landlock = landlockABI()
	r.Seccomp = seccomp.Supported()
	if err := json.NewEncoder(os.Stdout).Encode(&r); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	os.Exit(0)
	return nil
}
