package confine

import (
	"encoding/binary"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func TestParseMountinfo(t *testing.T) {
	in := `24 29 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
30 24 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw
31 24 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:11 - cgroup cgroup rw,cpu,cpuacct
32 24 0:28 / /sys/fs/cgroup/memory rw shared:12 - cgroup cgroup rw,memory
33 24 0:29 / /sys/fs/cgroup/cpuset rw shared:13 - cgroup cgroup rw,cpuset
garbage
`
	got := parseMountinfo(strings.NewReader(in))
	want := map[string]string{"": "/sys/fs/cgroup/unified", "cpu": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseMountinfo = %v, want %v", got, want)
	}
}

func TestParseProcCgroup(t *testing.T) {
	got := parseProcCgroup("4:memory:/a/b\n2:cpu,cpuacct:/\n0::/user.slice\nbad\n")
	want := map[string]string{"memory": "/a/b", "cpu": "/", "cpuacct": "/", "": "/user.slice"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseProcCgroup = %v, want %v", got, want)
	}
}

func TestLimitSettings(t *testing.T) {
	v1, v2 := &hierarchy{}, &hierarchy{v2: true}
	tests := []struct {
		got, want []setting
	}{
		{memoryLimits(v1, 64<<20), []setting{{"memory.limit_in_bytes", "67108864"}, {"memory.memsw.limit_in_bytes?", "67108864"}}},
		{memoryLimits(v2, 1<<20), []setting{{"memory.max", "1048576"}, {"memory.swap.max?", "0"}}},
		{cpuLimits(v1, 0.5), []setting{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "50000"}}},
		{cpuLimits(v2, 2), []setting{{"cpu.max", "200000 100000"}}},
		{cpuLimits(v2, 0.0001), []setting{{"cpu.max", "1000 100000"}}},
	}
	for i, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%d: %v, want %v", i, tt.got, tt.want)
		}
	}
}

func TestSeccompFiltersAssemble(t *testing.T) {
	f := filter()
	insts, err := f.Policy.Assemble()
	if err != nil {
		t.Fatalf("seccomp policy: %v", err)
	}
	if len(insts) < len(deniedSyscalls) {
		t.Fatalf("%d instructions for %d denied calls", len(insts), len(deniedSyscalls))
	}
}

// TestNativeFilterDecides runs the hand-built filter in x/net/bpf's VM on
// made-up seccomp_data: other ABIs and every socket family but IPv4, IPv6
// and netlink are refused, also when the family hides in the argument's
// upper half, which the kernel ignores.
func TestNativeFilterDecides(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the filter is for amd64")
	}
	raw, err := nativeFilter()
	if err != nil {
		t.Fatal(err)
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	// seccomp_data as the filter's 32-bit loads see it: the kernel loads
	// words in the machine's order, x/net/bpf's VM in network order, so
	// each word is written big-endian (args[0]'s low half at 16).
	data := func(arch, nr uint32, arg0 uint64) []byte {
		b := make([]byte, 64)
		binary.BigEndian.PutUint32(b[0:], nr)
		binary.BigEndian.PutUint32(b[4:], arch)
		binary.BigEndian.PutUint32(b[16:], uint32(arg0))
		binary.BigEndian.PutUint32(b[20:], uint32(arg0>>32))
		return b
	}
	const allow, deny = unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	tests := []struct {
		name     string
		arch, nr uint32
		arg0     uint64
		want     uint32
	}{
		{"read", auditArchX8664, unix.SYS_READ, 0, allow},
		{"i386 read", 0x40000003, 3, 0, deny},
		{"socket AF_INET", auditArchX8664, unix.SYS_SOCKET, unix.AF_INET, allow},
		{"socket AF_INET6", auditArchX8664, unix.SYS_SOCKET, unix.AF_INET6, allow},
		{"socket AF_NETLINK", auditArchX8664, unix.SYS_SOCKET, unix.AF_NETLINK, allow},
		{"socket AF_UNIX", auditArchX8664, unix.SYS_SOCKET, unix.AF_UNIX, deny},
		{"socket AF_UNIX|1<<32", auditArchX8664, unix.SYS_SOCKET, unix.AF_UNIX | 1<<32, deny},
		{"socket AF_INET|1<<32", auditArchX8664, unix.SYS_SOCKET, unix.AF_INET | 1<<32, allow}, // the kernel reads AF_INET
		{"socket AF_VSOCK", auditArchX8664, unix.SYS_SOCKET, unix.AF_VSOCK, deny},
		{"socket AF_PACKET", auditArchX8664, unix.SYS_SOCKET, unix.AF_PACKET, deny},
		{"socketpair AF_UNIX", auditArchX8664, unix.SYS_SOCKETPAIR, unix.AF_UNIX, allow}, // reaches nothing
		{"prctl PR_SET_PDEATHSIG", auditArchX8664, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, deny},
		{"prctl PR_SET_PDEATHSIG|1<<32", auditArchX8664, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG | 1<<32, deny},
		{"prctl PR_GET_PDEATHSIG", auditArchX8664, unix.SYS_PRCTL, unix.PR_GET_PDEATHSIG, allow},
		{"prctl PR_SET_NAME", auditArchX8664, unix.SYS_PRCTL, unix.PR_SET_NAME, allow},
	}
	for _, tt := range tests {
		got, err := vm.Run(data(tt.arch, tt.nr, tt.arg0))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if uint32(got) != tt.want {
			t.Errorf("%s: filter returns %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

// FuzzParseMountinfo: the mountinfo and /proc/self/cgroup parsers never
// panic and only report cgroup mounts.
func FuzzParseMountinfo(f *testing.F) {
	f.Add("31 24 0:27 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n")
	f.Add("1 2 3 4 5 - cgroup2 x y\n - \n")
	f.Fuzz(func(t *testing.T, s string) {
		for k := range parseMountinfo(strings.NewReader(s)) {
			if k != "" && k != "memory" && k != "cpu" {
				t.Fatalf("controller %q reported", k)
			}
		}
		_ = parseProcCgroup(s)
	})
}
