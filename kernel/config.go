package kernel

import (
	"io"
	"log/slog"
	"os"
	"os/exec"

	"capsim/idl"
	"capsim/policy"
)

// IsolateMode says how far the kernel confines entities.
type IsolateMode int

const (
	// IsolateAuto applies what the machine allows and says once what it
	// could not.
	IsolateAuto IsolateMode = iota
	// IsolateOn fails a start that cannot be confined.
	IsolateOn
	// IsolateOff confines nothing (for debugging).
	IsolateOff
)

func (m IsolateMode) String() string {
	switch m {
	case IsolateOn:
		return "on"
	case IsolateOff:
		return "off"
	}
	return "auto"
}

// Connection gives a client a channel to a server task under a name.
type Connection struct {
	Target string // the server task
	ID     string // the client's name for the channel
}

// Limits bound what one entity may cost the kernel and its neighbours.
type Limits struct {
	Inflight int // calls in flight at once
	Queued   int // bytes waiting in the kernel for the entity to read
	Message  int // largest payload the entity may send
	Handles  int // handles the entity may hold at once
	// Memory (bytes) and CPU (fraction of one CPU) are enforced by the
	// Confiner through cgroups where the machine has them; 0 is no limit.
	Memory int64
	CPU    float64
}

// DefaultLimits are the limits of an entity whose scenario sets none.
var DefaultLimits = Limits{Inflight: 64, Queued: 4 << 20, Message: 4 << 20, Handles: 4096}

func (l Limits) withDefaults() Limits {
	if l.Inflight <= 0 {
		l.Inflight = DefaultLimits.Inflight
	}
	if l.Queued <= 0 {
		l.Queued = DefaultLimits.Queued
	}
	if l.Message <= 0 {
		l.Message = DefaultLimits.Message
	}
	if l.Handles <= 0 {
		l.Handles = DefaultLimits.Handles
	}
	return l
}

// EntitySpec says how to start one entity.
type EntitySpec struct {
	Task  string
	Class string
	// Path is the executable; Argv0 its argv[0] (built-in programs are the
	// capsim binary itself with argv[0] "capsim:NAME").
	Path  string
	Argv0 string
	Args  []string
	// Env is the entity's whole environment (KEY=VALUE); the kernel adds
	// CAPSIM_TASK, CAPSIM_CLASS and CAPSIM_ENDPOINTS.
	Env []string
	// Files are inherited as descriptors 4, 5, ... in order. The kernel
	// does not close them. A regular file may be written through only if
	// it was opened for writing; a directory only if Writable says so
	// (the same index; missing entries are false), since a directory is
	// always open read-only.
	Files        []*os.File
	Writable     []bool
	Connections  []Connection
	Main         bool
	Restart      bool // restart on failure
	RestartLimit int
	Limits       Limits
}

// Decider is the security module: the compiled policy, or the allow-list
// the kernel derives from the connections when there is no policy.
type Decider interface {
	Decide(ev *policy.Event) policy.Decision
}

// Config is everything the kernel needs to run a system.
type Config struct {
	Entities []EntitySpec
	// Policy decides every event; nil selects the allow-list derived from
	// the connections (SCENARIO.md, "No policy").
	Policy Decider
	// Classes resolves an entity class to its EDL; nil runs without IDL
	// (messages then carry opaque payloads and are not validated).
	Classes func(name string) (*idl.Class, error)
	// Tracer receives every record; nil traces nothing.
	Tracer *Tracer
	// Output receives the entities' output, each line prefixed with the
	// task name; nil discards it.
	Output io.Writer
	// Audit, when set, receives the records the policy audits.
	Audit Sink
	// Audited says whether a decision is audited; nil audits every deny.
	Audited func(ev *policy.Event, d policy.Decision) bool
	// Explain, when set, explains a deny; the text is printed to Output.
	Explain func(ev *policy.Event, d policy.Decision) string
	Isolate IsolateMode
	// Confiner, when set, confines every entity (package kernel/confine);
	// without one the kernel only gives each entity its own network
	// namespace where the machine allows.
	Confiner Confiner
	Log      *slog.Logger
}

// Confiner confines an entity before its own code runs: it rewrites the
// command so that a trampoline starts first, confines itself, and then
// executes the program. Notices are said once by the kernel.
type Confiner interface {
	// Confine rewrites cmd, the entity's command as the kernel built it
	// (descriptors 0-3 and the granted files in ExtraFiles), for mode.
	Confine(cmd *exec.Cmd, spec *EntitySpec, mode IsolateMode) (notices []string, err error)
}
