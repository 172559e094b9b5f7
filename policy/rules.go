package policy

import (
	"regexp"

	"capsim/diag"
)

// model is a security model object's implementation: it checks and
// compiles calls of its rules and expressions and keeps state per SID.
type model interface {
	rule(c *compiler, r *Rule, e *env) ruleFn
	expr(c *compiler, x *CallExpr, e *env) (ptype, exprFn)
	save() any
	restore(state any)
}

type ruleFn func(f *frame) (bool, error)

// object is a declared model object (or the built-in `re`).
type object struct {
	name  string
	model string
	decl  *ObjectDecl // nil for built-in objects
	m     model
}

// Object describes a model object for static tools.
type Object struct {
	Name  string
	Model string      // Flow, HashSet, StaticMap, Regex
	Decl  *ObjectDecl // nil for the built-in `re`
}

// Objects returns the policy's model objects in declaration order.
func (p *Policy) Objects() []Object {
	out := make([]Object, 0, len(p.objectOrder))
	for _, o := range p.objectOrder {
		out = append(out, Object{Name: o.name, Model: o.model, Decl: o.decl})
	}
	return out
}

func (p *Policy) addObject(o *object) {
	if _, ok := p.objects[o.name]; ok {
		return
	}
	p.objects[o.name] = o
	p.objectOrder = append(p.objectOrder, o)
}

// declareObject checks a `policy object` declaration.
func (c *compiler) declareObject(d *ObjectDecl) {
	if d.Name == "base" || d.Name == "re" {
		c.errs.Addf(d.Pos, "%s is a built-in object name", d.Name)
		return
	}
	if old, ok := c.p.objects[d.Name]; ok {
		c.errs.Addf(d.Pos, "policy object %s declared twice (first at %s)", d.Name, old.decl.Pos)
		return
	}
	modules := map[string]string{"Flow": "nk.flow", "HashSet": "nk.hashmap", "StaticMap": "nk.staticmap"}
	mod, ok := modules[d.Model]
	if !ok {
		c.errs.Addf(d.Pos, "unknown model %s (%s)", d.Model, suggest(d.Model, keys(modules)))
		return
	}
	if !c.models[d.Model] {
		c.errs.Addf(d.Pos, "model %s needs `use %s._` before this line", d.Model, mod)
		return
	}
	var m model
	switch d.Model {
	case "Flow":
		m = c.newFlow(d)
	case "HashSet":
		m = c.newHashSet(d)
	case "StaticMap":
		m = c.newStaticMap(d)
	}
	if m == nil {
		return
	}
	// An object with configuration errors is still declared, so that its
	// uses do not report it unknown.
	c.p.addObject(&object{name: d.Name, model: d.Model, decl: d, m: m})
}

// object finds a model object by name.
func (c *compiler) object(name string, pos diag.Pos) *object {
	if o, ok := c.p.objects[name]; ok {
		return o
	}
	if name == "re" {
		c.errs.Addf(pos, "re needs `use nk.regex._` before this line")
		return nil
	}
	c.errs.Addf(pos, "unknown policy object %s (%s)", name, suggest(name, keys(c.p.objects)))
	return nil
}

// rule compiles a rule with what it records when it denies: the
// explainers its model and the model expressions of its arguments
// registered.
func (c *compiler) rule(r *Rule, e *env) cstmt {
	c.explainers = nil
	cs := c.compileRule(r, e)
	if cr, ok := cs.(*crule); ok && len(c.explainers) > 0 && c.opts.Explain {
		cr.explain = c.explainers
	}
	c.explainers = nil
	return cs
}

func (c *compiler) compileRule(r *Rule, e *env) cstmt {
	if r.Object != "base" {
		o := c.object(r.Object, r.Pos)
		if o == nil {
			return nil
		}
		if fn := o.m.rule(c, r, e); fn != nil {
			return &crule{r: r, fn: fn}
		}
		return nil
	}
	if !c.models["Base"] {
		c.errs.Addf(r.Pos, "%s needs `use nk.base._` before this line", r.Method)
		return nil
	}
	switch r.Method {
	case "grant":
		return &crule{r: r, fn: func(*frame) (bool, error) { return true, nil }}
	case "deny":
		return &crule{r: r, fn: func(*frame) (bool, error) { return false, nil }}
	case "assert":
		t, fn := c.expr(r.Args[0].Value, e)
		if t.k == vInvalid {
			return nil
		}
		if t.k != vBool {
			c.errs.Addf(posOf(r.Args[0].Value), "assert needs a Bool expression, not %s", t.k)
			return nil
		}
		return &crule{r: r, fn: func(f *frame) (bool, error) {
			v, err := fn(f)
			return v.bool(), err
		}}
	}
	c.errs.Addf(r.Pos, "unknown rule %s (%s)", r.Method, suggest(r.Method, []string{"grant", "deny", "assert"}))
	return nil
}

// argSpec names one argument of a model call and its type; vList is a
// list of Text literals.
type argSpec struct {
	name string
	k    vkind
}

