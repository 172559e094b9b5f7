package policy

import "regexp"

// regexModel is the Regex model (`use nk.regex._` declares the object
// `re`): re.match {text, pattern} is true when the RE2 pattern matches the
// whole text; re.select {text} drives a choice whose alternatives are
// patterns.
type regexModel struct{}

func newRegexObject() *object { return &object{name: "re", model: "Regex", m: regexModel{}} }

func (regexModel) rule(c *compiler, r *Rule, e *env) ruleFn {
	c.errs.Addf(r.Pos, "re.%s is an expression, not a rule; use assert (re.match {...}) or choice (re.select {...})", r.Method)
	return nil
}

func (regexModel) expr(c *compiler, x *CallExpr, e *env) (ptype, exprFn) {
	switch x.Method {
	case "match":
	case "select":
		c.errs.Addf(x.Pos, "re.select is only allowed as the expression of a choice")
		return bad, nil
	default:
		c.errs.Addf(x.Pos, "Regex has no expression %s (match, select)", x.Method)
		return bad, nil
	}
	fns, ok := c.callArgs("re.match", x.Pos, x.Args, []argSpec{{"text", vText}, {"pattern", vText}}, e)
	if !ok {
		return bad, nil
	}
	lit, isLit := argExpr(x.Args, "pattern").(*StrLit)
	if !isLit {
		c.errs.Addf(posOf(argExpr(x.Args, "pattern")), "the pattern of re.match must be a string literal")
		return bad, nil
	}
	re, err := compileWhole(lit.Val)
	if err != nil {
		c.errs.Addf(lit.Pos, "bad pattern %q: %v", lit.Val, err)
		return bad, nil
	}
	return ptype{k: vBool}, func(f *frame) (value, error) {
		t, err := fns[0](f)
		if err != nil {
			return t, err
		}
		return boolVal(re.MatchString(t.s)), nil
	}
}

func (regexModel) save() any   { return nil }
func (regexModel) restore(any) {}

var _ model = regexModel{}

// compileWhole compiles an RE2 pattern that must match the whole text.
// The pattern is checked on its own first: wrapped unchecked, a stray ")"
// would close the anchoring group early and "abc)|(xyz" would compile as
// two half-anchored branches.
func compileWhole(pattern string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + pattern + `)$`)
}
