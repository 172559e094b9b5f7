package confine

import (
	"fmt"
	"runtime"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// deniedSyscalls are refused with EPERM: nothing an entity needs, much
// that would let it leave its confinement, reach another process or the
// host kernel's administration.
var deniedSyscalls = []string{
	// other processes' memory and control
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
	// namespaces and mounts
	"setns", "unshare", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	// files by handle, bypassing paths
	"open_by_handle_at", "name_to_handle_at",
	// kernel facilities with a history of escapes
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	// the machine's administration
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "sethostname", "setdomainname", "uselib", "lookup_dcookie",
}

// cloneNewMask is every CLONE_NEW* flag that clone(2) accepts.
const cloneNewMask = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// filter is the seccomp policy: allow by default, refuse deniedSyscalls,
// clone with a CLONE_NEW* flag, and socket(AF_UNIX, ...) (a path-named
// socket of the host would be a way out; the kernel socket is inherited).
// clone3, whose flags a filter cannot read, fails with ENOSYS so that libc
// falls back to clone.
func filter() seccomp.Filter {
	return seccomp.Filter{
		NoNewPrivs: true,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Action: seccomp.ActionErrno, Names: deniedSyscalls},
				{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "clone", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNewMask}}},
					{Name: "socket", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.Equal, Value: unix.AF_UNIX}}},
				}},
				{Action: seccomp.Action(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)), Names: []string{"clone3"}},
			},
		},
	}
}

// auditArchX8664 is AUDIT_ARCH_X86_64.
const auditArchX8664 = 0xc000003e

// nativeOnly is a second filter, built with x/net/bpf: every system call
// made through another ABI than the native one (i386 through int 0x80) is
// refused, so the deny list cannot be sidestepped by number.
func nativeOnly() ([]bpf.RawInstruction, error) {
	if runtime.GOARCH != "amd64" {
		return nil, nil
	}
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArchX8664, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
}

// loadSeccomp loads both filters on the calling thread (the one that will
// execute the program).
func loadSeccomp() error {
	if err := seccomp.LoadFilter(filter()); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	raw, err := nativeOnly()
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	if len(raw) == 0 {
		return nil
	}
	insts := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		insts[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(insts)), Filter: &insts[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("seccomp: native-ABI filter: %w", e)
	}
	return nil
}
