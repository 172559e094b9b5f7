package policy

// This file records, while a decision is made, the facts a denying rule
// depended on: the value a model expression returned, the state of a Flow
// object, the contents of a HashSet or StaticMap, the branch a choice took.
// Explain prints them as "where ..." lines. Nothing here runs for a rule
// that grants: a rule's explainers run only when it denies, and a choice
// adds its line only when a rule of its branch denied.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// explainFn appends facts about the state a denying rule met to out. It
// runs right after the rule denied, before any later rule could change the
// state: a denying model rule changes nothing, and expressions have no side
// effects, so evaluating a rule's arguments again gives what the rule saw.
type explainFn func(f *frame, out []string) []string

// maxListed bounds the entries, keys and states one fact lists.
const maxListed = 5

// addExplain registers an explainer for the rule being compiled.
func (c *compiler) addExplain(fn explainFn) {
	c.explainers = append(c.explainers, fn)
}

// Where returns the facts recorded when the rule denied, in the words of
// --explain ("mode's state for dst_sid is \"idle\""); nil for a granting
// rule.
func (r RuleResult) Where() []string {
	if r.where == nil {
		return nil
	}
	return *r.where
}

// explainDenied runs a denying rule's explainers into its result.
func (r *crule) explainDenied(f *frame, res *RuleResult) {
	var w []string
	for _, fn := range r.explain {
		w = fn(f, w)
	}
	if len(w) > 0 {
		res.where = &w
	}
}

// callValue is the fact "OBJ.METHOD {ARGS} is VALUE" of a model expression.
func callValue(x *CallExpr, fn exprFn) explainFn {
	text := sourceText(x)
	return func(f *frame, out []string) []string {
		v, err := fn(f)
		if err != nil {
			return out
		}
		return append(out, fmt.Sprintf("%s is %s", text, showPolicyValue(v)))
	}
}

// choiceFact says which branch a choice took for the value v, on every
// denying rule of rs (the rules the branch called).
func (ch *cchoice) explainDenied(rs []RuleResult, v value, alt int) {
	branch := "_"
	if alt >= 0 {
		branch = strconv.Quote(ch.alts[alt].Value)
	}
	line := fmt.Sprintf("%s is %s, so the choice at %s took %s", ch.text, quoteBounded(v.s), ch.c.Pos, branch)
	for i := range rs {
		if rs[i].Grant {
			continue
		}
		w := append([]string{line}, rs[i].Where()...)
		rs[i].where = &w
	}
}

// choiceMisses walks the body of a binding that called no rule and says
// of every choice it reached that took no branch what its expression was.
// Evaluating the expressions again gives what the decision saw: no rule
// ran, so no model state changed.
func choiceMisses(f *frame, body []cstmt, out []string) []string {
	for _, s := range body {
		switch s := s.(type) {
		case *cmatch:
			if selMatches(s.sel, f.ev) {
				out = choiceMisses(f, s.body, out)
			}
		case *cchoice:
			v, err := s.fn(f)
			if err != nil {
				continue
			}
			body, alt := s.branch(v)
			if alt < 0 && s.def == nil {
				out = append(out, fmt.Sprintf("%s is %s, so the choice at %s took no branch (it has no _)", s.text, quoteBounded(v.s), s.c.Pos))
				continue
			}
			out = choiceMisses(f, body, out)
		}
	}
	return out
}

// flowFacts says the state a Flow object has for the SID of a denying
// rule and, for an enter the transition table refused, where the object
// may go from there.
func (m *flowModel) flowFacts(sidText string, sidFn, toFn exprFn) explainFn {
	return func(f *frame, out []string) []string {
		sid, err := sidFn(f)
		if err != nil {
			return out
		}
		m.mu.Lock()
		cur, known := m.cur[sid.sid()]
		m.mu.Unlock()
		if !known {
			return append(out, fmt.Sprintf("%s has no state for %s (not initialised)", m.name, sidText))
		}
		out = append(out, fmt.Sprintf("%s's state for %s is %q", m.name, sidText, m.states[cur]))
		if toFn == nil {
			return out
		}
		st, err := toFn(f)
		if to, ok := m.idx[st.s]; err != nil || !ok || m.trans[cur][to] {
			return out
		}
		var targets []string
		for to, ok := range m.trans[cur] {
			if ok {
				targets = append(targets, strconv.Quote(m.states[to]))
			}
		}
		if len(targets) == 0 {
			return append(out, fmt.Sprintf("%s has no transition from %q", m.name, m.states[cur]))
		}
		return append(out, fmt.Sprintf("%s's transitions from %q go only to %s", m.name, m.states[cur], listBounded(targets)))
	}
}

