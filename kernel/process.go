package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"capsim/ipc"
	"capsim/policy"
)

// process is one running instance of a task.
type process struct {
	k    *Kernel
	task *task
	sid  policy.SID
	pid  int
	cmd  *exec.Cmd
	conn *conn
	// handles is guarded by k.hmu.
	handles *handleTable

	mu       sync.Mutex
	dead     bool
	pending  map[uint64]*call // calls delivered to this process, by kernel txn
	outgoing map[uint64]*call // calls this process made, by its own txn
	badges   map[*channel]map[*task]uint32
	nbadge   uint32

	outputDone chan struct{} // closed when the output pipe is drained

	cancelled   map[uint64]struct{} // calls the kernel cancelled, for late replies
	cancelOrder []uint64
}

// spawn starts a process of t under sid and the goroutines that serve it.
func (k *Kernel) spawn(t *task, sid policy.SID) (*process, error) {
	kend, eend, err := newSocketPair(t.limits.Message)
	if err != nil {
		return nil, err
	}
	defer eend.Close()
	c, err := newConn(kend, t.limits.Queued)
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		c.close()
		return nil, fmt.Errorf("pipe: %w", err)
	}
	cmd := k.command(t, eend, outW)
	if err := k.startIsolated(cmd, t); err != nil {
		c.close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	outW.Close()
	p := &process{k: k, task: t, sid: sid, pid: cmd.Process.Pid, cmd: cmd, conn: c, outputDone: make(chan struct{}),
		handles: newHandleTable(), pending: make(map[uint64]*call), outgoing: make(map[uint64]*call),
		badges: make(map[*channel]map[*task]uint32)}
	t.mu.Lock()
	t.proc = p
	t.mu.Unlock()
	k.wg.Add(3)
	go k.copyOutput(t, outR, p.outputDone)
	go k.readLoop(p)
	go k.waitExit(p)
	return p, nil
}

// command builds the exec.Cmd of one process: descriptor 0 /dev/null, 1 and
// 2 the output pipe, 3 the kernel socket, then the granted files.
func (k *Kernel) command(t *task, sock, out *os.File) *exec.Cmd {
	s := t.spec
	cmd := &exec.Cmd{
		Path:       s.Path,
		Args:       append([]string{s.Argv0}, s.Args...),
		Env:        k.entityEnv(t),
		Stdout:     out,
		Stderr:     out,
		ExtraFiles: append([]*os.File{sock}, s.Files...),
	}
	if cmd.Args[0] == "" {
		cmd.Args[0] = s.Path
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return cmd
}

// entityEnv is the scenario's env plus what the runtime needs to know.
func (k *Kernel) entityEnv(t *task) []string {
	env := append([]string(nil), t.spec.Env...)
	env = append(env, "CAPSIM_TASK="+t.spec.Task, "CAPSIM_CLASS="+t.spec.Class)
	if !hasEnv(env, "GOMAXPROCS") {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(goMaxProcs(t.spec.Limits.CPU, len(k.tasks), runtime.NumCPU())))
	}
	if t.class != nil {
		var eps []string
		for _, ep := range t.class.Endpoints {
			eps = append(eps, fmt.Sprintf("%s=%d:%s", ep.Name, ep.ID, ep.Interface.Name))
		}
		env = append(env, "CAPSIM_ENDPOINTS="+strings.Join(eps, ","))
	}
	return env
}

// goMaxProcs is the GOMAXPROCS an entity's Go runtime gets unless its
// environment names one: its cpu limit rounded up, or else a fair share of
// the machine's CPUs among the system's tasks, at least 1. Left to itself
// every Go process sizes its scheduler to the whole machine, and a system
// of many entity processes on few CPUs then spends much of its time
// waking idle scheduler threads in each process that find nothing to do
// (docs/BENCHMARKS.md, "GOMAXPROCS per entity").
func goMaxProcs(cpuLimit float64, tasks, cpus int) int {
	n := cpus / max(tasks, 1)
	if cpuLimit > 0 {
		n = min(int(math.Ceil(cpuLimit)), cpus)
	}
	return max(n, 1)
}

// hasEnv reports whether env sets key.
func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// startIsolated starts cmd in its own network namespace where the mode and
// the machine allow, saying once when it cannot.
func (k *Kernel) startIsolated(cmd *exec.Cmd, t *task) error {
	if c := k.cfg.Confiner; c != nil {
		notices, err := c.Confine(cmd, &t.spec, k.cfg.Isolate)
		for _, n := range notices {
			k.notice(n)
		}
		if err != nil {
			return fmt.Errorf("confine %s: %w", t.spec.Task, err)
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", cmd.Path, err)
		}
		return nil
	}
	if k.cfg.Isolate == IsolateOff {
		return cmd.Start()
	}
	cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	err := cmd.Start()
	if err == nil || k.cfg.Isolate == IsolateOn || !errors.Is(err, syscall.EPERM) {
		if err != nil {
			return fmt.Errorf("start %s: %w", cmd.Path, err)
		}
		return nil
	}
	k.notice(fmt.Sprintf("isolation off: cannot make a network namespace (%v); entities share the host's network", err))
	cmd.SysProcAttr.Cloneflags = 0
	cmd.Process = nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return nil
}

