package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"capsim/idl"
)

// auditKSS says which decisions of one object's rules a level audits.
type auditKSS struct{ granted, denied bool }

func (c *compiler) auditProfile(a *AuditProfile) {
	if old, ok := c.p.auditProfile[a.Name]; ok {
		c.errs.Addf(a.Pos, "audit profile %s declared twice (first at %s)", a.Name, old.Pos)
		return
	}
	if a.Value.Kind != LitRecord {
		c.errs.Addf(a.Value.Pos, "an audit profile is { LEVEL : { OBJECT : { kss : [...] } } }")
		return
	}
	c.p.auditProfile[a.Name] = a
	for _, lv := range a.Value.Fields {
		if _, err := strconv.ParseInt(lv.Key, 10, 64); err != nil {
			c.errs.Addf(lv.Pos, "audit level %q must be an integer", lv.Key)
		}
		c.auditLevel(lv.Value)
	}
}

// auditLevel checks and reads one level of a profile.
func (c *compiler) auditLevel(l *Lit) map[string]auditKSS {
	out := map[string]auditKSS{}
	if l.Kind != LitRecord {
		c.errs.Addf(l.Pos, "an audit level is { OBJECT : { kss : [...] } }")
		return out
	}
	for _, obj := range l.Fields {
		if _, ok := c.p.objects[obj.Key]; !ok && obj.Key != "base" {
			c.errs.Addf(obj.Pos, "audit of unknown object %s (%s)", obj.Key, suggest(obj.Key, append(keys(c.p.objects), "base")))
		}
		if obj.Value.Kind != LitRecord {
			c.errs.Addf(obj.Value.Pos, "expected { kss : [\"granted\", \"denied\"] }")
			continue
		}
		var kss auditKSS
		for _, f := range obj.Value.Fields {
			if f.Key != "kss" {
				c.errs.Addf(f.Pos, "unknown audit key %s (kss is the only one)", f.Key)
				continue
			}
			for _, s := range c.litStrings(f.Value, "kss") {
				switch s {
				case "granted":
					kss.granted = true
				case "denied":
					kss.denied = true
				default:
					c.errs.Addf(f.Value.Pos, "kss takes \"granted\" and \"denied\", not %q", s)
				}
			}
		}
		out[obj.Key] = kss
	}
	return out
}

// checkAudit resolves `audit default` once every declaration is known.
func (c *compiler) checkAudit() {
	d := c.p.auditDefault
	if d == nil {
		return
	}
	prof, ok := c.p.auditProfile[d.Profile]
	if !ok {
		c.errs.Addf(d.Pos, "unknown audit profile %s (%s)", d.Profile, suggest(d.Profile, keys(c.p.auditProfile)))
		return
	}
	lv := prof.Value.Field(strconv.FormatInt(d.Level, 10))
	if lv == nil {
		c.errs.Addf(d.Pos, "audit profile %s has no level %d", d.Profile, d.Level)
		return
	}
	var scratch compiler
	scratch.p = c.p
	c.p.auditLevel = scratch.auditLevel(lv)
}

// Audited reports whether a decision goes to the audit log: denials of
// invalid messages and of events no rule decided always do; otherwise the
// default audit profile's level decides by the objects of the called
// rules. A policy without `audit default` audits every denial.
func (p *Policy) Audited(ev *Event, d Decision) bool {
	if !d.Grant && (d.Reason == "no rule" || strings.HasPrefix(d.Reason, "invalid message")) {
		return true
	}
	if p.auditLevel == nil {
		return !d.Grant
	}
	for _, r := range d.Rules {
		kss := p.auditLevel[r.Object]
		if d.Grant && kss.granted || !d.Grant && kss.denied {
			return true
		}
	}
	return false
}

