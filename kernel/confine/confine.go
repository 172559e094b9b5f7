package confine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"capsim/kernel"
)

// Options configure a Confiner.
type Options struct {
	// Self is the binary that runs the trampoline (it calls
	// MainIfTrampoline first); default os.Executable().
	Self string
	// BaseID is the first host uid/gid of entities when capsim runs as
	// root: entity n runs as BaseID+2n+1 (its setup as BaseID+2n). Default
	// 1_000_000, far from any account.
	BaseID int
	// CgroupRoot overrides where cgroups are looked for (tests); default
	// the machine's mounts.
	CgroupRoot string
	Log        *slog.Logger
}

// Confiner confines entities; see the package documentation. It is safe
// for concurrent use.
type Confiner struct {
	opts Options
	n    atomic.Int64

	once  sync.Once
	avail *available

	cgMu sync.Mutex
	cg   *cgroups

	filesMu sync.Mutex
	files   map[string]*os.File // open programs, by path
}

var _ kernel.Confiner = (*Confiner)(nil)

// New returns a Confiner.
func New(opts Options) *Confiner {
	if opts.BaseID <= 0 {
		opts.BaseID = 1_000_000
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Confiner{opts: opts}
}

// available is what the probe found the machine allows.
type available struct {
	self     string
	userns   bool // user namespaces (else, as root, namespaces without one)
	ns       bool // PID, network, IPC, UTS and mount namespaces
	root     bool
	proc     bool
	landlock int
	seccomp  bool
	missing  []string // what is not available, for the notice
	err      error    // the trampoline cannot run at all
}

// Confine implements kernel.Confiner: it rewrites cmd to start the
// trampoline, which confines itself and executes cmd's program.
func (c *Confiner) Confine(cmd *exec.Cmd, spec *kernel.EntitySpec, mode kernel.IsolateMode) ([]string, error) {
	if mode == kernel.IsolateOff {
		return nil, nil
	}
	a := c.available()
	if a.err != nil {
		return nil, a.err
	}
	var notices []string
	if len(a.missing) > 0 {
		if mode == kernel.IsolateOn {
			return nil, fmt.Errorf("--isolate on: the machine does not allow %s", strings.Join(a.missing, "; "))
		}
		notices = append(notices, "isolation partial: "+strings.Join(a.missing, "; "))
	}
	n := int(c.n.Add(1) - 1)
	p, err := c.plan(cmd, spec, a, n)
	if err != nil {
		return notices, err
	}
	cgFiles, cgNotice, err := c.cgroupFiles(spec)
	if cgNotice != "" {
		if mode == kernel.IsolateOn {
			return notices, errors.New("--isolate on: " + cgNotice)
		}
		notices = append(notices, cgNotice)
	}
	if err != nil {
		return notices, err
	}
	p.Cgroups = len(cgFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, cgFiles...)
	// The trampoline and the program are executed through descriptors the
	// kernel opened: the entity's ids need not search their folders.
	selfFD, err := c.openFile(cmd, a.self)
	if err != nil {
		return notices, err
	}
	if p.ProgramFD, err = c.openFile(cmd, p.Path); err != nil {
		return notices, err
	}
	enc, err := p.encode()
	if err != nil {
		return notices, err
	}
	cmd.Path = fmt.Sprintf("/proc/self/fd/%d", selfFD)
	cmd.Args = []string{TrampolineArg0}
	cmd.Env = append(withoutEnv(cmd.Env, planEnv), planEnv+"="+enc)
	c.attrs(cmd.SysProcAttr, a, n)
	return notices, nil
}

// plan is what the trampoline of cmd must do.
func (c *Confiner) plan(cmd *exec.Cmd, spec *kernel.EntitySpec, a *available, n int) (*plan, error) {
	path := cmd.Path
	if !strings.HasPrefix(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			return nil, fmt.Errorf("program %s: %w", path, err)
		}
		path = lp
	}
	p := &plan{Path: path, Argv: cmd.Args, Granted: len(spec.Files), WritableDirs: spec.Writable, Proc: a.proc, Caps: true, Seccomp: a.seccomp}
	switch {
	case a.root && a.userns: // id 1 of the namespace: the second host id mapped (attrs)
		p.SetID, p.UID, p.GID = true, 1, 1
	case a.root:
		id := c.hostID(n) + 1
		p.SetID, p.UID, p.GID = true, id, id
	}
	// Not root: the namespace maps only id 0, the user's own id, and the
	// entity stays that (with no capabilities).
	if a.landlock > 0 {
		d, err := programDeps(path)
		if err != nil {
			return nil, err
		}
		p.Landlock, p.Exec, p.Libs, p.ReadFiles = a.landlock, d.Exec[1:], d.Libs, d.ReadFiles
	}
	return p, nil
}