// notice says something about the run once, however often it is said.
func (k *Kernel) notice(msg string) {
	k.noticeMu.Lock()
	defer k.noticeMu.Unlock()
	if k.noticed == nil {
		k.noticed = make(map[string]bool)
	}
	if k.noticed[msg] {
		return
	}
	k.noticed[msg] = true
	fmt.Fprintf(k.output(), "capsim: %s\n", msg)
}

func (k *Kernel) output() io.Writer {
	if k.cfg.Output == nil {
		return io.Discard
	}
	return k.cfg.Output
}

// copyOutput prints a process's output line by line, prefixed with its
// task name, and keeps it for the output expectations.
func (k *Kernel) copyOutput(t *task, r io.ReadCloser, done chan<- struct{}) {
	defer k.wg.Done()
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 2*maxOutputLine)
	sc.Split(scanOutputLines)
	for sc.Scan() {
		k.printf(t, "%s", sc.Text())
	}
	// Only a read error ends the loop before EOF: drain the rest, so the
	// process never blocks on (or dies writing to) an unread pipe.
	_, _ = io.Copy(io.Discard, r)
}

// maxOutputLine is the longest line of a process's output printed whole;
// a longer one is printed in pieces of this size.
const maxOutputLine = 1 << 20

// scanOutputLines is bufio.ScanLines that cuts a line longer than
// maxOutputLine (not between a CR and its LF) instead of failing, which
// ended the copy and left the process writing to an unread pipe.
func scanOutputLines(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanLines(data, atEOF)
	if adv == 0 && tok == nil && err == nil && len(data) >= maxOutputLine {
		n := maxOutputLine
		if data[n-1] == '\r' {
			n--
		}
		return n, data[:n], nil
	}
	return adv, tok, err
}

func (k *Kernel) printf(t *task, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.output.Write(line)
	fmt.Fprintf(k.output(), "%-*s | %s\n", k.nameWidth, t.spec.Task, line)
}

// outputBuffer keeps the last outputCap bytes a task printed. It holds up
// to twice that and trims then, so that a task printing on and on costs a
// copy per outputCap bytes, not per line.
type outputBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const outputCap = 4 << 20

func (b *outputBuffer) Write(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, line...)
	b.buf = append(b.buf, '\n')
	if len(b.buf) > 2*outputCap {
		b.buf = append(b.buf[:0:0], b.buf[len(b.buf)-outputCap:]...)
	}
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf[max(0, len(b.buf)-outputCap):])
}

// readLoop handles the frames a process sends until its socket closes.
func (k *Kernel) readLoop(p *process) {
	defer k.wg.Done()
	buf := k.buffers.get(ipc.HeaderSize + ipc.MaxHandles*ipc.SlotSize + p.task.limits.Message + 1)
	defer k.buffers.put(buf)
	defer p.conn.done()
	for {
		n, trunc, err := p.conn.read(buf)
		if err != nil {
			return
		}
		k.handleFrame(p, buf[:n], trunc)
	}
}

// waitExit reaps a process, cleans up after it and restarts its task when
// the task asks for it.
func (k *Kernel) waitExit(p *process) {
	defer k.wg.Done()
	err := p.cmd.Wait()
	// The output expectations read what the process printed: let the
	// copier drain the pipe first (unless a descendant keeps it open).
	select {
	case <-p.outputDone:
	case <-time.After(2 * time.Second):
	}
	st := &ExitStatus{Started: true, Code: p.cmd.ProcessState.ExitCode()}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		st.Signal = ws.Signal().String()
		st.Code = -1
	}
	// Ended while the kernel stops the system: killed by it, or failing
	// because a server it needed was.
	st.Stopped = k.stopping.Load()
	_ = err
	k.reap(p)
	rec := &Record{Kind: "exit", Src: p.task.spec.Task, SrcClass: p.task.spec.Class, SrcSID: uint64(p.sid), PID: p.pid, Signal: st.Signal}
	if st.Signal == "" {
		code := st.Code
		rec.Code = &code
	}
	k.emit(rec)
	t := p.task
	t.mu.Lock()
	t.proc = nil
	restart := t.spec.Restart && (st.Code != 0 || st.Signal != "") && t.starts <= t.spec.RestartLimit && !k.stopping.Load()
	t.mu.Unlock()
	if restart {
		k.printf(t, "capsim: exited (%s); restarting (%d of %d)", describeExit(st), t.starts, t.spec.RestartLimit)
		time.Sleep(10 * time.Millisecond)
		k.startTask(t)
		return
	}
	k.finish(t, st)
}

func describeExit(st *ExitStatus) string {
	if st.Signal != "" {
		return "signal " + st.Signal
	}
	return fmt.Sprintf("code %d", st.Code)
}

func (p *process) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}