// Explain says in words how a decision came about: the bindings that
// applied, every called rule with its verdict, or that nothing matched.
func (p *Policy) Explain(ev *Event, d Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s src=%s dst=%s", ev.Kind, ev.Src.Class, ev.Dst.Class)
	if ev.Endpoint != "" {
		fmt.Fprintf(&b, " endpoint=%s", ev.Endpoint)
	}
	if m := methodName(ev); m != "" {
		fmt.Fprintf(&b, " method=%s", m)
	}
	verdict := "granted"
	if !d.Grant {
		verdict = "denied: " + d.Reason
	}
	fmt.Fprintf(&b, ": %s\n", verdict)
	switch {
	case strings.HasPrefix(d.Reason, "invalid message"):
		b.WriteString("  the message does not fit the method; no rule ran\n")
		return b.String()
	case len(d.Bindings) == 0:
		sel := p.lookup(ev)
		if len(sel) == 0 {
			b.WriteString("  no binding matched this event\n")
			return b.String()
		}
		f := &frame{ev: ev}
		for _, x := range sel {
			misses := choiceMisses(f, x.body, nil)
			if len(misses) == 0 {
				fmt.Fprintf(&b, "  binding at %s matched the event, but none of its match sections did\n", x.b.Pos)
				continue
			}
			fmt.Fprintf(&b, "  binding at %s matched the event, but called no rule\n", x.b.Pos)
			for _, m := range misses {
				fmt.Fprintf(&b, "    where %s\n", m)
			}
		}
		b.WriteString("  so no rule ran\n")
		return b.String()
	}
	for _, pos := range d.Bindings {
		fmt.Fprintf(&b, "  binding at %s matched\n", pos)
	}
	for _, r := range d.Rules {
		v := "grant"
		if !r.Grant {
			v = "deny"
		}
		fmt.Fprintf(&b, "    %s: %s → %s", r.Pos, r.Text, v)
		if r.Err != "" {
			fmt.Fprintf(&b, " (%s)", r.Err)
		}
		b.WriteString("\n")
		if !r.Grant {
			for _, fv := range messageValues(ev, r.Text) {
				fmt.Fprintf(&b, "      where %s\n", fv)
			}
			for _, w := range r.Where() {
				fmt.Fprintf(&b, "      where %s\n", w)
			}
		}
	}
	return b.String()
}

// messageRef is a message field a rule's text names, message.a.b.
var messageRef = regexp.MustCompile(`\bmessage(\.[A-Za-z_][A-Za-z0-9_]*)+`)

// messageValues are "message.a.b = VALUE" for each message field the text
// of a denying rule names, so that an explanation shows what the rule
// compared.
func messageValues(ev *Event, text string) []string {
	if ev.Message == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, ref := range messageRef.FindAllString(text, -1) {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		var v any = ev.Message
		for _, name := range strings.Split(ref, ".")[1:] {
			sv, ok := v.(*idl.StructValue)
			if !ok {
				v = nil
				break
			}
			if v, ok = sv.Get(name); !ok {
				break
			}
		}
		if v != nil {
			out = append(out, fmt.Sprintf("%s = %s", ref, showValue(v)))
		}
	}
	return out
}

// showValue prints a decoded message value briefly.
func showValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []byte:
		if len(v) > 32 {
			return fmt.Sprintf("%x... (%d bytes)", v[:32], len(v))
		}
		return fmt.Sprintf("%x (%d bytes)", v, len(v))
	case []any:
		return fmt.Sprintf("%d elements", len(v))
	case *idl.UnionValue:
		return "variant " + v.Variant()
	case *idl.StructValue:
		return "a struct"
	}
	return fmt.Sprint(v)
}

// Release is called by the kernel when the entity or object with this SID
// is gone. Model state is kept: as in KasperskyOS only the policy's own
// rules (fini) change it, so nothing model-visible is dropped.
func (p *Policy) Release(sid SID) {}

// saveState copies the state of every model object.
func (p *Policy) saveState() []any {
	out := make([]any, len(p.objectOrder))
	for i, o := range p.objectOrder {
		out[i] = o.m.save()
	}
	return out
}

// restoreState puts back a state saveState made.
func (p *Policy) restoreState(s []any) {
	for i, o := range p.objectOrder {
		o.m.restore(s[i])
	}
}

// Reset puts every model object back to its state right after Compile.
func (p *Policy) Reset() { p.restoreState(p.snapshot) }
