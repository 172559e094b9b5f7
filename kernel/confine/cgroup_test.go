package confine

import (
	"reflect"
	"strings"
	"testing"
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
	raw, err := nativeOnly()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4 {
		t.Fatalf("native-ABI filter: %d instructions, want 4", len(raw))
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
