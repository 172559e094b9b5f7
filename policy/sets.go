package policy

import (
	"maps"
	"slices"
	"strconv"
	"sync"
)

// hkey is a hashable policy scalar (an entry or key).
type hkey struct {
	n int64
	s string
}

func keyOf(v value) hkey { return hkey{n: v.n, s: v.s} }

// baseKind maps a type name of `type X = NAME` to a value kind.
func baseKind(name string) vkind {
	switch name {
	case "UInt8", "UInt16", "UInt32", "UInt64", "SInt8", "SInt16", "SInt32", "SInt64", "Int", "Integer":
		return vInt
	case "Text", "String":
		return vText
	case "Bool", "Boolean":
		return vBool
	case "SID", "Handle":
		return vSID
	}
	return vInvalid
}

// typeKind finds `type NAME = BASE` among the declaration's types.
func (c *compiler) typeKind(d *ObjectDecl, name string) vkind {
	for _, t := range d.Types {
		if t.Name != name {
			continue
		}
		if t.States != nil {
			return vText
		}
		k := baseKind(t.Base)
		if k == vInvalid {
			c.errs.Addf(t.Pos, "unsupported type %s (want UInt8..UInt64, SInt8..SInt64, Text, Bool or SID)", t.Base)
		}
		return k
	}
	c.errs.Addf(d.Pos, "%s %s needs `type %s = ...`", d.Model, d.Name, name)
	return vInvalid
}

// litValue converts a configuration literal to a value of kind k.
func (c *compiler) litValue(l *Lit, k vkind, what string) (value, bool) {
	switch {
	case k == vInt && l.Kind == LitInt:
		return intVal(l.Int), true
	case k == vText && l.Kind == LitString:
		return textVal(l.Str), true
	case k == vBool && l.Kind == LitBool:
		return boolVal(l.Bool), true
	case k == vSID && l.Kind == LitInt:
		return value{k: vSID, n: l.Int}, true
	}
	c.errs.Addf(l.Pos, "%s must be %s", what, k)
	return value{}, false
}

// hashSetModel is the HashSet model: a set of entries per SID, the SIDs
// drawn from a pool.
type hashSetModel struct {
	name     string
	entry    vkind
	setSize  int
	poolSize int

	mu   sync.Mutex
	sets map[SID]map[hkey]struct{}
}

func (c *compiler) newHashSet(d *ObjectDecl) model {
	c.checkConfigKeys(d, "set_size", "pool_size")
	m := &hashSetModel{name: d.Name, entry: c.typeKind(d, "Entry"), sets: map[SID]map[hkey]struct{}{}}
	if l := c.cfg(d, "set_size"); l != nil {
		m.setSize = c.litInt(l, "set_size", 1)
	}
	if l := c.cfg(d, "pool_size"); l != nil {
		m.poolSize = c.litInt(l, "pool_size", 1)
	}
	return m
}

