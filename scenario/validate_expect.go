package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// expectGroups lists each kind of expectation with the keys that belong to
// it; min and max belong to trace and audit.
var expectGroups = []struct {
	kind ExpectKind
	keys []string
}{
	{ExpectTask, []string{"task", "exit", "output"}},
	{ExpectTrace, []string{"trace"}},
	{ExpectAudit, []string{"audit"}},
	{ExpectLink, []string{"link", "contains", "absent", "contains_hex", "absent_hex"}},
	{ExpectKernelRSS, []string{"kernel_max_rss"}},
	{ExpectProperty, []string{"property", "holds"}},
}

func (v *validator) expect(e *Expect) {
	var kinds []string
	for _, g := range expectGroups {
		if slices.ContainsFunc(g.keys, e.Has) {
			kinds = append(kinds, g.kind.String())
			if e.Kind == 0 {
				e.Kind = g.kind
			}
		}
	}
	switch len(kinds) {
	case 0:
		v.errorf(e.Pos, "[[expect]] checks nothing: give task, trace, audit, link, kernel_max_rss or property")
		return
	case 1:
	default:
		v.errorf(e.Pos, "[[expect]] mixes %s; one [[expect]] checks one thing", strings.Join(kinds, " and "))
		return
	}
	if (e.Has("min") || e.Has("max")) && e.Kind != ExpectTrace && e.Kind != ExpectAudit {
		v.errorf(e.KeyPos("min"), "[[expect]]: min and max count trace or audit records; this expectation checks %s", e.Kind)
	}
	switch e.Kind {
	case ExpectTask:
		v.expectTask(e)
	case ExpectTrace:
		v.match("[[expect]] trace", e.Trace)
		v.counts(e)
	case ExpectAudit:
		v.match("[[expect]] audit", e.Audit)
		v.counts(e)
	case ExpectLink:
		v.expectLink(e)
	case ExpectProperty:
		if e.Property == "" && !e.badValue("property") {
			v.errorf(e.Pos, "[[expect]]: holds needs property")
		} else if e.Property != "" {
			ref(v, v.props, &e.Node, "property", "[[expect]]", "property", e.Property)
		}
	}
}

func (v *validator) expectTask(e *Expect) {
	if e.Task == "" {
		if !e.badValue("task") {
			v.errorf(e.Pos, "[[expect]]: exit and output need task")
		}
		return
	}
	ref(v, v.tasks, &e.Node, "task", "[[expect]]", "task", e.Task)
	if e.Exit == nil && e.Output == nil {
		v.errorf(e.KeyPos("task"), "[[expect]] task %q: give exit or output", e.Task)
	}
}

func (v *validator) expectLink(e *Expect) {
	if e.Link == "" {
		if !e.badValue("link") {
			v.errorf(e.Pos, "[[expect]]: contains and absent need link")
		}
		return
	}
	ref(v, v.links, &e.Node, "link", "[[expect]]", "link", e.Link)
	contains, absent := e.Patterns()
	if !slices.ContainsFunc([]string{"contains", "absent", "contains_hex", "absent_hex"}, e.Has) {
		v.errorf(e.KeyPos("link"), "[[expect]] link %q: give contains, absent, contains_hex or absent_hex", e.Link)
	}
	for _, p := range append(contains, absent...) {
		if len(p) == 0 {
			v.errorf(e.KeyPos("link"), "[[expect]] link %q: an empty pattern matches everything", e.Link)
		}
	}
}

func (v *validator) counts(e *Expect) {
	if e.Min < 0 {
		v.errorf(e.KeyPos("min"), "[[expect]]: min must not be negative")
	}
	if e.Max != nil && *e.Max < e.Min {
		v.errorf(e.KeyPos("max"), "[[expect]]: max %d is less than min %d", *e.Max, e.Min)
	}
}

