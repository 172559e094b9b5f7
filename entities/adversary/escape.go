package adversary

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Targets are what the escape attempts aim at.
type Targets struct {
	KernelPID  int      // the kernel's host pid (0: not known)
	SiblingPID int      // another entity's host pid (0: not known)
	HostFiles  []string // host files to read
	HostDir    string   // a host directory to create a file in
	TCP        []string // listeners on the machine's loopback
}

// escapes lists the confinement attacks in order.
func escapes(t *Targets) []attack {
	as := []attack{
		{"escape-fds", func(context.Context) Result { return extraFDs() }},
		{"escape-create-file", func(context.Context) Result { return createFile(t.HostDir) }},
		{"escape-proc-pids", func(context.Context) Result { return procPIDs() }},
		{"escape-caps", func(context.Context) Result { return capabilities() }},
		{"escape-unshare", func(context.Context) Result {
			return fromErr(unix.Unshare(unix.CLONE_NEWUTS))
		}},
		{"escape-setns", func(context.Context) Result { return setns(t.KernelPID) }},
		{"escape-unix-socket", func(context.Context) Result { return socketOf(unix.AF_UNIX) }},
		// The kernel reads the family as an int: bits above 32 must not
		// hide AF_UNIX from a filter that compares all 64.
		{"escape-unix-socket-wide", func(context.Context) Result { return socketOf(unix.AF_UNIX | 1<<32) }},
		{"escape-vsock", func(context.Context) Result { return socketOf(unix.AF_VSOCK) }},
		{"escape-packet-socket", func(context.Context) Result { return socketOf(unix.AF_PACKET) }},
		{"escape-inotify", func(context.Context) Result { return watch(t.HostDir) }},
		// Without its parent-death signal it would outlive a killed kernel.
		{"escape-pdeathsig", func(context.Context) Result {
			return fromErr(unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0))
		}},
	}
	for i, f := range t.HostFiles {
		as = append(as, attack{fmt.Sprintf("escape-read-file-%d", i), func(context.Context) Result {
			b, err := os.ReadFile(f)
			return withDetail(fromErr(err), f, len(b))
		}})
	}
	for i, addr := range t.TCP {
		as = append(as, attack{fmt.Sprintf("escape-tcp-%d", i), func(ctx context.Context) Result {
			return dialTCP(ctx, addr)
		}})
	}
	as = append(as, pidAttacks("kernel", t.KernelPID)...)
	return append(as, pidAttacks("sibling", t.SiblingPID)...)
}

// pidAttacks signal, trace and read another process, by host pid.
func pidAttacks(who string, pid int) []attack {
	skip := func(context.Context) Result {
		return Result{Outcome: Skipped, Error: "no --" + who + "-pid given"}
	}
	if pid <= 0 {
		return []attack{{"escape-signal-" + who, skip}}
	}
	as := []attack{
		{"escape-signal-" + who, func(context.Context) Result { return fromErr(unix.Kill(pid, 0)) }},
		{"escape-mem-" + who, func(context.Context) Result { return readProc(pid, "mem") }},
		{"escape-environ-" + who, func(context.Context) Result { return readProc(pid, "environ") }},
	}
	if who == "sibling" {
		// Only a sibling: attaching to the kernel would stop it.
		as = append(as, attack{"escape-ptrace-" + who, func(context.Context) Result {
			err := unix.PtraceAttach(pid)
			if err == nil {
				_ = unix.PtraceDetach(pid)
			}
			return fromErr(err)
		}})
	}
	return as
}

// extraFDs looks for a descriptor from 4 to 64 that the entity inherited:
// one granted nothing holds only 0-3. Descriptors the program opened
// itself (the Go runtime's poller) are close-on-exec, so they cannot have
// come through exec; an inherited one cannot be close-on-exec.
func extraFDs() Result {
	own := 0
	for fd := 4; fd <= 64; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		switch {
		case errors.Is(err, unix.EBADF):
		case err != nil:
			return fromErr(err)
		case flags&unix.FD_CLOEXEC != 0:
			own++
		default:
			what, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
			return Result{Outcome: Succeeded, Error: fmt.Sprintf("descriptor %d was inherited (%s)", fd, what)}
		}
	}
	return Result{Outcome: Denied, Errno: "EBADF", Error: fmt.Sprintf("descriptors 4-64: none inherited (%d of the program's own)", own)}
}