func (m *hashSetModel) rule(c *compiler, r *Rule, e *env) ruleFn {
	spec := []argSpec{{"sid", vSID}}
	switch r.Method {
	case "init", "fini":
	case "add", "remove":
		spec = append(spec, argSpec{"entry", m.entry})
	default:
		c.errs.Addf(r.Pos, "HashSet has no rule %s (%s)", r.Method, suggest(r.Method, []string{"init", "fini", "add", "remove"}))
		return nil
	}
	fns, ok := c.callArgs(m.name+"."+r.Method, r.Pos, r.Args, spec, e)
	if !ok {
		return nil
	}
	op := r.Method
	var entryFn exprFn
	if len(fns) > 1 {
		entryFn = fns[1]
	}
	c.addExplain(m.setFacts(op, sourceText(argExpr(r.Args, "sid")), fns[0], entryFn))
	return func(f *frame) (bool, error) {
		var args [2]value
		for i, fn := range fns {
			v, err := fn(f)
			if err != nil {
				return false, err
			}
			args[i] = v
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.apply(op, args[0].sid(), keyOf(args[1]))
	}
}

func (m *hashSetModel) apply(op string, sid SID, k hkey) (bool, error) {
	set, ok := m.sets[sid]
	switch {
	case op == "init" && ok:
		return false, errorf("SID %d is already associated with %s", sid, m.name)
	case op == "init" && len(m.sets) >= m.poolSize:
		return false, errorf("the pool of %s is exhausted (%d sets)", m.name, m.poolSize)
	case op == "init":
		m.sets[sid] = map[hkey]struct{}{}
		return true, nil
	case !ok:
		return false, errorf("SID %d is not associated with %s", sid, m.name)
	case op == "fini":
		delete(m.sets, sid)
	case op == "add":
		if _, present := set[k]; !present && len(set) >= m.setSize {
			return false, errorf("the set of SID %d in %s is full (%d entries)", sid, m.name, m.setSize)
		}
		set[k] = struct{}{}
	case op == "remove":
		if _, present := set[k]; !present {
			return false, nil
		}
		delete(set, k)
	}
	return true, nil
}

func (m *hashSetModel) expr(c *compiler, x *CallExpr, e *env) (ptype, exprFn) {
	if x.Method != "contains" {
		c.errs.Addf(x.Pos, "HashSet has no expression %s (contains is its only one)", x.Method)
		return bad, nil
	}
	fns, ok := c.callArgs(m.name+".contains", x.Pos, x.Args, []argSpec{{"sid", vSID}, {"entry", m.entry}}, e)
	if !ok {
		return bad, nil
	}
	c.addExplain(m.setFacts("contains", sourceText(argExpr(x.Args, "sid")), fns[0], fns[1]))
	return ptype{k: vBool}, func(f *frame) (value, error) {
		sid, err := fns[0](f)
		if err != nil {
			return sid, err
		}
		ent, err := fns[1](f)
		if err != nil {
			return ent, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		set, ok := m.sets[sid.sid()]
		if !ok {
			return value{}, errorf("SID %d is not associated with %s", sid.sid(), m.name)
		}
		_, in := set[keyOf(ent)]
		return boolVal(in), nil
	}
}

func (m *hashSetModel) save() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[SID]map[hkey]struct{}, len(m.sets))
	for k, s := range m.sets {
		out[k] = maps.Clone(s)
	}
	return out
}

func (m *hashSetModel) restore(s any) {
	saved := s.(map[SID]map[hkey]struct{})
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets = make(map[SID]map[hkey]struct{}, len(saved))
	for k, s := range saved {
		m.sets[k] = maps.Clone(s)
	}
}

// staticMapModel is the StaticMap model: a table of fixed keys per SID
// with a base copy and a working copy.
type staticMapModel struct {
	name     string
	keyKind  vkind
	valKind  vkind
	keys     map[hkey]int
	def      value
	poolSize int

	mu   sync.Mutex
	base map[SID][]value
	work map[SID][]value
}

func (c *compiler) newStaticMap(d *ObjectDecl) model {
	c.checkConfigKeys(d, "keys", "default", "pool_size")
	m := &staticMapModel{name: d.Name, keyKind: c.typeKind(d, "Key"), valKind: c.typeKind(d, "Value"),
		keys: map[hkey]int{}, base: map[SID][]value{}, work: map[SID][]value{}}
	if m.keyKind == vInvalid || m.valKind == vInvalid {
		return m
	}
	if l := c.cfg(d, "keys"); l != nil {
		if l.Kind != LitList {
			c.errs.Addf(l.Pos, "keys must be a list")
		}
		first := map[hkey]*Lit{}
		for _, k := range l.List {
			v, ok := c.litValue(k, m.keyKind, "a key")
			if !ok {
				continue
			}
			if prev := first[keyOf(v)]; prev != nil {
				c.errs.Addf(k.Pos, "key listed twice (first at %s)", prev.Pos)
				continue
			}
			first[keyOf(v)] = k
			m.keys[keyOf(v)] = len(m.keys)
		}
	}
	if l := c.cfg(d, "default"); l != nil {
		m.def, _ = c.litValue(l, m.valKind, "default")
	}
	if l := c.cfg(d, "pool_size"); l != nil {
		m.poolSize = c.litInt(l, "pool_size", 1)
	}
	return m
}

