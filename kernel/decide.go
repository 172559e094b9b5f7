package kernel

import (
	"fmt"

	"capsim/policy"
)

// decideCtx is what the allow-list needs beyond the event: the tasks, and
// for a locator call the channel id asked for.
type decideCtx struct {
	src, dst  *task
	connectID *string
}

// decide asks the security module. The allow-list reads the context; a
// compiled policy sees only the event. A security module that panics is a
// capsim bug: the event is denied (the kernel fails closed) and the run
// goes on, saying so.
func (k *Kernel) decide(ev *policy.Event, dc decideCtx) (d policy.Decision) {
	defer func() {
		if r := recover(); r != nil {
			d = policy.Decision{Reason: fmt.Sprintf("policy error: %v", r)}
			k.notice(fmt.Sprintf("capsim bug: the security module failed deciding a %s event (%v); the event is denied", ev.Kind, r))
		}
	}()
	if al, ok := k.policy.(*allowList); ok {
		return al.decide(ev, dc)
	}
	return k.policy.Decide(ev)
}

// emitDecision completes rec with d, traces it, audits it and explains a
// deny when asked to.
func (k *Kernel) emitDecision(rec *Record, ev *policy.Event, d policy.Decision) {
	rec.Decision = "grant"
	if !d.Grant {
		rec.Decision = "deny"
		rec.Reason = d.Reason
	}
	k.emit(rec)
	audited := !d.Grant
	if k.cfg.Audited != nil {
		audited = k.cfg.Audited(ev, d)
	}
	if audited && k.cfg.Audit != nil {
		a := *rec
		for _, r := range d.Rules {
			verdict := "grant"
			if !r.Grant {
				verdict = "deny"
			}
			s := fmt.Sprintf("%s: %s: %s", r.Pos, verdict, r.Text)
			if r.Err != "" {
				s += " (" + r.Err + ")"
			}
			a.Rules = append(a.Rules, s)
		}
		k.cfg.Audit.Record(&a)
	}
	if !d.Grant && k.cfg.Explain != nil {
		if text := k.cfg.Explain(ev, d); text != "" {
			what := rec.Method
			if rec.Endpoint != "" {
				what = rec.Endpoint + "." + rec.Method
			}
			fmt.Fprintf(k.output(), "capsim: explain: %s %s -> %s %s denied:\n%s\n", rec.Kind, rec.Src, rec.Dst, what, text)
		}
	}
}

// allowList is the security module of a scenario without a policy: every
// entity may start; a client may call the servers its connections reach
// and use the locator for its own connections; replies flow back; nothing
// else.
type allowList struct{ k *Kernel }

var (
	allowGrant  = policy.Decision{Grant: true}
	allowNoRule = policy.Decision{Reason: "no rule"}
)

func (a *allowList) Decide(ev *policy.Event) policy.Decision { return a.decide(ev, decideCtx{}) }

func (a *allowList) decide(ev *policy.Event, dc decideCtx) policy.Decision {
	switch ev.Kind {
	case policy.Execute, policy.Response, policy.Error:
		return allowGrant
	case policy.Request:
		if ev.Dst.SID == coreSID {
			if dc.connectID == nil {
				return allowGrant // Endpoint, Close, Dup, Exit: on the caller's own handles
			}
			if dc.src != nil {
				if _, ok := dc.src.conns[*dc.connectID]; ok {
					return allowGrant
				}
			}
			return allowNoRule
		}
		if dc.src != nil && dc.dst != nil {
			for _, c := range dc.src.conns {
				if c.server == dc.dst {
					return allowGrant
				}
			}
		}
	}
	return allowNoRule
}