// flowQueryFacts says that a queried SID has no state.
func (m *flowModel) queryFacts(sidText string, sidFn exprFn) explainFn {
	return func(f *frame, out []string) []string {
		sid, err := sidFn(f)
		if err != nil {
			return out
		}
		m.mu.Lock()
		_, known := m.cur[sid.sid()]
		m.mu.Unlock()
		if !known {
			out = append(out, fmt.Sprintf("%s has no state for %s (not initialised)", m.name, sidText))
		}
		return out
	}
}

// setFacts describes the set of a HashSet rule's or contains's SID: that it
// has none, whether it holds the entry (remove only: contains says so in
// its value) and its size with its first entries.
func (m *hashSetModel) setFacts(op, sidText string, sidFn, entryFn exprFn) explainFn {
	return func(f *frame, out []string) []string {
		sid, err := sidFn(f)
		if err != nil {
			return out
		}
		var ent value
		haveEnt := false
		if entryFn != nil {
			ent, err = entryFn(f)
			haveEnt = err == nil
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		set, ok := m.sets[sid.sid()]
		if !ok {
			if op == "init" {
				return out
			}
			return append(out, fmt.Sprintf("%s has no set for %s (not initialised)", m.name, sidText))
		}
		if op == "remove" && haveEnt {
			if _, in := set[keyOf(ent)]; !in {
				out = append(out, fmt.Sprintf("%s's set for %s does not contain %s", m.name, sidText, m.show(keyOf(ent))))
			}
		}
		if len(set) == 0 {
			return append(out, fmt.Sprintf("%s's set for %s is empty (of at most %d entries)", m.name, sidText, m.setSize))
		}
		keys := slices.SortedFunc(func(yield func(hkey) bool) {
			for k := range set {
				if !yield(k) {
					return
				}
			}
		}, func(a, b hkey) int { return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(a.s, b.s)) })
		shown := make([]string, 0, min(len(keys), maxListed))
		for _, k := range keys[:min(len(keys), maxListed)] {
			shown = append(shown, m.show(k))
		}
		return append(out, fmt.Sprintf("%s's set for %s has %d %s (of at most %d): %s", m.name, sidText,
			len(set), plural(len(set), "entry", "entries"), m.setSize, listBounded(shown, len(keys)-len(shown))))
	}
}

func (m *hashSetModel) show(k hkey) string { return showKey(m.entry, k) }

