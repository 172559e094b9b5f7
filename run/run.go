package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"capsim/certs"
	"capsim/diag"
	"capsim/entities"
	"capsim/idl"
	"capsim/kernel"
	"capsim/kernel/confine"
	"capsim/policy"
	"capsim/scenario"
	"capsim/verify"
)

// Options are the command line's choices for one run.
type Options struct {
	// Registry holds the built-in programs; Executable is the binary that
	// runs them as "capsim:NAME" (default: this process's executable).
	Registry   *entities.Registry
	Executable string

	Timeout   time.Duration // 0: the scenario's
	Isolate   kernel.IsolateMode
	TracePath string
	AuditPath string
	PcapPath  string
	Forwards  []string
	Verbose   bool // print every trace record, readable
	Explain   bool // explain every deny
	Serve     bool // keep running after the checks until ctx ends or the timeout

	// Output receives the entities' output and the verbose trace;
	// Stderr capsim's own notices. Defaults: os.Stdout, os.Stderr.
	Output io.Writer
	Stderr io.Writer
}

// Report is the outcome of a run that started.
type Report struct {
	Scenario *scenario.Scenario
	// Failures lists every failed expectation, saying what was expected
	// and what was seen. Empty when the run passed.
	Failures []string
	Duration time.Duration
	// Granted and Denied count the trace's decided records (execute,
	// request, response, error, security) until the main tasks ended, a
	// run's summary in two numbers.
	Granted, Denied int
	// Notes say what a user would want to know that no expectation
	// checked: entities that failed during the run.
	Notes []string
	// Interrupted is set when the run was stopped (Ctrl-C, SIGTERM, a
	// closed output pipe) before its main tasks ended.
	Interrupted bool
}

// OK reports whether every expectation held.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

// ErrSetup wraps errors that stop a run before anything starts (exit 2).
var ErrSetup = errors.New("scenario error")

