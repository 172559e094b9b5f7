package confine

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// planEnv carries the trampoline's plan. The trampoline removes it from
// the environment before it executes the program, so the program's own
// arguments and environment are never read as instructions.
const planEnv = "CAPSIM_CONFINE_PLAN"

// TrampolineArg0 is argv[0] of a trampoline.
const TrampolineArg0 = "capsim-trampoline"

// maxPlan bounds the encoded plan (it travels in the environment).
const maxPlan = 64 << 10

// plan is what the Confiner tells the trampoline to do.
type plan struct {
	// Probe asks the trampoline to report what the machine allows instead
	// of executing a program.
	Probe bool `json:"probe,omitempty"`
	// Path and Argv are the program to execute; ProgramFD is it open (the
	// kernel opened it, so no directory on its path needs to be
	// searchable by the entity). The trampoline executes the descriptor.
	Path      string   `json:"path,omitempty"`
	Argv      []string `json:"argv,omitempty"`
	ProgramFD int      `json:"program_fd"`
	// Granted counts the descriptors the kernel grants from 4; Cgroups the
	// cgroup.procs descriptors that follow them, which the trampoline
	// writes itself into and closes.
	Granted int `json:"granted"`
	Cgroups int `json:"cgroups"`
	// WritableDirs says, per granted descriptor, whether a granted
	// directory may be written beneath (a hostdir mounted rw).
	WritableDirs []bool `json:"writable_dirs,omitempty"`
	// Proc mounts a /proc of the entity's own PID namespace.
	Proc bool `json:"proc,omitempty"`
	// SetID switches to UID/GID before execution; Caps drops every
	// capability.
	SetID bool `json:"setid,omitempty"`
	UID   int  `json:"uid"`
	GID   int  `json:"gid"`
	Caps  bool `json:"caps,omitempty"`
	// Landlock is the Landlock ABI to use (0: none). Exec lists the files
	// to read and execute besides the program (its loader or script
	// interpreter), Libs the directories
	// of its libraries, ReadFiles further files to read (the loader cache).
	Landlock  int      `json:"landlock,omitempty"`
	Exec      []string `json:"exec,omitempty"`
	Libs      []string `json:"libs,omitempty"`
	ReadFiles []string `json:"read_files,omitempty"`
	// Seccomp loads the filter.
	Seccomp bool `json:"seccomp,omitempty"`
}

// encode returns the plan as the value of planEnv.
func (p *plan) encode() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode plan: %w", err)
	}
	if len(b) > maxPlan {
		return "", fmt.Errorf("encode plan: %d bytes, more than %d", len(b), maxPlan)
	}
	return string(b), nil
}

// decodePlan parses and checks a plan. It never panics.
func decodePlan(s string) (*plan, error) {
	if len(s) > maxPlan {
		return nil, fmt.Errorf("plan: %d bytes, more than %d", len(s), maxPlan)
	}
	var p plan
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("plan: trailing data")
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &p, nil
}

func (p *plan) check() error {
	switch {
	case p.Granted < 0 || p.Granted > 1000:
		return fmt.Errorf("granted descriptors %d out of range", p.Granted)
	case p.Cgroups < 0 || p.Cgroups > 8:
		return fmt.Errorf("cgroup descriptors %d out of range", p.Cgroups)
	case p.UID < 0 || p.GID < 0:
		return errors.New("negative id")
	case p.Landlock < 0 || p.Landlock > 64:
		return fmt.Errorf("landlock ABI %d out of range", p.Landlock)
	case p.Probe:
		return nil
	case p.ProgramFD < firstGranted+p.Granted+p.Cgroups || p.ProgramFD > 4096:
		return fmt.Errorf("program descriptor %d out of range", p.ProgramFD)
	case !filepath.IsAbs(p.Path):
		return fmt.Errorf("program path %q is not absolute", p.Path)
	case len(p.Argv) == 0:
		return errors.New("empty argv")
	}
	for _, l := range [][]string{p.Exec, p.Libs, p.ReadFiles} {
		for _, f := range l {
			if !filepath.IsAbs(f) {
				return fmt.Errorf("path %q is not absolute", f)
			}
		}
	}
	return nil
}

// withoutEnv returns env without the entries named key.
func withoutEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