// callArgs checks a call's arguments against spec and compiles them in
// spec order (nil for list arguments, which the model reads itself).
func (c *compiler) callArgs(what string, pos diag.Pos, args []*Arg, spec []argSpec, e *env) ([]exprFn, bool) {
	ok := true
	fns := make([]exprFn, len(spec))
	var names []string
	for _, s := range spec {
		names = append(names, s.name)
	}
	for _, a := range args {
		i := -1
		for j, s := range spec {
			if s.name == a.Name {
				i = j
			}
		}
		if i < 0 {
			c.errs.Addf(a.Pos, "%s has no argument %s (%s)", what, a.Name, suggest(a.Name, names))
			ok = false
			continue
		}
		if spec[i].k == vList {
			if _, isList := a.Value.(*ListExpr); !isList {
				c.errs.Addf(a.Pos, "argument %s of %s must be a list of strings", a.Name, what)
				ok = false
			}
			continue
		}
		t, fn := c.expr(a.Value, e)
		switch {
		case t.k == vInvalid:
			ok = false
		case t.k != spec[i].k && !(spec[i].k == vText && t.k == vBytes):
			c.errs.Addf(posOf(a.Value), "argument %s of %s must be %s, not %s", a.Name, what, spec[i].k, t.k)
			ok = false
		default:
			fns[i] = fn
		}
	}
	for _, s := range spec {
		if argExpr(args, s.name) == nil {
			c.errs.Addf(pos, "%s needs argument %s", what, s.name)
			ok = false
		}
	}
	return fns, ok
}

func argExpr(args []*Arg, name string) Expr {
	for _, a := range args {
		if a.Name == name {
			return a.Value
		}
	}
	return nil
}

// stringList reads a list argument of string literals.
func (c *compiler) stringList(x Expr) ([]string, bool) {
	l, ok := x.(*ListExpr)
	if !ok {
		return nil, false
	}
	var out []string
	for _, el := range l.Elems {
		s, ok := el.(*StrLit)
		if !ok {
			c.errs.Addf(posOf(el), "expected a string literal")
			return nil, false
		}
		out = append(out, s.Val)
	}
	return out, true
}

// cchoice is a compiled choice.
type cchoice struct {
	c       *Choice
	text    string // the expression as written, for explanations
	explain bool   // Options.Explain: record the branch when a rule of it denies
	fn      exprFn
	res     []*regexp.Regexp // re.select: one pattern per alternative
	alts    []*Alt
	bodies  [][]cstmt
	def     []cstmt
}

func (ch *cchoice) run(f *frame) {
	v, err := ch.fn(f)
	if err != nil {
		f.rules = append(f.rules, RuleResult{Pos: ch.c.Pos, Text: "choice", Object: "base", Err: err.Error()})
		return
	}
	body, alt := ch.branch(v)
	n, denied := len(f.rules), f.denied
	for _, s := range body {
		s.run(f)
	}
	if f.denied != denied && ch.explain {
		ch.explainDenied(f.rules[n:], v, alt)
	}
}

// branch returns the body of the alternative v selects and its index, -1
// for _ or none.
func (ch *cchoice) branch(v value) ([]cstmt, int) {
	for i, a := range ch.alts {
		if ch.res != nil && ch.res[i].MatchString(v.s) || ch.res == nil && a.Value == v.s {
			return ch.bodies[i], i
		}
	}
	return ch.def, -1
}

func (c *compiler) choice(x *Choice, e *env) cstmt {
	ch := &cchoice{c: x, text: sourceText(x.Expr), explain: c.opts.Explain}
	call, _ := x.Expr.(*CallExpr)
	if call != nil && call.Method == "select" && c.object(call.Object, call.Pos) != nil && c.p.objects[call.Object].model == "Regex" {
		fns, ok := c.callArgs("re.select", call.Pos, call.Args, []argSpec{{"text", vText}}, e)
		if !ok {
			return nil
		}
		ch.fn = fns[0]
		ch.res = []*regexp.Regexp{}
	} else {
		t, fn := c.expr(x.Expr, e)
		if t.k == vInvalid {
			return nil
		}
		if t.k != vText && t.k != vBytes {
			c.errs.Addf(posOf(x.Expr), "choice needs a Text expression, not %s", t.k)
			return nil
		}
		ch.fn = fn
	}
	// The choice's own line says what its expression was, when a rule of
	// the branch it took denies.
	c.explainers = nil
	var flow *flowModel
	if call != nil && call.Method == "query" {
		if o := c.p.objects[call.Object]; o != nil {
			flow, _ = o.m.(*flowModel)
		}
	}
	for _, a := range x.Alts {
		if flow != nil && !a.Default {
			c.state(flow, &Lit{Kind: LitString, Str: a.Value, Pos: a.Pos}, "choice alternative")
		}
		if a.Default {
			if ch.def != nil {
				c.errs.Addf(a.Pos, "choice has two _ alternatives")
			}
			ch.def = c.body(a.Body, e)
			continue
		}
		if ch.res != nil {
			re, err := compileWhole(a.Value)
			if err != nil {
				c.errs.Addf(a.Pos, "bad pattern %q: %v", a.Value, err)
				continue
			}
			ch.res = append(ch.res, re)
		}
		ch.alts = append(ch.alts, a)
		ch.bodies = append(ch.bodies, c.body(a.Body, e))
	}
	return ch
}
