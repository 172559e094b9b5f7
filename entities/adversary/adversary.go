package adversary

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"capsim/entities"
)

// Outcomes of an attack.
const (
	Denied    = "denied"    // the kernel or the confinement refused it
	Error     = "error"     // it failed some other way
	Succeeded = "succeeded" // it worked: a hole
	Skipped   = "skipped"   // not tried: its target was not given
)

// Result is one attempt, printed as one JSON line.
type Result struct {
	Attack  string `json:"attack"`
	Outcome string `json:"outcome"`
	Errno   string `json:"errno,omitempty"`
	Error   string `json:"error,omitempty"`
}

// attack is one named attempt.
type attack struct {
	name string
	run  func(ctx context.Context) Result
}

// Program is capsim:adversary.
func Program() *entities.Program {
	return &entities.Program{
		Name:    "adversary",
		Class:   "capsim.Adversary",
		Summary: "attacks the kernel's IPC and its own confinement; prints one JSON line per attempt",
		Usage: `--attack NAME     run the attacks whose name starts with NAME (repeatable; default all;
                  "ipc" or "escape" select a family)
--target ID       the channel to attack (default echo)
--dead ID         a channel whose server exits, for the dead-peer attack (default dead)
--kernel-pid N    the kernel's host pid, for the signal/memory/environ attempts
--sibling-pid N   another entity's host pid, likewise and for ptrace
--host-file PATH  a host file to read (repeatable; default /etc/passwd)
--host-dir DIR    a host directory to create a file in (default /tmp)
--tcp ADDR        a listener on the machine's loopback (repeatable; default 127.0.0.1:9, [::1]:9)
prints {"attack","outcome":"denied|error|succeeded|skipped","errno","error"} per attempt
(skipped: its target, such as --kernel-pid, was not given);
exits 0 when no attack succeeded, 1 otherwise, 2 on bad flags`,
		Run: run,
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// config is the parsed command line.
type config struct {
	attacks []string
	target  string
	dead    string
	targets Targets
}

func parseArgs(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("capsim:adversary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var files, tcp multi
	fs.Var((*multi)(&c.attacks), "attack", "attack name prefix (repeatable)")
	fs.StringVar(&c.target, "target", "echo", "channel id to attack")
	fs.StringVar(&c.dead, "dead", "dead", "channel id of a server that exits")
	fs.IntVar(&c.targets.KernelPID, "kernel-pid", 0, "the kernel's host pid")
	fs.IntVar(&c.targets.SiblingPID, "sibling-pid", 0, "a sibling entity's host pid")
	fs.Var(&files, "host-file", "host file to read (repeatable)")
	fs.StringVar(&c.targets.HostDir, "host-dir", "/tmp", "host directory to create a file in")
	fs.Var(&tcp, "tcp", "loopback listener address (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.targets.HostFiles = files
	if len(files) == 0 {
		c.targets.HostFiles = []string{"/etc/passwd"}
	}
	c.targets.TCP = tcp
	if len(tcp) == 0 {
		c.targets.TCP = []string{"127.0.0.1:9", "[::1]:9"}
	}
	return c, nil
}

func run(ctx context.Context, rt *entities.Runtime, args []string) int {
	c, err := parseArgs(args, rt.Stderr())
	if err != nil {
		return 2
	}
	all := append(ipcAttacks(rt, c.target, c.dead), escapes(&c.targets)...)
	enc := json.NewEncoder(rt.Stdout())
	ran, holes, skipped := 0, 0, 0
	for _, a := range all {
		if !selected(a.name, c.attacks) {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		r := a.run(actx)
		cancel()
		r.Attack = a.name
		if r.Outcome == "" {
			r.Outcome = Error
		}
		_ = enc.Encode(&r)
		ran++
		switch r.Outcome {
		case Succeeded:
			holes++
		case Skipped:
			skipped++
		}
	}
	if ran == 0 {
		fmt.Fprintf(rt.Stderr(), "capsim:adversary: no attack matches %s\n", strconv.Quote(strings.Join(c.attacks, ",")))
		return 2
	}
	fmt.Fprintf(rt.Stdout(), "attacks: %d, succeeded: %d, skipped: %d\n", ran-skipped, holes, skipped)
	if holes > 0 {
		return 1
	}
	return 0
}

// selected reports whether the attack named name is chosen by prefixes.
func selected(name string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