// socketOf makes a stream (or, for packet, raw) socket of family with the
// raw system call, so that every bit of the argument reaches the kernel.
func socketOf(family uint64) Result {
	typ := uint64(unix.SOCK_STREAM)
	if family == unix.AF_PACKET {
		typ = unix.SOCK_RAW
	}
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ), 0)
	if e != 0 {
		return fromErr(e)
	}
	unix.Close(int(fd))
	return fromErr(nil)
}

// watch puts an inotify watch on a host folder, which would tell the
// entity of every file made, read or removed in it.
func watch(dir string) Result {
	if dir == "" {
		dir = os.TempDir()
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return fromErr(err)
	}
	defer unix.Close(fd)
	_, err = unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_ACCESS)
	return withDetail(fromErr(err), dir, -1)
}

func createFile(dir string) Result {
	if dir == "" {
		dir = os.TempDir()
	}
	name := filepath.Join(dir, fmt.Sprintf("capsim-adversary-%d", os.Getpid()))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		f.Close()
		os.Remove(name)
	}
	return withDetail(fromErr(err), name, -1)
}

// procPIDs lists the processes /proc shows: only this one (pid 1 of its
// own namespace) when confined.
func procPIDs() Result {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return fromErr(err)
	}
	var pids []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	if len(pids) == 1 && pids[0] == "1" {
		return Result{Outcome: Denied, Error: "/proc shows only pid 1"}
	}
	return Result{Outcome: Succeeded, Error: fmt.Sprintf("/proc shows %d processes", len(pids))}
}

// capabilities reads the effective set from /proc/self/status.
func capabilities() Result {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fromErr(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			v = strings.TrimSpace(v)
			if strings.Trim(v, "0") == "" {
				return Result{Outcome: Denied, Error: "CapEff " + v}
			}
			return Result{Outcome: Succeeded, Error: "CapEff " + v}
		}
	}
	return Result{Outcome: Error, Error: "no CapEff in /proc/self/status"}
}

// setns tries to join the kernel's network namespace (or, without its pid,
// this process's own).
func setns(kernelPID int) Result {
	path := "/proc/self/ns/net"
	if kernelPID > 0 {
		path = fmt.Sprintf("/proc/%d/ns/net", kernelPID)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		// Without the kernel's namespace in sight, try our own: the call
		// itself must be refused.
		if fd, err = unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return withDetail(fromErr(unix.Setns(0, unix.CLONE_NEWNET)), "setns(0)", -1)
		}
	}
	defer unix.Close(fd)
	return fromErr(unix.Setns(fd, unix.CLONE_NEWNET))
}

func readProc(pid int, file string) Result {
	name := fmt.Sprintf("/proc/%d/%s", pid, file)
	f, err := os.Open(name)
	if err != nil {
		return withDetail(fromErr(err), name, -1)
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return withDetail(fromErr(err), name, -1)
	}
	return withDetail(Result{Outcome: Succeeded}, name, n)
}

func dialTCP(ctx context.Context, addr string) Result {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
	}
	if errors.Is(err, unix.ECONNREFUSED) {
		// A TCP reset came back: the attempt reached a network stack
		// outside the entity's (its own namespace has no route), and only
		// the absence of a listener there kept it from connecting.
		return Result{Outcome: Succeeded, Errno: "ECONNREFUSED", Error: addr + ": reached, refused by the host"}
	}
	return withDetail(fromErr(err), addr, -1)
}

// refusals are the errors by which confinement refuses an escape.
var refusals = map[syscall.Errno]bool{
	unix.EACCES: true, unix.EPERM: true, unix.ENETUNREACH: true, unix.ESRCH: true,
	unix.EBADF: true, unix.ENOENT: true, unix.ENOSYS: true,
}

// fromErr classifies the outcome of an escape attempt: no error is an
// escape; a refusal is a denial; anything else an error.
func fromErr(err error) Result {
	if err == nil {
		return Result{Outcome: Succeeded}
	}
	r := Result{Outcome: Error, Error: err.Error()}
	var en syscall.Errno
	if errors.As(err, &en) {
		r.Errno = unix.ErrnoName(en)
		if refusals[en] {
			r.Outcome = Denied
		}
	}
	return r
}

func withDetail(r Result, what string, n int) Result {
	if r.Outcome == Succeeded {
		r.Error = what
		if n >= 0 {
			r.Error = fmt.Sprintf("%s: read %d bytes", what, n)
		}
	}
	return r
}
