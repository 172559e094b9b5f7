package confine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"capsim/kernel"
	"capsim/kernel/confine"
)

// TestMemoryLimit: an entity that allocates past limits.memory is killed
// in its own cgroup; the cgroups go with Close.
func TestMemoryLimit(t *testing.T) {
	c := confine.New(confine.Options{})
	hog := entity(t, "hog", "demo.EchoClient", "test-hog")
	hog.Main = true
	hog.Limits = kernel.Limits{Memory: 64 << 20, CPU: 0.5}
	s := startSystem(t, kernel.IsolateAuto, c, hog)
	s.wait(t)
	st, _ := s.k.Exit("hog")
	out := s.out.String()
	if strings.Contains(out, "not enforced") {
		t.Skipf("the machine cannot limit memory here:\n%s", out)
	}
	if st.Signal == "" || strings.Contains(s.k.Output("hog"), "allocated") {
		t.Fatalf("hog: exit %+v, want killed past 64 MiB\n%s", st, out)
	}
	dirs := cgroupDirs(t)
	if len(dirs) == 0 {
		t.Fatal("no capsim cgroup while the run is on")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left behind", d)
		}
	}
}

// cgroupDirs lists this process's capsim cgroups.
func cgroupDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, pat := range []string{"/sys/fs/cgroup/*/*/capsim-*", "/sys/fs/cgroup/*/*/*/capsim-*", "/sys/fs/cgroup/*/capsim-*", "/sys/fs/cgroup/capsim-*"} {
		m, _ := filepath.Glob(pat)
		for _, d := range m {
			if strings.Contains(filepath.Base(d), "-"+strconv.Itoa(os.Getpid())+"-") {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// TestExternalProgramConfined: an external, dynamically linked program gets
// the same confinement: it starts (its loader and libraries are readable)
// but cannot read a host file.
func TestExternalProgramConfined(t *testing.T) {
	c := confine.New(confine.Options{})
	t.Cleanup(func() { c.Close() })
	ok := kernel.EntitySpec{Task: "true", Class: "demo.EchoClient", Path: "/bin/true", Main: true}
	cat := kernel.EntitySpec{Task: "cat", Class: "demo.EchoClient", Path: "/bin/cat", Args: []string{"/etc/passwd"}, Main: true}
	s := startSystem(t, kernel.IsolateOn, c, ok, cat)
	s.wait(t)
	if st, _ := s.k.Exit("true"); st.Code != 0 {
		t.Errorf("/bin/true: %+v\n%s", st, s.out.String())
	}
	st, _ := s.k.Exit("cat")
	if st.Code == 0 || !strings.Contains(s.k.Output("cat"), "Permission denied") {
		t.Errorf("cat /etc/passwd: %+v, output %q; want permission denied", st, s.k.Output("cat"))
	}
}
