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
	// watching host folders: Landlock does not check these
	"inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init", "fanotify_mark",
}

// cloneNewMask is every CLONE_NEW* flag that clone(2) accepts.
const cloneNewMask = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// filter is the seccomp policy: allow by default, refuse deniedSyscalls
// and clone with a CLONE_NEW* flag. clone3, whose flags a filter cannot
// read, fails with ENOSYS so that libc falls back to clone. Socket
// families are the second filter's (nativeFilter).
func filter() seccomp.Filter {
	return seccomp.Filter{
		NoNewPrivs: true,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Action: seccomp.ActionErrno, Names: deniedSyscalls},
				{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "clone", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.BitsSet, Value: cloneNewMask}}},
				}},
				{Action: seccomp.Action(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)), Names: []string{"clone3"}},
			},
		},
	}
}

// auditArchX8664 is AUDIT_ARCH_X86_64.
const auditArchX8664 = 0xc000003e

// System call numbers on x86-64.
const (
	sysSocketX8664 = 41
	sysPrctlX8664  = 157
)

// nativeFilter is a second filter, built with x/net/bpf:
//   - every system call made through another ABI than the native one (i386
//     through int 0x80) is refused, so the deny list cannot be sidestepped
//     by number;
//   - socket(2) may make only IPv4, IPv6 and netlink sockets. The family is
//     compared as the kernel reads it, the low 32 bits of the argument
//     (AF_UNIX|1<<32 is AF_UNIX to the kernel). Unix sockets could reach a
//     path-named socket of the host, vsock the hypervisor, packet and the
//     rest the host kernel's other faces; the kernel socket is inherited;
//   - prctl(PR_SET_PDEATHSIG) is refused: the signal that ends the entity
//     when the kernel dies must stay (the entity is its PID namespace's
//     init, so its children end with it).
func nativeFilter() ([]bpf.RawInstruction, error) {
	if runtime.GOARCH != "amd64" {
		return nil, nil
	}
	deny := bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)}
	allow := bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW}
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArchX8664, SkipTrue: 1},
		deny,
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: sysSocketX8664, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: sysPrctlX8664, SkipTrue: 7},
		allow,
		// socket: the family, the low half of args[0] (little-endian)
		bpf.LoadAbsolute{Off: 16, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_INET, SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_INET6, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_NETLINK, SkipTrue: 1},
		deny,
		allow,
		// prctl: the option, the low half of args[0]
		bpf.LoadAbsolute{Off: 16, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PR_SET_PDEATHSIG, SkipTrue: 1},
		allow,
		deny,
	})
}

// loadSeccomp loads both filters on the calling thread (the one that will
// execute the program).
func loadSeccomp() error {
	if err := seccomp.LoadFilter(filter()); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	raw, err := nativeFilter()
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