// match checks a trace or audit selector: known kinds and decisions, and
// task names that exist.
func (v *validator) match(what string, m *Match) {
	if m == nil {
		return // a type error, reported by the decoder
	}
	if len(m.Fields()) == 0 {
		v.errorf(m.Pos, "%s: give at least one field", what)
	}
	if m.Kind != nil && !slices.Contains(traceKinds, *m.Kind) {
		v.errorf(m.KeyPos("kind"), "%s: kind %q is not one of %s%s", what, *m.Kind,
			strings.Join(traceKinds, ", "), suggest(*m.Kind, traceKinds))
	}
	if m.Decision != nil && !slices.Contains(decisions, *m.Decision) {
		v.errorf(m.KeyPos("decision"), "%s: decision %q is not grant or deny%s", what, *m.Decision,
			suggest(*m.Decision, decisions))
	}
	if m.Errno != nil {
		if alias, ok := errnoAliases[*m.Errno]; ok {
			v.errorf(m.KeyPos("errno"), "%s: errno %s is written %s in the trace (the same number)", what, *m.Errno, alias)
		} else if !knownErrno(*m.Errno) {
			v.errorf(m.KeyPos("errno"), "%s: errno %q is not an errno name (ECONNREFUSED) or number%s", what, *m.Errno,
				suggest(*m.Errno, errnoNames()))
		}
	}
	for _, f := range []struct {
		key  string
		task *string
	}{{"src", m.Src}, {"dst", m.Dst}} {
		if f.task != nil && *f.task != KernelTask {
			ref(v, v.tasks, &m.Node, f.key, what, "task", *f.task)
		}
	}
}

func (v *validator) property(p *Property) {
	what := fmt.Sprintf("property %q", p.Name)
	var set []string
	for _, k := range []string{"only_through", "no_path", "calls", "tcb"} {
		if p.Has(k) {
			set = append(set, k)
		}
	}
	if len(set) != 1 {
		v.errorf(p.Pos, "%s: give exactly one of only_through, no_path, calls, tcb (has %d)", what, len(set))
	}
	task := func(n *Node, key, name string) {
		if name == "" {
			if !n.badValue(key) {
				v.errorf(n.Pos, "%s: %s needs a task", what, key)
			}
			return
		}
		ref(v, v.tasks, n, key, what, "task", name)
	}
	switch {
	case p.OnlyThrough != nil:
		o := p.OnlyThrough
		task(&o.Node, "from", o.From)
		task(&o.Node, "to", o.To)
		if len(o.Via) == 0 {
			v.errorf(o.Pos, "%s: only_through needs via", what)
		}
		for _, t := range o.Via {
			task(&o.Node, "via", t)
		}
	case p.NoPath != nil:
		task(&p.NoPath.Node, "from", p.NoPath.From)
		task(&p.NoPath.Node, "to", p.NoPath.To)
	case p.Calls != nil:
		c := p.Calls
		task(&c.Node, "from", c.From)
		task(&c.Node, "to", c.To)
		for _, a := range c.Allow {
			if ep, m, ok := strings.Cut(a, "."); !ok || ep == "" || m == "" {
				v.errorf(c.KeyPos("allow"), "%s: allow %q is not ENDPOINT.METHOD or ENDPOINT.*", what, a)
			}
		}
	case p.TCB != nil:
		task(&p.TCB.Node, "asset", p.TCB.Asset)
		for _, t := range p.TCB.Expect {
			task(&p.TCB.Node, "expect", t)
		}
	}
}

// errnoNames lists the C names of Linux's errno values, as error trace
// records give them.
func errnoNames() []string {
	var names []string
	for n := 1; n < 1<<12; n++ {
		if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// errnoAliases are C names that share a number with the name the trace
// gives it.
var errnoAliases = map[string]string{"EWOULDBLOCK": "EAGAIN", "ENOTSUP": "EOPNOTSUPP", "EDEADLOCK": "EDEADLK"}

// knownErrno reports whether s can be an error record's errno: a name or
// a number (negative for a signed error parameter).
func knownErrno(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	return slices.Contains(errnoNames(), s)
}
