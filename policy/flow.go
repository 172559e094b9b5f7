package policy

import (
	"maps"
	"slices"
	"sync"

	"capsim/diag"
)

// flowModel is the Flow model: a finite-state machine per SID.
type flowModel struct {
	name    string
	states  []string
	idx     map[string]int
	initial int
	trans   [][]bool // trans[from][to]

	mu  sync.Mutex
	cur map[SID]int
}

// config helpers ---------------------------------------------------------

func (c *compiler) cfg(d *ObjectDecl, key string) *Lit {
	if d.Config == nil || d.Config.Kind != LitRecord {
		c.errs.Addf(d.Pos, "policy object %s needs config = { ... }", d.Name)
		return nil
	}
	v := d.Config.Field(key)
	if v == nil {
		c.errs.Addf(d.Config.Pos, "config of %s needs %s", d.Name, key)
	}
	return v
}

func (c *compiler) litStrings(l *Lit, what string) []string {
	if l.Kind != LitList {
		c.errs.Addf(l.Pos, "%s must be a list of strings", what)
		return nil
	}
	var out []string
	for _, x := range l.List {
		if x.Kind != LitString {
			c.errs.Addf(x.Pos, "%s must be a list of strings", what)
			return nil
		}
		out = append(out, x.Str)
	}
	return out
}

func (c *compiler) litInt(l *Lit, what string, min int64) int {
	if l.Kind != LitInt || l.Int < min || l.Int > 1<<30 {
		c.errs.Addf(l.Pos, "%s must be an integer of at least %d", what, min)
		return 0
	}
	return int(l.Int)
}

func (c *compiler) checkConfigKeys(d *ObjectDecl, allowed ...string) {
	if d.Config == nil || d.Config.Kind != LitRecord {
		return
	}
	for _, f := range d.Config.Fields {
		if !slices.Contains(allowed, f.Key) {
			c.errs.Addf(f.Pos, "unknown config key %s of %s (%s)", f.Key, d.Model, suggest(f.Key, allowed))
		}
	}
}

func (c *compiler) newFlow(d *ObjectDecl) model {
	c.checkConfigKeys(d, "states", "initial", "transitions")
	m := &flowModel{name: d.Name, idx: map[string]int{}, cur: map[SID]int{}}
	if l := c.cfg(d, "states"); l != nil {
		m.states = c.litStrings(l, "states")
	}
	for i, s := range m.states {
		if _, dup := m.idx[s]; dup {
			c.errs.Addf(d.Config.Field("states").Pos, "state %q listed twice", s)
		}
		m.idx[s] = i
	}
	for _, t := range d.Types {
		if t.States != nil && !slices.Equal(slices.Sorted(slices.Values(t.States)), slices.Sorted(maps.Keys(m.idx))) {
			c.errs.Addf(t.Pos, "type %s does not list the same states as config", t.Name)
		}
	}
	if l := c.cfg(d, "initial"); l != nil {
		m.initial = c.state(m, l, "initial")
	}
	m.trans = make([][]bool, len(m.states))
	for i := range m.trans {
		m.trans[i] = make([]bool, len(m.states))
	}
	if l := c.cfg(d, "transitions"); l != nil {
		if l.Kind != LitRecord {
			c.errs.Addf(l.Pos, "transitions must be { \"state\" : [\"state\", ...], ... }")
			return m
		}
		for _, f := range l.Fields {
			from := c.state(m, &Lit{Kind: LitString, Str: f.Key, Pos: f.Pos}, "transition")
			if f.Value.Kind != LitList {
				c.errs.Addf(f.Value.Pos, "the targets of transition %q must be a list of states: [\"state\", ...]", f.Key)
				continue
			}
			for _, to := range f.Value.List {
				if j := c.state(m, to, "transition target"); from >= 0 && j >= 0 {
					m.trans[from][j] = true
				}
			}
		}
	}
	return m
}

// state resolves a state literal, reporting an unknown one.
func (c *compiler) state(m *flowModel, l *Lit, what string) int {
	if l.Kind != LitString {
		c.errs.Addf(l.Pos, "%s must be a state string", what)
		return -1
	}
	i, ok := m.idx[l.Str]
	if !ok {
		c.errs.Addf(l.Pos, "unknown state %q of %s (%s)", l.Str, m.name, suggest(l.Str, m.states))
		return -1
	}
	return i
}