// openFile returns the descriptor that the file at path will have in
// cmd's process, adding it to cmd's inherited files unless it is there. The
// Confiner keeps each file open until Close.
func (c *Confiner) openFile(cmd *exec.Cmd, path string) (int, error) {
	c.filesMu.Lock()
	f := c.files[path]
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			c.filesMu.Unlock()
			return 0, fmt.Errorf("program: %w", err)
		}
		if c.files == nil {
			c.files = make(map[string]*os.File)
		}
		c.files[path] = f
	}
	c.filesMu.Unlock()
	for i, g := range cmd.ExtraFiles {
		if g == f {
			return 3 + i, nil
		}
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	return 2 + len(cmd.ExtraFiles), nil
}

// nsFlags are the namespaces of every entity.
const nsFlags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS

// attrs sets the namespaces and id maps of entity n.
func (c *Confiner) attrs(sp *syscall.SysProcAttr, a *available, n int) {
	if !a.ns {
		return
	}
	sp.Cloneflags |= nsFlags
	if !a.userns {
		return
	}
	sp.Cloneflags |= syscall.CLONE_NEWUSER
	if a.root {
		// ns root (the trampoline's setup) and the entity's own id, both
		// unused on the host.
		host := c.hostID(n)
		sp.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: host, Size: 2}}
		sp.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: host, Size: 2}}
		sp.GidMappingsEnableSetgroups = true
		// Become the namespace's root (host id host) at once: the kernel's
		// own uid is not mapped, and an unmapped process has no
		// capabilities in the namespace.
		sp.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
		return
	}
	sp.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	sp.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
}

// hostID is the first of the two host ids of entity n.
func (c *Confiner) hostID(n int) int { return c.opts.BaseID + 2*(n%500_000) }

// available probes the machine once: it starts a trampoline in the
// namespaces an entity gets and asks what it could do there.
func (c *Confiner) available() *available {
	c.once.Do(func() { c.avail = c.probe() })
	return c.avail
}

func (c *Confiner) probe() *available {
	a := &available{root: os.Geteuid() == 0, self: c.opts.Self}
	if a.self == "" {
		exe, err := os.Executable()
		if err != nil {
			a.err = fmt.Errorf("confine: the trampoline binary: %w", err)
			return a
		}
		a.self = exe
	}
	var r *probeResult
	var err error
	var why []string
	for _, try := range []struct{ userns, ns bool }{{true, true}, {false, true}, {false, false}} {
		if try.ns && !try.userns && !a.root {
			continue
		}
		a.userns, a.ns = try.userns, try.ns
		if r, err = c.runProbe(a); err == nil {
			break
		}
		c.opts.Log.Debug("confinement probe failed", "userns", try.userns, "ns", try.ns, "err", err)
		why = append(why, err.Error())
	}
	if err != nil {
		a.err = fmt.Errorf("confine: the trampoline does not run: %w", err)
		return a
	}
	a.proc, a.landlock, a.seccomp = a.ns && r.Proc == "", r.Landlock, r.Seccomp
	a.missing = missing(a, r)
	if len(why) > 0 && len(a.missing) > 0 {
		a.missing[0] += " (" + why[0] + ")"
	}
	return a
}

func missing(a *available, r *probeResult) []string {
	var m []string
	if !a.userns {
		m = append(m, "no user namespaces")
	}
	if !a.ns {
		m = append(m, "no PID, network, IPC, UTS or mount namespaces: entities share the host's network")
	} else if r.Proc != "" {
		m = append(m, "no /proc of their own ("+r.Proc+")")
	}
	if r.Landlock == 0 {
		m = append(m, "no Landlock: entities can reach the host's files")
	} else if r.Landlock < 6 {
		m = append(m, fmt.Sprintf("Landlock ABI %d: no signal and abstract-socket scopes", r.Landlock))
	}
	if !r.Seccomp {
		m = append(m, "no seccomp")
	}
	return m
}

// runProbe starts one probe trampoline with a's namespaces.
func (c *Confiner) runProbe(a *available) (*probeResult, error) {
	enc, err := (&plan{Probe: true, Proc: a.ns}).encode()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Args: []string{TrampolineArg0}, Env: []string{planEnv + "=" + enc},
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}, WaitDelay: time.Second}
	fd, err := c.openFile(cmd, a.self)
	if err != nil {
		return nil, err
	}
	cmd.Path = fmt.Sprintf("/proc/self/fd/%d", fd)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	c.attrs(cmd.SysProcAttr, a, 0)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	var r probeResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("probe answered %q: %w (does the binary call confine.MainIfTrampoline first?)", out.String(), err)
	}
	return &r, nil
}

// Close removes the cgroups the Confiner made. Call it when every entity
// has exited.
func (c *Confiner) Close() error {
	c.filesMu.Lock()
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
	c.filesMu.Unlock()
	c.cgMu.Lock()
	defer c.cgMu.Unlock()
	if c.cg == nil {
		return nil
	}
	err := c.cg.close()
	c.cg = nil
	return err
}