func (m *staticMapModel) rule(c *compiler, r *Rule, e *env) ruleFn {
	spec := []argSpec{{"sid", vSID}}
	switch r.Method {
	case "init", "fini", "commit", "rollback":
	case "set":
		spec = append(spec, argSpec{"key", m.keyKind}, argSpec{"value", m.valKind})
	default:
		c.errs.Addf(r.Pos, "StaticMap has no rule %s (%s)", r.Method,
			suggest(r.Method, []string{"init", "fini", "set", "commit", "rollback"}))
		return nil
	}
	fns, ok := c.callArgs(m.name+"."+r.Method, r.Pos, r.Args, spec, e)
	if !ok || !m.checkKey(c, r.Args) {
		return nil
	}
	op := r.Method
	var keyFn exprFn
	if len(fns) > 1 {
		keyFn = fns[1]
	}
	c.addExplain(m.mapFacts(op, sourceText(argExpr(r.Args, "sid")), fns[0], keyFn))
	return func(f *frame) (bool, error) {
		var args [3]value
		for i, fn := range fns {
			v, err := fn(f)
			if err != nil {
				return false, err
			}
			args[i] = v
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.apply(op, args[0].sid(), args[1], args[2])
	}
}

func (m *staticMapModel) apply(op string, sid SID, key, val value) (bool, error) {
	base, ok := m.base[sid]
	switch {
	case op == "init" && ok:
		return false, errorf("SID %d is already associated with %s", sid, m.name)
	case op == "init" && len(m.base) >= m.poolSize:
		return false, errorf("the pool of %s is exhausted (%d maps)", m.name, m.poolSize)
	case op == "init":
		m.base[sid] = slices.Repeat([]value{m.def}, len(m.keys))
		m.work[sid] = slices.Repeat([]value{m.def}, len(m.keys))
		return true, nil
	case !ok:
		return false, errorf("SID %d is not associated with %s", sid, m.name)
	case op == "fini":
		delete(m.base, sid)
		delete(m.work, sid)
	case op == "set":
		i, known := m.keys[keyOf(key)]
		if !known {
			return false, errorf("unknown key of %s", m.name)
		}
		m.work[sid][i] = val
	case op == "commit":
		copy(base, m.work[sid])
	case op == "rollback":
		copy(m.work[sid], base)
	}
	return true, nil
}

func (m *staticMapModel) expr(c *compiler, x *CallExpr, e *env) (ptype, exprFn) {
	if x.Method != "get" && x.Method != "get_uncommitted" {
		c.errs.Addf(x.Pos, "StaticMap has no expression %s (get, get_uncommitted)", x.Method)
		return bad, nil
	}
	fns, ok := c.callArgs(m.name+"."+x.Method, x.Pos, x.Args, []argSpec{{"sid", vSID}, {"key", m.keyKind}}, e)
	if !ok || !m.checkKey(c, x.Args) {
		return bad, nil
	}
	working := x.Method == "get_uncommitted"
	c.addExplain(m.mapFacts(x.Method, sourceText(argExpr(x.Args, "sid")), fns[0], fns[1]))
	return ptype{k: m.valKind}, func(f *frame) (value, error) {
		sid, err := fns[0](f)
		if err != nil {
			return sid, err
		}
		key, err := fns[1](f)
		if err != nil {
			return key, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		tab := m.base
		if working {
			tab = m.work
		}
		row, ok := tab[sid.sid()]
		if !ok {
			return value{}, errorf("SID %d is not associated with %s", sid.sid(), m.name)
		}
		i, known := m.keys[keyOf(key)]
		if !known {
			return value{}, errorf("unknown key of %s", m.name)
		}
		return row[i], nil
	}
}

// checkKey reports a constant key the map does not have.
func (m *staticMapModel) checkKey(c *compiler, args []*Arg) bool {
	var k value
	switch x := argExpr(args, "key").(type) {
	case *StrLit:
		k = textVal(x.Val)
	case *IntLit:
		k = intVal(x.Val)
	default:
		return true
	}
	if _, ok := m.keys[keyOf(k)]; !ok {
		c.errs.Addf(posOf(argExpr(args, "key")), "%s has no key %s", m.name, exprText(argExpr(args, "key")))
		return false
	}
	return true
}

func exprText(x Expr) string {
	switch x := x.(type) {
	case *StrLit:
		return strconv.Quote(x.Val)
	case *IntLit:
		return strconv.FormatInt(x.Val, 10)
	}
	return "?"
}

func cloneRows(in map[SID][]value) map[SID][]value {
	out := make(map[SID][]value, len(in))
	for k, v := range in {
		out[k] = slices.Clone(v)
	}
	return out
}

func (m *staticMapModel) save() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return [2]map[SID][]value{cloneRows(m.base), cloneRows(m.work)}
}

func (m *staticMapModel) restore(s any) {
	saved := s.([2]map[SID][]value)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.base, m.work = cloneRows(saved[0]), cloneRows(saved[1])
}

var (
	_ model = (*hashSetModel)(nil)
	_ model = (*staticMapModel)(nil)
)
