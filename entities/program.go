package entities

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// ProgramPrefix starts argv[0] of a built-in program: the kernel runs the
// capsim binary itself as "capsim:NAME".
const ProgramPrefix = "capsim:"

// Program is a built-in entity program.
type Program struct {
	Name  string // "echo-server", run as capsim:echo-server
	Class string // the default class
	// AlsoFor lists further classes this program is the default program of
	// (capsim:vfs serves both kl.VfsNet and kl.VfsRamFs).
	AlsoFor []string
	Summary string // one line
	Usage   string // flags and what it prints, for `capsim programs`
	// Run is the program's main. It returns the exit code.
	Run func(ctx context.Context, rt *Runtime, args []string) int
}

// Registry holds the built-in programs.
type Registry struct {
	programs map[string]*Program
}

// NewRegistry returns a registry holding ps.
func NewRegistry(ps ...*Program) *Registry {
	r := &Registry{programs: make(map[string]*Program)}
	for _, p := range ps {
		r.Register(p)
	}
	return r
}

// Register adds p; a second program of the same name is a programming
// error.
func (r *Registry) Register(p *Program) {
	if _, dup := r.programs[p.Name]; dup {
		panic("entities: program registered twice: " + p.Name)
	}
	r.programs[p.Name] = p
}

// Lookup returns the program named name (with or without the capsim:
// prefix), or nil.
func (r *Registry) Lookup(name string) *Program {
	return r.programs[strings.TrimPrefix(name, ProgramPrefix)]
}

// ForClass returns the program whose default class is class, or nil.
func (r *Registry) ForClass(class string) *Program {
	for _, p := range r.All() {
		if p.Class == class || slices.Contains(p.AlsoFor, class) {
			return p
		}
	}
	return nil
}

// All returns the programs sorted by name.
func (r *Registry) All() []*Program {
	var ps []*Program
	for _, p := range r.programs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// MainIfEntity runs the built-in program named by argv[0] and exits, when
// this process was started by the kernel as one ("capsim:NAME"). Otherwise
// it returns at once. Call it first thing in main (and in TestMain of tests
// that start entities from the test binary).
func (r *Registry) MainIfEntity() {
	name, ok := strings.CutPrefix(os.Args[0], ProgramPrefix)
	if !ok {
		return
	}
	p := r.programs[name]
	if p == nil {
		fmt.Fprintf(os.Stderr, "capsim: no built-in program %q\n", name)
		os.Exit(127)
	}
	rt, err := Open()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		os.Exit(126)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := p.Run(ctx, rt, os.Args[1:])
	stop()
	os.Exit(code)
}