// Run runs one scenario and checks its expectations. An error means the
// run could not start (a scenario, IDL or policy error); failed
// expectations are in the report.
func Run(ctx context.Context, sc *scenario.Scenario, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	start := time.Now()
	sys, err := prepare(ctx, sc, &opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	defer sys.close()
	k, err := kernel.New(sys.cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	timeout := sc.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := k.Start(runCtx); err != nil {
		k.Stop()
		return nil, err
	}
	for _, n := range sys.notices {
		fmt.Fprintf(opts.Stderr, "capsim: %s\n", n)
	}
	rep := &Report{Scenario: sc}
	running, werr := k.Wait(runCtx)
	// The summary counts what the system did, not its stopping: calls in
	// flight when the kernel ends the remaining entities are refused
	// ("peer gone") after this point.
	rep.Granted, rep.Denied = int(sys.granted.Load()), int(sys.denied.Load())
	if werr != nil && !opts.Serve {
		if ctx.Err() != nil {
			rep.Interrupted = true
			rep.Failures = append(rep.Failures, "interrupted; still running: "+joinNames(running))
		} else {
			rep.Failures = append(rep.Failures, fmt.Sprintf("timeout after %s; still running: %s", timeout, joinNames(running)))
		}
	}
	sys.flush()
	rep.Failures = append(rep.Failures, sys.expect.check(k)...)
	if opts.Serve && werr == nil {
		fmt.Fprintf(opts.Stderr, "capsim: expectations checked; serving until interrupted or %s\n", timeout)
		<-runCtx.Done()
	}
	k.Stop()
	rep.Notes = append(unexpectedFailures(sc, k), sys.uncheckedProperties(sc)...)
	if len(sc.MainTasks()) == 0 && !opts.Serve {
		rep.Notes = append(rep.Notes, noMainNote(sc))
	}
	sys.flush()
	for _, f := range sys.atEnd {
		f()
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// noMainNote says why a run without main entities ended as it began.
func noMainNote(sc *scenario.Scenario) string {
	if len(sc.Entities) == 0 {
		return "the scenario has no [[entity]]: nothing ran"
	}
	return "no entity is main (every one says main = false), so the run ended once all had started; " +
		"set main = true on the entities whose end ends the run, or use --serve to keep it running"
}

// uncheckedProperties notes the properties that fail while no expectation
// names them: a run checks only what its expectations ask, but a failing
// security goal should not pass unsaid.
func (sys *system) uncheckedProperties(sc *scenario.Scenario) []string {
	if sys.graph == nil {
		return nil
	}
	checked := map[string]bool{}
	for _, e := range sc.Expects {
		if e.Kind == scenario.ExpectProperty {
			checked[e.Property] = true
		}
	}
	var notes []string
	for _, r := range sys.graph.CheckAll() {
		if !r.Holds && !checked[r.Name] {
			notes = append(notes, fmt.Sprintf("property %q fails (no expectation checks it; capsim verify shows why)", r.Name))
		}
	}
	return notes
}

// unexpectedFailures notes the entities that ended with an error or a
// signal, or could not start, during the run while no expectation looks
// at how they ended: a run that passes with a crashed netstack should say
// so.
func unexpectedFailures(sc *scenario.Scenario, k *kernel.Kernel) []string {
	checked := map[string]bool{}
	for _, e := range sc.Expects {
		if e.Kind == scenario.ExpectTask && e.Exit != nil {
			checked[e.Task] = true
		}
	}
	var notes []string
	for _, e := range sc.Entities {
		st, ended := k.Exit(e.Task)
		switch {
		case !ended || checked[e.Task] || st.Stopped:
		case !st.Started:
			notes = append(notes, fmt.Sprintf("%s did not start: %s (no expectation checks how it ended)", e.Task, st.Err))
		case st.Signal != "":
			notes = append(notes, fmt.Sprintf("%s was ended by signal %s (no expectation checks how it ended)", e.Task, st.Signal))
		case st.Code != 0:
			notes = append(notes, fmt.Sprintf("%s exited with code %d (no expectation checks how it ended)", e.Task, st.Code))
		}
	}
	return notes
}

func (o Options) withDefaults() Options {
	if o.Output == nil {
		o.Output = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Executable == "" {
		o.Executable, _ = os.Executable()
	}
	return o
}

func joinNames(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	s := names[0]
	for _, n := range names[1:] {
		s += ", " + n
	}
	return s
}

// system is a prepared run: the kernel's configuration and what must be
// flushed and closed when the run ends.
type system struct {
	cfg      kernel.Config
	expect   *expectations
	granted  atomic.Int64 // decided trace records, for the report
	denied   atomic.Int64
	flushes  []func() error
	closers  []func()
	certsDir string
	nics     map[string]nic    // netstack task -> its NIC
	writable map[*os.File]bool // granted folders the entity may write beneath
	graph    *verify.Graph     // the policy's permission graph (capsim verify's)
	atEnd    []func()          // reports made when the run ends
	notices  []string          // said once the run starts
}

// countDecision counts a decided trace record for the report.
func (s *system) countDecision(r *kernel.Record) {
	switch r.Decision {
	case "grant":
		s.granted.Add(1)
	case "deny":
		s.denied.Add(1)
	}
}

func (s *system) flush() {
	for _, f := range s.flushes {
		_ = f()
	}
}

func (s *system) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// loadClasses resolves every entity's class on the scenario's IDL search
// path: the folder, idl_path, then the built-in IDL.
func loadClasses(sc *scenario.Scenario) ([]idl.Root, *idl.Loader, diag.List) {
	roots := verify.Roots(sc)
	loader := idl.NewLoader(roots, idl.Options{})
	return roots, loader, verify.ClassErrors(sc, loader)
}

// WithSetupErrors adds to a scenario's load errors (a diag.List) what
// prepare would report next — classes, the names expectations use,
// built-in programs, --forward flags — so that a user fixes them in one
// pass, not one kind at a time. Other errors are returned as they are.
func WithSetupErrors(sc *scenario.Scenario, err error, opts Options) error {
	var l diag.List
	if sc == nil || !errors.As(err, &l) {
		return err
	}
	_, loader, errs := loadClasses(sc)
	return setupErrors(sc, &opts, loader, append(append(diag.List(nil), l...), errs...)).Err()
}

// setupErrors adds to errs what prepare checks before it sets anything up
// — the names expectations use, built-in programs — sorted by position,
// then the --forward flags, which have none.
func setupErrors(sc *scenario.Scenario, opts *Options, loader *idl.Loader, errs diag.List) diag.List {
	errs = append(errs, checkExpectNames(sc, loader.Class)...)
	if opts.Registry != nil {
		errs = append(errs, checkBuiltins(sc, opts.Registry, loader.Class)...)
	}
	errs.Sort()
	return append(errs, checkForwardFlags(sc, opts.Forwards)...)
}

// prepare checks everything a scenario names — classes, programs, policy,
// files — and builds the kernel's configuration. Nothing starts.
func prepare(ctx context.Context, sc *scenario.Scenario, opts *Options) (*system, error) {
	sys := &system{writable: map[*os.File]bool{}}
	ok := false
	defer func() {
		if !ok {
			sys.close()
		}
	}()
	roots, loader, errs := loadClasses(sc)
	if err := setupErrors(sc, opts, loader, errs).Err(); err != nil {
		return nil, err
	}
	sys.cfg = kernel.Config{Classes: loader.Class, Isolate: opts.Isolate, Output: opts.Output}
	cf := confine.New(confine.Options{Self: opts.Executable})
	sys.cfg.Confiner, sys.closers = cf, append(sys.closers, func() { cf.Close() })
	if sc.Policy != "" {
		p, err := policy.Compile(sc.Path(sc.Policy), policy.Options{Roots: roots, Loader: loader, SkipTests: true, Explain: opts.Explain})
		if err != nil {
			return nil, err
		}
		sys.cfg.Policy = p
		sys.cfg.Audited = p.Audited
		if opts.Explain {
			sys.cfg.Explain = p.Explain
		}
	} else {
		// Said once the run starts (a setup error after it would read as
		// if the allow-list were to blame).
		sys.notices = append(sys.notices, "no policy: running under the allow-list derived from the scenario's connections")
	}
	if err := sys.traceSinks(sc, opts); err != nil {
		return nil, err
	}
	if err := sys.checkAgainstProof(sc, opts); err != nil {
		return nil, err
	}
	if err := sys.buildNetwork(ctx, sc, opts); err != nil {
		return nil, err
	}
	if err := sys.makeCerts(sc); err != nil {
		return nil, err
	}
	ps := &programs{registry: opts.Registry, self: opts.Executable}
	if err := sys.entitySpecs(ctx, sc, ps); err != nil {
		return nil, err
	}
	ok = true
	return sys, nil
}

// traceSinks wires the trace and audit files, the verbose printer and the
// expectation counters.
func (sys *system) traceSinks(sc *scenario.Scenario, opts *Options) error {
	sys.expect = newExpectations(sc)
	sinks := []kernel.Sink{kernel.SinkFunc(sys.expect.record), kernel.SinkFunc(sys.countDecision)}
	if opts.TracePath != "" {
		f, err := os.Create(opts.TracePath)
		if err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
		js := kernel.NewJSONSink(f)
		sinks = append(sinks, js)
		sys.flushes = append(sys.flushes, js.Flush)
		sys.closers = append(sys.closers, func() { js.Flush(); f.Close() })
	}
	if opts.Verbose {
		sinks = append(sinks, verbosePrinter(opts.Output))
	}
	sys.cfg.Tracer = kernel.NewTracer(sinks...)
	audits := []kernel.Sink{kernel.SinkFunc(sys.expect.audit)}
	if opts.AuditPath != "" {
		f, err := os.Create(opts.AuditPath)
		if err != nil {
			return fmt.Errorf("--audit: %w", err)
		}
		js := kernel.NewJSONSink(f)
		audits = append(audits, js)
		sys.flushes = append(sys.flushes, js.Flush)
		sys.closers = append(sys.closers, func() { js.Flush(); f.Close() })
	}
	// Audit records keep the sequence number of the trace record they
	// repeat, so the two logs join.
	var mu sync.Mutex
	sys.cfg.Audit = kernel.SinkFunc(func(r *kernel.Record) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range audits {
			s.Record(r)
		}
	})
	return nil
}

// entitySpecs turns the scenario's entities into the kernel's specs.
func (sys *system) entitySpecs(ctx context.Context, sc *scenario.Scenario, ps *programs) error {
	main := make(map[string]bool)
	for _, t := range sc.MainTasks() {
		main[t] = true
	}
	var errs diag.List
	for i := range sc.Entities {
		e := &sc.Entities[i]
		prog, err := ps.resolve(ctx, sc, e)
		if err != nil {
			errs = append(errs, &diag.Error{Msg: err.Error()})
			continue
		}
		files, args, env, err := sys.entityFiles(sc, e)
		if err != nil {
			errs.Addf(e.Pos, "entity %q: %v", e.Task, err)
			continue
		}
		if files, args, err = sys.mountArgs(sc, e, files, args); err != nil {
			errs.Addf(e.KeyPos("mounts"), "entity %q: %v", e.Task, err)
			continue
		}
		if nic, ok := sys.nics[e.Task]; ok {
			files = append(files, nic.file)
			args = append(append([]string{"--nic", fmt.Sprintf("fd:%d", 3+len(files))}, nic.args...), args...)
		}
		writable := make([]bool, len(files))
		for i, f := range files {
			writable[i] = sys.writable[f]
		}
		spec := kernel.EntitySpec{Task: e.Task, Class: e.Class, Path: prog.path, Argv0: prog.argv0, Args: args, Env: env,
			Files: files, Writable: writable, Main: main[e.Task], Restart: e.Restart == scenario.RestartOnFailure, RestartLimit: e.RestartLimit,
			Limits: kernel.Limits{Inflight: e.Limits.Inflight, Queued: int(e.Limits.Queued), Message: int(e.Limits.Message),
				Handles: e.Limits.Handles, Memory: int64(e.Limits.Memory), CPU: float64(e.Limits.CPU)}}
		for _, c := range e.Connections {
			spec.Connections = append(spec.Connections, kernel.Connection{Target: c.Target, ID: c.ID})
		}
		sys.cfg.Entities = append(sys.cfg.Entities, spec)
	}
	return errs.Err()
}

// entityFiles opens the files an entity's args and env name ($CERTS/NAME,
// file:PATH) and replaces each by fd:N, N counting from 4.
func (sys *system) entityFiles(sc *scenario.Scenario, e *scenario.Entity) ([]*os.File, []string, []string, error) {
	var files []*os.File
	byKey := make(map[string]int)
	var openErr error
	args, env := e.ExpandRefs(func(r scenario.FileRef) int {
		if fd, ok := byKey[r.Key()]; ok {
			return fd
		}
		path, err := sys.refPath(sc, r)
		if err == nil {
			var f *os.File
			if f, err = os.Open(path); err == nil {
				files = append(files, f)
				sys.closers = append(sys.closers, func() { f.Close() })
				byKey[r.Key()] = 3 + len(files)
				return 3 + len(files)
			}
		}
		if openErr == nil {
			openErr = fmt.Errorf("%s: %w", r.Where(), err)
		}
		return -1
	})
	return files, args, env, openErr
}

// refPath is the host path of a file placeholder.
func (sys *system) refPath(sc *scenario.Scenario, r scenario.FileRef) (string, error) {
	if r.Kind == scenario.RefFile {
		return sc.Path(r.Name), nil
	}
	if sys.certsDir == "" {
		return "", fmt.Errorf("$CERTS/%s: the scenario generates no certificates", r.Name)
	}
	return filepath.Join(sys.certsDir, r.Name), nil
}

// mountArgs turns a VFS entity's mounts into --mount flags, opening each
// source folder for the entity: it gets the folder as a descriptor, never
// a path to open.
func (sys *system) mountArgs(sc *scenario.Scenario, e *scenario.Entity, files []*os.File, args []string) ([]*os.File, []string, error) {
	var flags []string
	for _, m := range e.Mounts {
		v := m.Path + "=" + m.FS
		if m.Size > 0 {
			v += fmt.Sprintf(",size=%d", int64(m.Size))
		}
		if m.Mode != "" {
			v += ",mode=" + m.Mode
		}
		if m.Source != "" {
			src := m.Source
			if !filepath.IsAbs(src) {
				src = sc.Path(src)
			}
			f, err := os.OpenFile(src, os.O_RDONLY|syscall.O_DIRECTORY, 0)
			if err != nil {
				return nil, nil, fmt.Errorf("mount %s: source: %w", m.Path, err)
			}
			files = append(files, f)
			sys.closers = append(sys.closers, func() { f.Close() })
			if m.FS == scenario.FSHostdir && m.Mode == "rw" {
				sys.writable[f] = true // Landlock lets the entity write beneath it
			}
			v += fmt.Sprintf(",source=fd:%d", 3+len(files))
		}
		flags = append(flags, "--mount", v)
	}
	return files, append(flags, args...), nil
}

// makeCerts generates the scenario's CA and key pairs in a temporary folder
// that lives as long as the run; $CERTS/NAME names its files.
func (sys *system) makeCerts(sc *scenario.Scenario) error {
	if len(sc.Certs) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "capsim-certs-")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	sys.closers = append(sys.closers, func() { os.RemoveAll(dir) })
	hosts := make(map[string][]netip.Addr)
	for _, h := range sc.Hosts {
		for _, a := range h.Addresses {
			hosts[h.Name] = append(hosts[h.Name], a.Addr())
		}
	}
	var specs []certs.Spec
	for _, c := range sc.Certs {
		spec := certs.Spec{Name: c.Name, Hosts: c.Hosts, Issuer: c.Issuer, Revoked: c.Revoked, Usage: c.Usage}
		if c.Has("not_after") {
			spec.NotAfter = c.NotAfter.String()
		}
		if c.Has("not_before") {
			spec.NotBefore = c.NotBefore.String()
		}
		specs = append(specs, spec)
	}
	if _, err := certs.Generate(dir, specs, hosts, time.Now()); err != nil {
		return fmt.Errorf("%s: certs: %w", sc.KeyPos("certs"), err)
	}
	sys.certsDir = dir
	return nil
}

// checkAgainstProof checks every granted event of the run against the
// permission graph that capsim verify computes from the same policy: a
// granted event on an edge the graph calls never is a capsim bug, and the
// run fails loudly.
func (sys *system) checkAgainstProof(sc *scenario.Scenario, opts *Options) error {
	g, err := verify.Prepare(sc)
	if err != nil {
		return err
	}
	sys.graph = g
	check := kernel.SinkFunc(func(r *kernel.Record) {
		if r.Decision != "grant" {
			return
		}
		switch r.Kind {
		case "execute", "request", "response", "error":
		default:
			return
		}
		if err := g.Check(verify.EventRef{Kind: r.Kind, Src: r.Src, Dst: r.Dst, Endpoint: r.Endpoint, Method: r.Method}); err != nil {
			msg := fmt.Sprintf("capsim bug: trace record %d was granted, but capsim verify proves it never is: %v", r.Seq, err)
			fmt.Fprintln(opts.Stderr, "capsim: "+msg)
			sys.expect.fail(msg)
		}
	})
	sys.cfg.Tracer.AddSink(check)
	return nil
}
