package run

import (
	"fmt"
	"sort"

	"capsim/diag"
	"capsim/idl"
	"capsim/scenario"
)

// checkExpectNames checks the classes, endpoints, interfaces and methods
// that trace and audit expectations name against the scenario's classes
// (and the kernel's): a misspelt method would otherwise match nothing, and
// an expectation with max = 0 would hold for the wrong reason.
func checkExpectNames(sc *scenario.Scenario, classes func(string) (*idl.Class, error)) diag.List {
	known := map[string]map[string]bool{"class": {}, "endpoint": {}, "interface": {}, "method": {"main": true}}
	add := func(key, name string) { known[key][name] = true }
	names := []string{"kl.core.Core"}
	for _, e := range sc.Entities {
		names = append(names, e.Class)
	}
	for _, n := range names {
		c, err := classes(n)
		if err != nil {
			continue // reported with the classes
		}
		add("class", c.Name)
		ifaces := []*idl.Interface{}
		for _, ep := range c.Endpoints {
			add("endpoint", ep.Name)
			ifaces = append(ifaces, ep.Interface)
		}
		if c.Security != nil {
			ifaces = append(ifaces, c.Security)
		}
		for _, it := range ifaces {
			add("interface", it.Name)
			for _, m := range it.Methods {
				add("method", m.Name)
			}
		}
	}
	var errs diag.List
	for i := range sc.Expects {
		e := &sc.Expects[i]
		for what, m := range map[string]*scenario.Match{"trace": e.Trace, "audit": e.Audit} {
			if m == nil {
				continue
			}
			for _, f := range []struct {
				key, kind string
				v         *string
			}{{"src_class", "class", m.SrcClass}, {"dst_class", "class", m.DstClass}, {"endpoint", "endpoint", m.Endpoint},
				{"interface", "interface", m.Interface}, {"method", "method", m.Method}} {
				if f.v == nil || known[f.kind][*f.v] {
					continue
				}
				list := sortedSet(known[f.kind])
				errs.Addf(m.KeyPos(f.key), "[[expect]] %s: %s %q is no %s of the scenario's classes%s",
					what, f.key, *f.v, f.kind, didYouMean(*f.v, list))
			}
		}
	}
	errs.Sort()
	return errs
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// didYouMean suggests the closest of names to s, when one is close.
func didYouMean(s string, names []string) string {
	if best, ok := diag.Closest(s, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
