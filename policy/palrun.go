package policy

import (
	"fmt"
	"io"
	"strings"
)

// TestOptions configure RunTests.
type TestOptions struct {
	// Verbose adds the explanation of a failing case's decision.
	Verbose bool
	// Run, when set, runs only the sequences whose "set/sequence" name
	// contains it.
	Run string
}

// seqRun is the state of one running sequence: the names bound so far and
// the next fresh SID.
type seqRun struct {
	p    *Policy
	vars map[string]SID
	next SID
}

// RunTests runs the main file's PAL test sets: for each sequence, its
// set's setup, the sequence, then finally, starting from the state right
// after Compile and restoring it afterwards. It writes one line per
// sequence and a summary line "N passed, N failed".
func (p *Policy) RunTests(w io.Writer, opts TestOptions) (passed, failed int) {
	saved := p.saveState()
	defer p.restoreState(saved)
	for _, ts := range p.tests {
		for _, cs := range ts.seqs {
			name := fmt.Sprintf("%q / %q", ts.ts.Name, cs.s.Name)
			if opts.Run != "" && !strings.Contains(ts.ts.Name+"/"+cs.s.Name, opts.Run) {
				continue
			}
			p.restoreState(p.snapshot)
			msg := p.runSequence(cs, opts)
			if msg == "" {
				passed++
				fmt.Fprintf(w, "PASS %s\n", name)
			} else {
				failed++
				fmt.Fprintf(w, "FAIL %s: %s\n", name, msg)
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed
}

// runSequence returns "" when every case passes, else a description of
// the first failing case.
func (p *Policy) runSequence(cs *cseq, opts TestOptions) string {
	r := &seqRun{p: p, vars: map[string]SID{}, next: kernelSID + 1}
	var failure string
	for _, part := range [][]*cstep{cs.setup, cs.steps} {
		if failure != "" {
			break
		}
		for _, st := range part {
			if failure = r.run(st, opts); failure != "" {
				break
			}
		}
	}
	for _, st := range cs.finally {
		if msg := r.run(st, opts); msg != "" {
			if failure == "" {
				failure = msg
			}
			break
		}
	}
	return failure
}

func (r *seqRun) sid(name string) (SID, error) {
	if name == "" {
		return kernelSID, nil
	}
	sid, ok := r.vars[name]
	if !ok {
		return 0, fmt.Errorf("%s is not bound in this sequence", name)
	}
	return sid, nil
}

// event builds the event of a case.
func (r *seqRun) event(st *cstep) (*Event, error) {
	src, err := r.sid(st.src)
	if err != nil {
		return nil, err
	}
	ev := &Event{Kind: st.kind, Src: Subject{Class: st.srcClass, SID: src}}
	if st.kind == Execute {
		ev.Dst = Subject{Class: st.dstClass, SID: r.next}
		ev.Interface = "kl.core.Execute"
		r.next++
		return ev, nil
	}
	dst, err := r.sid(st.dst)
	if err != nil {
		return nil, err
	}
	ev.Dst = Subject{Class: st.dstClass, SID: dst}
	if st.ep != nil {
		ev.Endpoint = st.ep.Name
	}
	ev.Interface, ev.Method, ev.Message = st.iface, st.m, st.msg
	for i, h := range st.handles {
		sid := st.handleSIDs[i]
		if h != "" {
			if sid, err = r.sid(h); err != nil {
				return nil, err
			}
		}
		ev.HandleSIDs = append(ev.HandleSIDs, sid)
	}
	return ev, nil
}

// run runs one case and returns "" or why it failed.
func (r *seqRun) run(st *cstep, opts TestOptions) string {
	what := st.st.Text
	if st.st.Name != "" {
		what = fmt.Sprintf("%q", st.st.Name)
	}
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("case %s at %s: %s", what, st.st.Pos, fmt.Sprintf(format, args...))
	}
	ev, err := r.event(st)
	if err != nil {
		return fail("%v", err)
	}
	var d Decision
	if st.malformed != "" {
		d = Decision{Reason: "invalid message: " + st.malformed}
	} else {
		d = r.p.Decide(ev)
	}
	if st.st.Bind != "" && d.Grant {
		r.vars[st.st.Bind] = ev.Dst.SID
	}
	got := "deny (" + d.Reason + ")"
	if d.Grant {
		got = "grant"
	}
	ok := st.st.Expect == "any" && st.malformed == "" ||
		st.st.Expect == "grant" && d.Grant ||
		st.st.Expect == "deny" && !d.Grant
	if ok {
		return ""
	}
	msg := fail("expected %s, got %s", st.st.Expect, got)
	if st.malformed != "" {
		msg = fail("malformed message: %s", st.malformed)
	}
	if opts.Verbose {
		msg += "\n" + indent(r.p.Explain(ev, d))
	}
	return msg
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
