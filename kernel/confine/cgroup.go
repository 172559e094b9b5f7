package confine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"capsim/kernel"
)

// cgroups holds the cgroups of one Confiner's run: per controller a
// parent made for the run, and beneath it one cgroup per limited entity.
type cgroups struct {
	memory, cpu *hierarchy // nil where the controller is not usable
	reason      string     // why a controller is not usable
	made        []string   // entity cgroups, in creation order
	files       []*os.File // their open cgroup.procs
}

// hierarchy is one controller's place: v1 (a hierarchy of its own) or the
// unified v2 one, and the parent cgroup capsim made in it for the run.
type hierarchy struct {
	v2     bool
	parent string
}

// cgroupFiles returns the open cgroup.procs of a new cgroup for the
// entity, limited as its spec says; none when it has no memory or CPU
// limit. A notice says what could not be limited.
func (c *Confiner) cgroupFiles(spec *kernel.EntitySpec) ([]*os.File, string, error) {
	l := spec.Limits
	if l.Memory <= 0 && l.CPU <= 0 {
		return nil, "", nil
	}
	c.cgMu.Lock()
	defer c.cgMu.Unlock()
	if c.cg == nil {
		c.cg = newCgroups(c.opts.CgroupRoot)
	}
	var wants []*want
	add := func(h *hierarchy, ctl string, set []setting) {
		for _, w := range wants {
			if h != nil && w.h != nil && w.h.parent == h.parent {
				w.ctl, w.set = w.ctl+"+"+ctl, append(w.set, set...)
				return
			}
		}
		wants = append(wants, &want{h, ctl, set})
	}
	if l.Memory > 0 {
		add(c.cg.memory, "memory", memoryLimits(c.cg.memory, l.Memory))
	}
	if l.CPU > 0 {
		add(c.cg.cpu, "cpu", cpuLimits(c.cg.cpu, l.CPU))
	}
	var notices []string
	var files []*os.File
	for _, w := range wants {
		f, err := c.cg.entity(w.h, spec.Task, w.ctl, w.set)
		if err != nil {
			notices = append(notices, fmt.Sprintf("limits (%s) not enforced: %v", w.ctl, err))
			continue
		}
		files = append(files, f)
	}
	return files, strings.Join(notices, "; "), nil
}

// want is what one entity's cgroup in one hierarchy must limit.
type want struct {
	h   *hierarchy
	ctl string
	set []setting
}

type setting struct{ file, value string }

func memoryLimits(h *hierarchy, bytes int64) []setting {
	v := strconv.FormatInt(bytes, 10)
	if h != nil && h.v2 {
		return []setting{{"memory.max", v}, {"memory.swap.max?", "0"}}
	}
	return []setting{{"memory.limit_in_bytes", v}, {"memory.memsw.limit_in_bytes?", v}}
}

const cpuPeriod = 100000 // µs

func cpuLimits(h *hierarchy, cpu float64) []setting {
	quota := max(int64(cpu*cpuPeriod), 1000)
	if h != nil && h.v2 {
		return []setting{{"cpu.max", fmt.Sprintf("%d %d", quota, cpuPeriod)}}
	}
	return []setting{{"cpu.cfs_period_us", strconv.Itoa(cpuPeriod)}, {"cpu.cfs_quota_us", strconv.FormatInt(quota, 10)}}
}

// newCgroups finds the memory and cpu controllers this process may use.
func newCgroups(root string) *cgroups {
	cg := &cgroups{}
	mounts, err := cgroupMounts(root)
	if err != nil {
		cg.reason = err.Error()
		return cg
	}
	own, err := ownCgroups()
	if err != nil {
		cg.reason = err.Error()
		return cg
	}
	run := fmt.Sprintf("capsim-%d-%d", os.Getpid(), time.Now().UnixNano())
	var errs []string
	for _, ctl := range []string{"memory", "cpu"} {
		h, err := makeParent(mounts, own, ctl, run)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if ctl == "memory" {
			cg.memory = h
		} else {
			cg.cpu = h
		}
	}
	cg.reason = strings.Join(errs, "; ")
	return cg
}

