package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"capsim/idl"
	"capsim/policy"
)

// CoreClass is the kernel's own entity class; kernel services are its
// endpoints.
const CoreClass = "kl.core.Core"

// CoreTask is the task name the kernel appears under in traces.
const CoreTask = "kernel"

// coreSID is the kernel's SID.
const coreSID policy.SID = 1

// Kernel runs one system of entities.
type Kernel struct {
	cfg    Config
	log    *slog.Logger
	tracer *Tracer
	policy Decider
	core   *idl.Class // nil without IDL

	tasks map[string]*task
	order []*task
	// nameWidth is the width of the task-name column of entity output:
	// the longest name, at least 11, so every line's text starts aligned.
	nameWidth int

	buffers frameBuffers

	// hmu guards every handle table; revocation crosses tables.
	hmu sync.RWMutex

	sids atomic.Uint64
	txns atomic.Uint64

	noticeMu sync.Mutex
	noticed  map[string]bool
	stopping atomic.Bool
	wg       sync.WaitGroup
}

// task is one scenario entity: a slot that outlives the processes that run
// it (a restarted entity is a new process of the same task).
type task struct {
	spec   EntitySpec
	class  *idl.Class // nil without IDL
	limits Limits
	conns  map[string]*channel // this task's connections, by id

	mu       sync.Mutex
	proc     *process // the running process, nil when none
	starts   int
	exit     *ExitStatus
	finished chan struct{} // closed when the task will run no more
	output   outputBuffer
}

// ExitStatus is how a task's last process ended.
type ExitStatus struct {
	Code    int    // exit code; -1 when killed by a signal or never started
	Signal  string // the signal's name, when killed by one
	Started bool   // false when the execute was denied or the start failed
	Err     string // why it did not start
	Stopped bool   // killed by the kernel's Stop, at the end of the run
}

