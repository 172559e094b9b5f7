package run

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"capsim/kernel"
	"capsim/scenario"
	"capsim/verify"
)

// expectations counts, during the run, the trace and audit records each
// [[expect]] selects, and checks everything at the end.
type expectations struct {
	sc     *scenario.Scenario
	mu     sync.Mutex
	counts []int // per expectation, trace or audit matches
	// bugs are failures found during the run (a granted event the proof
	// says never happens).
	bugs []string
	// links answers link expectations; nil without a virtual network.
	links func(link string, needle []byte) (bool, error)
}

func newExpectations(sc *scenario.Scenario) *expectations {
	return &expectations{sc: sc, counts: make([]int, len(sc.Expects))}
}

func (x *expectations) record(r *kernel.Record) { x.count(r, scenario.ExpectTrace) }
func (x *expectations) audit(r *kernel.Record)  { x.count(r, scenario.ExpectAudit) }

func (x *expectations) count(r *kernel.Record, kind scenario.ExpectKind) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range x.sc.Expects {
		e := &x.sc.Expects[i]
		m := e.Trace
		if kind == scenario.ExpectAudit {
			m = e.Audit
		}
		if e.Kind == kind && m != nil && (m.Matches(r.Field) || m.Matches(x.scenarioRelative(r))) {
			x.counts[i]++
		}
	}
}

// scenarioRelative is r's fields with the rule in a reason named relative
// to the scenario folder ("denied by policy.psl:54:27", however the
// scenario was named on the command line), so that an expectation holds
// from any working directory.
func (x *expectations) scenarioRelative(r *kernel.Record) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := r.Field(name)
		if name == "reason" && x.sc.Dir != "" {
			if rest, cut := strings.CutPrefix(v, "denied by "); cut {
				if rel, err := filepath.Rel(x.sc.Dir, rest); err == nil && !strings.HasPrefix(rel, "..") {
					v = "denied by " + filepath.ToSlash(rel)
				}
			}
		}
		return v, ok
	}
}

// fail records a failure found during the run.
func (x *expectations) fail(msg string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.bugs) < 20 {
		x.bugs = append(x.bugs, msg)
	}
}

// check returns a line for every failed expectation.
func (x *expectations) check(k *kernel.Kernel) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	fails := append([]string(nil), x.bugs...)
	for i := range x.sc.Expects {
		e := &x.sc.Expects[i]
		if msg := x.checkOne(k, e, x.counts[i]); msg != "" {
			fails = append(fails, fmt.Sprintf("%s: %s", e.Pos, msg))
		}
	}
	return fails
}

func (x *expectations) checkOne(k *kernel.Kernel, e *scenario.Expect, n int) string {
	switch e.Kind {
	case scenario.ExpectTask:
		return checkTask(k, e)
	case scenario.ExpectTrace, scenario.ExpectAudit:
		m, what := e.Trace, "trace"
		if e.Kind == scenario.ExpectAudit {
			m, what = e.Audit, "audit"
		}
		if n < e.Min || (e.Max != nil && n > *e.Max) {
			return fmt.Sprintf("expected %s matching %s, saw %d", countWant(e.Min, e.Max, what+" record"), describeMatch(m), n)
		}
	case scenario.ExpectLink:
		return x.checkLink(e)
	case scenario.ExpectKernelRSS:
		rss := peakRSS()
		if rss > int64(e.KernelMaxRSS) {
			return fmt.Sprintf("expected the kernel's peak RSS under %d bytes, saw %d", int64(e.KernelMaxRSS), rss)
		}
	case scenario.ExpectProperty:
		return verify.ExpectProperty(x.sc, e)
	}
	return ""
}

// countWant says how many of noun an expectation wants: "no trace
// records", "at least 1 trace record", "2 to 5 audit records".
func countWant(lo int, hi *int, noun string) string {
	plural := func(n int) string {
		if n == 1 {
			return noun
		}
		return noun + "s"
	}
	switch {
	case hi != nil && *hi == 0:
		return "no " + noun + "s"
	case hi == nil:
		return fmt.Sprintf("at least %d %s", lo, plural(lo))
	case lo == *hi:
		return fmt.Sprintf("exactly %d %s", lo, plural(lo))
	}
	return fmt.Sprintf("%d to %d %s", lo, *hi, plural(*hi))
}

func checkTask(k *kernel.Kernel, e *scenario.Expect) string {
	var msgs []string
	if e.Exit != nil {
		st, ok := k.Exit(e.Task)
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("task %s: expected exit %d, but it was still running", e.Task, *e.Exit))
		case !st.Started:
			msgs = append(msgs, fmt.Sprintf("task %s: expected exit %d, but it never started: %s", e.Task, *e.Exit, st.Err))
		case st.Signal != "":
			msgs = append(msgs, fmt.Sprintf("task %s: expected exit %d, killed by %s", e.Task, *e.Exit, st.Signal))
		case st.Code != *e.Exit:
			msgs = append(msgs, fmt.Sprintf("task %s: expected exit %d, got %d", e.Task, *e.Exit, st.Code))
		}
	}
	if e.Output != nil {
		out := k.Output(e.Task)
		if !strings.Contains(out, *e.Output) {
			msgs = append(msgs, fmt.Sprintf("task %s: expected output containing %q, got %s", e.Task, *e.Output, tail(out)))
		}
	}
	return strings.Join(msgs, "; ")
}

func (x *expectations) checkLink(e *scenario.Expect) string {
	if x.links == nil {
		return fmt.Sprintf("link %s: no virtual network in this run", e.Link)
	}
	contains, absent := e.Patterns()
	var msgs []string
	for _, p := range contains {
		if ok, err := x.links(e.Link, p); err != nil || !ok {
			msgs = append(msgs, fmt.Sprintf("link %s: expected the bytes %q on the wire, not seen%s", e.Link, p, errSuffix(err)))
		}
	}
	for _, p := range absent {
		if ok, err := x.links(e.Link, p); err != nil || ok {
			msgs = append(msgs, fmt.Sprintf("link %s: expected no %q on the wire, but it was seen%s", e.Link, p, errSuffix(err)))
		}
	}
	return strings.Join(msgs, "; ")
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func describeMatch(m *scenario.Match) string {
	var parts []string
	for _, f := range m.Fields() {
		parts = append(parts, f.Name+"="+f.Value)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// tail quotes the end of an output for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "no output"
	}
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	return strconv.Quote(s)
}

// peakRSS returns this process's peak resident set (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