func (m *flowModel) rule(c *compiler, r *Rule, e *env) ruleFn {
	what := m.name + "." + r.Method
	switch r.Method {
	case "init", "fini":
		fns, ok := c.callArgs(what, r.Pos, r.Args, []argSpec{{"sid", vSID}}, e)
		if !ok {
			return nil
		}
		c.addExplain(m.flowFacts(sourceText(argExpr(r.Args, "sid")), fns[0], nil))
		if r.Method == "init" {
			return func(f *frame) (bool, error) { return m.init(f, fns[0]) }
		}
		return func(f *frame) (bool, error) { return m.fini(f, fns[0]) }
	case "enter":
		fns, ok := c.callArgs(what, r.Pos, r.Args, []argSpec{{"sid", vSID}, {"state", vText}}, e)
		if !ok {
			return nil
		}
		if s, lit := argExpr(r.Args, "state").(*StrLit); lit {
			c.state(m, &Lit{Kind: LitString, Str: s.Val, Pos: s.Pos}, "state")
		}
		c.addExplain(m.flowFacts(sourceText(argExpr(r.Args, "sid")), fns[0], fns[1]))
		return func(f *frame) (bool, error) { return m.enter(f, fns[0], fns[1]) }
	case "allow":
		fns, ok := c.callArgs(what, r.Pos, r.Args, []argSpec{{"sid", vSID}, {"states", vList}}, e)
		if !ok {
			return nil
		}
		set := make([]bool, len(m.states))
		for _, el := range argExpr(r.Args, "states").(*ListExpr).Elems {
			s, lit := el.(*StrLit)
			if !lit {
				c.errs.Addf(posOf(el), "states must be string literals")
				return nil
			}
			if i := c.state(m, &Lit{Kind: LitString, Str: s.Val, Pos: s.Pos}, "state"); i >= 0 {
				set[i] = true
			}
		}
		c.addExplain(m.flowFacts(sourceText(argExpr(r.Args, "sid")), fns[0], nil))
		return func(f *frame) (bool, error) { return m.allow(f, fns[0], set) }
	}
	c.errs.Addf(r.Pos, "Flow has no rule %s (%s)", r.Method, suggest(r.Method, []string{"init", "fini", "enter", "allow"}))
	return nil
}

func (m *flowModel) expr(c *compiler, x *CallExpr, e *env) (ptype, exprFn) {
	if x.Method != "query" {
		c.errs.Addf(x.Pos, "Flow has no expression %s (query is its only one)", x.Method)
		return bad, nil
	}
	fns, ok := c.callArgs(m.name+".query", x.Pos, x.Args, []argSpec{{"sid", vSID}}, e)
	if !ok {
		return bad, nil
	}
	c.addExplain(m.queryFacts(sourceText(argExpr(x.Args, "sid")), fns[0]))
	return ptype{k: vText}, func(f *frame) (value, error) {
		sid, err := fns[0](f)
		if err != nil {
			return sid, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		st, ok := m.cur[sid.sid()]
		if !ok {
			return value{}, m.notAssociated(sid.sid())
		}
		return textVal(m.states[st]), nil
	}
}

func (m *flowModel) notAssociated(sid SID) error {
	return errorf("SID %d is not associated with %s", sid, m.name)
}

func (m *flowModel) init(f *frame, sidFn exprFn) (bool, error) {
	sid, err := sidFn(f)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cur[sid.sid()]; ok {
		return false, errorf("SID %d is already associated with %s", sid.sid(), m.name)
	}
	m.cur[sid.sid()] = m.initial
	return true, nil
}

func (m *flowModel) fini(f *frame, sidFn exprFn) (bool, error) {
	sid, err := sidFn(f)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cur[sid.sid()]; !ok {
		return false, m.notAssociated(sid.sid())
	}
	delete(m.cur, sid.sid())
	return true, nil
}

func (m *flowModel) enter(f *frame, sidFn, stFn exprFn) (bool, error) {
	sid, err := sidFn(f)
	if err != nil {
		return false, err
	}
	st, err := stFn(f)
	if err != nil {
		return false, err
	}
	to, ok := m.idx[st.s]
	if !ok {
		return false, errorf("unknown state %q of %s", st.s, m.name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	from, ok := m.cur[sid.sid()]
	if !ok {
		return false, m.notAssociated(sid.sid())
	}
	if !m.trans[from][to] {
		return false, nil
	}
	m.cur[sid.sid()] = to
	return true, nil
}

func (m *flowModel) allow(f *frame, sidFn exprFn, set []bool) (bool, error) {
	sid, err := sidFn(f)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.cur[sid.sid()]
	if !ok {
		return false, m.notAssociated(sid.sid())
	}
	return set[st], nil
}

func (m *flowModel) save() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.cur)
}

func (m *flowModel) restore(s any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = maps.Clone(s.(map[SID]int))
}

var _ model = (*flowModel)(nil)

// unused guard for diag import in small builds.
var _ = diag.Pos{}