// New checks cfg and builds a kernel. Nothing starts until Start.
func New(cfg Config) (*Kernel, error) {
	closeInheritedOnExec()
	k := &Kernel{cfg: cfg, log: cfg.Log, tracer: cfg.Tracer, tasks: make(map[string]*task)}
	if k.log == nil {
		k.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	k.sids.Store(uint64(coreSID))
	if cfg.Classes != nil {
		c, err := cfg.Classes(CoreClass)
		if err != nil {
			return nil, fmt.Errorf("kernel class: %w", err)
		}
		k.core = c
	}
	for _, spec := range cfg.Entities {
		if spec.Task == "" || spec.Task == CoreTask {
			return nil, fmt.Errorf("entity %q: invalid task name", spec.Task)
		}
		if _, dup := k.tasks[spec.Task]; dup {
			return nil, fmt.Errorf("entity %q: task defined twice", spec.Task)
		}
		t := &task{spec: spec, limits: spec.Limits.withDefaults(), conns: make(map[string]*channel), finished: make(chan struct{})}
		if cfg.Classes != nil {
			c, err := cfg.Classes(spec.Class)
			if err != nil {
				return nil, fmt.Errorf("entity %q: class %s: %w", spec.Task, spec.Class, err)
			}
			t.class = c
		}
		k.tasks[spec.Task] = t
		k.order = append(k.order, t)
		k.nameWidth = max(k.nameWidth, 11, len(spec.Task))
	}
	for _, t := range k.order {
		for _, c := range t.spec.Connections {
			srv, ok := k.tasks[c.Target]
			if !ok {
				return nil, fmt.Errorf("entity %q: connection %q: no task %q", t.spec.Task, c.ID, c.Target)
			}
			if _, dup := t.conns[c.ID]; dup {
				return nil, fmt.Errorf("entity %q: connection id %q given twice", t.spec.Task, c.ID)
			}
			t.conns[c.ID] = &channel{id: c.ID, client: t, server: srv, csid: k.newSID()}
		}
	}
	k.policy = cfg.Policy
	if k.policy == nil {
		k.policy = &allowList{k: k}
	}
	return k, nil
}

func (k *Kernel) newSID() policy.SID { return policy.SID(k.sids.Add(1)) }

// Start starts every entity, in scenario order. An entity whose execute is
// denied or whose start fails is recorded as not started; Start fails only
// when the kernel itself cannot go on.
func (k *Kernel) Start(ctx context.Context) error {
	for _, t := range k.order {
		k.startTask(t)
	}
	return nil
}

// startTask decides and starts one process of t, recording a failure as t's
// exit.
func (k *Kernel) startTask(t *task) {
	t.mu.Lock()
	t.starts++
	t.mu.Unlock()
	sid := k.newSID()
	ev := &policy.Event{Kind: policy.Execute,
		Src: policy.Subject{Class: CoreClass, SID: coreSID},
		Dst: policy.Subject{Class: t.spec.Class, SID: sid}}
	d := k.decide(ev, decideCtx{dst: t})
	rec := &Record{Kind: "execute", Src: CoreTask, Dst: t.spec.Task, SrcClass: CoreClass,
		DstClass: t.spec.Class, SrcSID: uint64(coreSID), DstSID: uint64(sid), Method: "main"}
	if !d.Grant {
		k.emitDecision(rec, ev, d)
		k.finish(t, &ExitStatus{Code: -1, Err: "execute denied: " + d.Reason})
		return
	}
	p, err := k.spawn(t, sid)
	if err != nil {
		rec.Decision, rec.Reason = "grant", ""
		k.emit(rec)
		k.log.Error("start failed", "task", t.spec.Task, "err", err)
		k.printf(t, "capsim: start failed: %v", err)
		k.finish(t, &ExitStatus{Code: -1, Err: err.Error()})
		return
	}
	rec.PID = p.pid
	k.emitDecision(rec, ev, d)
}

// finish records t's final status and marks it finished.
func (k *Kernel) finish(t *task, st *ExitStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exit = st
	select {
	case <-t.finished:
	default:
		close(t.finished)
	}
}

// Wait waits until every main task has finished, or ctx ends. It returns
// the tasks still running when ctx ended.
func (k *Kernel) Wait(ctx context.Context) (running []string, err error) {
	for _, t := range k.order {
		if !t.spec.Main {
			continue
		}
		select {
		case <-t.finished:
		case <-ctx.Done():
			for _, t := range k.order {
				if t.spec.Main && !t.isFinished() {
					running = append(running, t.spec.Task)
				}
			}
			return running, ctx.Err()
		}
	}
	return nil, nil
}

func (t *task) isFinished() bool {
	select {
	case <-t.finished:
		return true
	default:
		return false
	}
}

// Stop kills every entity that still runs and waits for the kernel's
// goroutines to end.
func (k *Kernel) Stop() {
	k.stopping.Store(true)
	for _, t := range k.order {
		t.mu.Lock()
		p := t.proc
		t.mu.Unlock()
		if p != nil {
			p.kill()
		}
	}
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
		k.buffers.release()
	case <-time.After(10 * time.Second):
		k.log.Warn("kernel goroutines did not end within 10s of stop")
	}
}

// Exit returns how task's last process ended; ok is false while it runs
// (or may still be restarted) or for an unknown task.
func (k *Kernel) Exit(taskName string) (st ExitStatus, ok bool) {
	t := k.tasks[taskName]
	if t == nil || !t.isFinished() {
		return ExitStatus{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return *t.exit, true
}

// Output returns what task wrote to its standard output and error (the
// last few MiB of it).
func (k *Kernel) Output(taskName string) string {
	t := k.tasks[taskName]
	if t == nil {
		return ""
	}
	return t.output.String()
}

// PID returns the host pid of task's running process, or 0.
func (k *Kernel) PID(taskName string) int {
	t := k.tasks[taskName]
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.proc == nil {
		return 0
	}
	return t.proc.pid
}

// Kill kills task's running process, as a crash would (for tests and fault
// injection).
func (k *Kernel) Kill(taskName string) error {
	t := k.tasks[taskName]
	if t == nil {
		return fmt.Errorf("no task %q", taskName)
	}
	t.mu.Lock()
	p := t.proc
	t.mu.Unlock()
	if p == nil {
		return errors.New("not running")
	}
	p.kill()
	return nil
}

func (k *Kernel) emit(r *Record) { k.tracer.Emit(r) }