// makeParent makes the run's parent cgroup for one controller: in its v1
// hierarchy if it has one, else in the unified hierarchy.
func makeParent(mounts map[string]string, own map[string]string, ctl, run string) (*hierarchy, error) {
	if m, ok := mounts[ctl]; ok {
		parent := filepath.Join(m, own[ctl], run)
		if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup v1 %s: %w", ctl, err)
		}
		return &hierarchy{parent: parent}, nil
	}
	m, ok := mounts[""]
	if !ok {
		return nil, fmt.Errorf("no %s controller mounted", ctl)
	}
	base := filepath.Join(m, own[""])
	ctls, _ := os.ReadFile(filepath.Join(base, "cgroup.controllers"))
	if !slices.Contains(strings.Fields(string(ctls)), ctl) {
		return nil, fmt.Errorf("cgroup v2 at %s has no %s controller", base, ctl)
	}
	if err := writeFile(filepath.Join(base, "cgroup.subtree_control"), "+"+ctl); err != nil {
		return nil, err
	}
	parent := filepath.Join(base, run)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if err := writeFile(filepath.Join(parent, "cgroup.subtree_control"), "+"+ctl); err != nil {
		return nil, err
	}
	return &hierarchy{v2: true, parent: parent}, nil
}

// entity makes the cgroup of one entity start under h and returns its
// cgroup.procs, open for writing (the trampoline joins through it).
func (cg *cgroups) entity(h *hierarchy, task, ctl string, set []setting) (*os.File, error) {
	if h == nil {
		return nil, fmt.Errorf("no %s controller (%s)", ctl, cg.reason)
	}
	dir := filepath.Join(h.parent, fmt.Sprintf("%s-%d", task, len(cg.made)))
	if !slices.Contains(cg.made, dir) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		cg.made = append(cg.made, dir)
	}
	for _, s := range set {
		name, optional := strings.CutSuffix(s.file, "?")
		if err := writeFile(filepath.Join(dir, name), s.value); err != nil && !(optional && errors.Is(err, os.ErrNotExist)) {
			return nil, err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	cg.files = append(cg.files, f)
	return f, nil
}

// close removes every cgroup made, entity cgroups first.
func (cg *cgroups) close() error {
	for _, f := range cg.files {
		f.Close()
	}
	var errs []error
	for i := len(cg.made) - 1; i >= 0; i-- {
		if err := os.Remove(cg.made[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, h := range []*hierarchy{cg.memory, cg.cpu} {
		if h != nil {
			if err := os.Remove(h.parent); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	_, err = io.WriteString(f, value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cgroup: write %s: %w", path, err)
	}
	return nil
}

// cgroupMounts maps each v1 controller to its hierarchy's mount point, and
// "" to the unified (v2) mount, from /proc/self/mountinfo. root, when set,
// replaces the machine's mounts (a v2 hierarchy at root).
func cgroupMounts(root string) (map[string]string, error) {
	if root != "" {
		return map[string]string{"": root}, nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	return parseMountinfo(f), nil
}

// parseMountinfo reads cgroup mounts from mountinfo lines: "... MOUNTPOINT
// ... - FSTYPE SOURCE SUPEROPTS".
func parseMountinfo(r io.Reader) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(after) < 3 {
			continue
		}
		switch after[0] {
		case "cgroup2":
			if _, seen := m[""]; !seen {
				m[""] = fields[4]
			}
		case "cgroup":
			for _, opt := range strings.Split(after[2], ",") {
				if _, seen := m[opt]; !seen && (opt == "memory" || opt == "cpu") {
					m[opt] = fields[4]
				}
			}
		}
	}
	return m
}

// ownCgroups maps each v1 controller, and "" for v2, to this process's
// cgroup path, from /proc/self/cgroup.
func ownCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return parseProcCgroup(string(b)), nil
}

func parseProcCgroup(s string) map[string]string {
	own := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			own[ctl] = parts[2]
		}
	}
	return own
}
