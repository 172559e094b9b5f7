package policy

// Accessors for static tools (capsim verify, diagrams): they read the
// compiled policy without deciding anything or touching model state.

import "slices"

// BindingsFor returns the top-level bindings whose selectors match ev, in
// evaluation order: the bindings Decide would run for it. Only ev's kind,
// classes, endpoint, interface and method are read.
func (p *Policy) BindingsFor(ev *Event) []*Binding {
	cbs := p.lookup(ev)
	out := make([]*Binding, len(cbs))
	for i, cb := range cbs {
		out[i] = cb.b
	}
	return out
}

// SelectorsMatch reports whether an event matches selectors, as Decide
// matches a binding's or a nested match section's.
func SelectorsMatch(s *Selectors, ev *Event) bool { return selMatches(s, ev) }

// FlowInfo describes a Flow object's state machine.
type FlowInfo struct {
	States  []string
	Initial int
	// Trans[from][to] is true when the transitions table allows from → to.
	Trans [][]bool
}

// Flow returns the state machine of the Flow object named name, or false
// when there is no such Flow object.
func (p *Policy) Flow(name string) (FlowInfo, bool) {
	o, ok := p.objects[name]
	if !ok {
		return FlowInfo{}, false
	}
	m, ok := o.m.(*flowModel)
	if !ok {
		return FlowInfo{}, false
	}
	fi := FlowInfo{States: slices.Clone(m.states), Initial: m.initial, Trans: make([][]bool, len(m.trans))}
	for i, row := range m.trans {
		fi.Trans[i] = slices.Clone(row)
	}
	return fi, true
}

// ObjectModel returns the model ("Flow", "HashSet", "StaticMap", "Regex")
// of the object named name, or "" when there is none.
func (p *Policy) ObjectModel(name string) string {
	if o, ok := p.objects[name]; ok {
		return o.model
	}
	return ""
}