// mapFacts describes the map of a StaticMap rule's or expression's SID:
// that it has none, a key it does not have, and for get (get_uncommitted)
// the working (base) value of the key when the two copies differ.
func (m *staticMapModel) mapFacts(op, sidText string, sidFn, keyFn exprFn) explainFn {
	return func(f *frame, out []string) []string {
		sid, err := sidFn(f)
		if err != nil {
			return out
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		base, ok := m.base[sid.sid()]
		if !ok {
			if op == "init" {
				return out
			}
			return append(out, fmt.Sprintf("%s has no map for %s (not initialised)", m.name, sidText))
		}
		if keyFn == nil {
			return out
		}
		key, err := keyFn(f)
		if err != nil {
			return out
		}
		i, known := m.keys[keyOf(key)]
		if !known {
			return append(out, fmt.Sprintf("%s has no key %s (its keys: %s)", m.name, showKey(m.keyKind, keyOf(key)), m.keyList()))
		}
		work := m.work[sid.sid()]
		switch {
		case op == "get" && !sameValue(base[i], work[i]):
			out = append(out, fmt.Sprintf("%s's uncommitted value for %s of %s is %s", m.name, showKey(m.keyKind, keyOf(key)), sidText, showPolicyValue(work[i])))
		case op == "get_uncommitted" && !sameValue(base[i], work[i]):
			out = append(out, fmt.Sprintf("%s's committed value for %s of %s is %s", m.name, showKey(m.keyKind, keyOf(key)), sidText, showPolicyValue(base[i])))
		}
		return out
	}
}

// keyList lists the map's keys in declaration order, bounded.
func (m *staticMapModel) keyList() string {
	keys := make([]hkey, len(m.keys))
	for k, i := range m.keys {
		keys[i] = k
	}
	shown := make([]string, 0, min(len(keys), maxListed))
	for _, k := range keys[:min(len(keys), maxListed)] {
		shown = append(shown, showKey(m.keyKind, k))
	}
	return listBounded(shown, len(keys)-len(shown))
}

func sameValue(a, b value) bool { return a.k == b.k && a.n == b.n && a.s == b.s }

// listBounded joins items with ", ", saying how many more were left out.
func listBounded(items []string, more ...int) string {
	s := strings.Join(items, ", ")
	if len(items) > maxListed {
		s = strings.Join(items[:maxListed], ", ")
		more = []int{len(items) - maxListed}
	}
	if len(more) > 0 && more[0] > 0 {
		s += fmt.Sprintf(" and %d more", more[0])
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// showKey prints an entry or key of kind k.
func showKey(k vkind, h hkey) string {
	return showPolicyValue(value{k: k, n: h.n, s: h.s})
}

// showPolicyValue prints a policy value briefly.
func showPolicyValue(v value) string {
	switch v.k {
	case vInt:
		return strconv.FormatInt(v.n, 10)
	case vUBig:
		return strconv.FormatUint(uint64(v.n), 10)
	case vBool:
		return strconv.FormatBool(v.bool())
	case vText:
		return quoteBounded(v.s)
	case vBytes:
		return showValue([]byte(v.s))
	case vSID:
		return fmt.Sprintf("SID %d", v.sid())
	case vComp:
		return showValue(v.ref)
	}
	return "?"
}

// quoteBounded quotes a text, cut at 64 bytes.
func quoteBounded(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q... (%d bytes)", s[:64], len(s))
	}
	return strconv.Quote(s)
}

// sourceText prints an expression as the policy would write it.
func sourceText(x Expr) string {
	var b strings.Builder
	writeExpr(&b, x, false)
	return b.String()
}

func writeExpr(b *strings.Builder, x Expr, nested bool) {
	switch x := x.(type) {
	case *IntLit:
		b.WriteString(strconv.FormatInt(x.Val, 10))
	case *BoolLit:
		b.WriteString(strconv.FormatBool(x.Val))
	case *StrLit:
		b.WriteString(strconv.Quote(x.Val))
	case *ListExpr:
		b.WriteString("[")
		for i, el := range x.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, el, false)
		}
		b.WriteString("]")
	case *Name:
		b.WriteString(x.Name)
	case *FieldExpr:
		writeExpr(b, x.X, true)
		b.WriteString("." + x.Field)
	case *IndexExpr:
		writeExpr(b, x.X, true)
		b.WriteString("[")
		writeExpr(b, x.Index, false)
		b.WriteString("]")
	case *UnaryExpr:
		b.WriteString(x.Op)
		writeExpr(b, x.X, true)
	case *BinaryExpr:
		if nested {
			b.WriteString("(")
		}
		writeExpr(b, x.X, true)
		b.WriteString(" " + x.Op + " ")
		writeExpr(b, x.Y, true)
		if nested {
			b.WriteString(")")
		}
	case *SizeExpr:
		b.WriteString("size (")
		writeExpr(b, x.X, false)
		b.WriteString(")")
	case *CallExpr:
		b.WriteString(x.Object + "." + x.Method + " {")
		for i, a := range x.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.Name + " : ")
			writeExpr(b, a.Value, false)
		}
		b.WriteString("}")
	default:
		b.WriteString("?")
	}
}
