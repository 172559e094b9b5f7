package idl

import (
	"capsim/diag"
)

// EDL and CDL checking: endpoints, components (flattened depth-first) and
// the security interface.

// class loads a class by name, caching the result. Callers hold l.mu.
func (l *Loader) class(name string, from diag.Pos) *result[*Class] {
	if r, ok := l.classes[name]; ok {
		return r
	}
	r := &result[*Class]{}
	f, display := l.parseNamed(name, kindEDL, from, &r.errs)
	if f != nil {
		r = l.checkClass(f, display)
	}
	r.errs = finish(r.errs)
	l.classes[name] = r
	return r
}

// component loads a CDL component's flattened endpoints (names relative to
// the component, IDs unset). Callers hold l.mu.
func (l *Loader) component(name string, from diag.Pos) *result[[]*Endpoint] {
	if r, ok := l.comps[name]; ok {
		return r
	}
	r := &result[[]*Endpoint]{loading: true}
	l.comps[name] = r
	f, display := l.parseNamed(name, kindCDL, from, &r.errs)
	if f != nil {
		*r = *l.checkComponent(f, display)
	}
	r.loading = false
	r.errs = finish(r.errs)
	return r
}

func (l *Loader) checkClass(f *astFile, display string) *result[*Class] {
	r := &result[*Class]{}
	c := &Class{Name: f.Name.Name, File: display, Pos: f.Name.Pos}
	c.Endpoints = l.flatten(f, &r.errs)
	for i, ep := range c.Endpoints {
		ep.ID = i
	}
	if len(c.Endpoints) > 1<<16 {
		r.errs.Addf(f.Name.Pos, "class %s has %d endpoints, more than 65536", c.Name, len(c.Endpoints))
	}
	if f.Security != nil {
		c.Security = l.ifaceOf(*f.Security, &r.errs)
	}
	r.errs = finish(r.errs)
	if len(r.errs) == 0 {
		r.val = c
	}
	return r
}

func (l *Loader) checkComponent(f *astFile, display string) *result[[]*Endpoint] {
	r := &result[[]*Endpoint]{}
	self := l.comps[f.Name.Name]
	if self == nil { // an explicit file: mark it as loading for cycles
		l.comps[f.Name.Name] = &result[[]*Endpoint]{loading: true}
		defer delete(l.comps, f.Name.Name)
	}
	eps := l.flatten(f, &r.errs)
	r.errs = finish(r.errs)
	if len(r.errs) == 0 {
		r.val = eps
	}
	return r
}

// flatten lists the endpoints of an EDL or CDL file: its own in order, then
// each component's, depth-first, named "component.endpoint".
func (l *Loader) flatten(f *astFile, errs *diag.List) []*Endpoint {
	seen := map[string]diag.Pos{}
	dup := func(b astBinding, what string) bool {
		if prev, ok := seen[b.Name]; ok {
			errs.Addf(b.Pos, "duplicate %s name %s in %s (first at %s)", what, b.Name, f.Name.Name, prev)
			return true
		}
		seen[b.Name] = b.Pos
		return false
	}
	var out []*Endpoint
	for _, b := range f.Endpoints {
		if dup(b, "endpoint") {
			continue
		}
		if it := l.ifaceOf(b.Target, errs); it != nil {
			out = append(out, &Endpoint{Name: b.Name, Interface: it, Pos: b.Pos})
		}
	}
	for _, b := range f.Components {
		if dup(b, "component") {
			continue
		}
		cr := l.component(b.Target.Name, b.Target.Pos)
		switch {
		case cr.loading:
			errs.Addf(b.Target.Pos, "component %s contains itself (through %s)", b.Target.Name, f.Name.Name)
		case len(cr.errs) > 0:
			*errs = append(*errs, cr.errs...)
		default:
			for _, ep := range cr.val {
				out = append(out, &Endpoint{Name: b.Name + "." + ep.Name, Interface: ep.Interface, Pos: ep.Pos})
			}
		}
	}
	return out
}

// ifaceOf loads the interface of package q, reporting at q.
func (l *Loader) ifaceOf(q qname, errs *diag.List) *Interface {
	pr := l.pkg(q.Name, q.Pos)
	if pr.loading {
		errs.Addf(q.Pos, "package %s is still being loaded (import cycle)", q.Name)
		return nil
	}
	if len(pr.errs) > 0 {
		*errs = append(*errs, pr.errs...)
		return nil
	}
	if pr.val.Interface == nil {
		errs.Addf(q.Pos, "package %s declares no interface", q.Name)
		return nil
	}
	return pr.val.Interface
}

// Component returns the flattened endpoints of the CDL component name
// ("a.b.C" from a/b/C.cdl), named relative to it ("ep", "sub.ep"); their
// IDs are positions in that list.
func (l *Loader) Component(name string) ([]*Endpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.component(name, diag.Pos{})
	if r.err() != nil {
		return nil, r.err()
	}
	out := make([]*Endpoint, len(r.val))
	for i, ep := range r.val {
		cp := *ep
		cp.ID = i
		out[i] = &cp
	}
	return out, nil
}

// Lookup says what the roots hold under name: "package" (a/b/C.idl),
// "task class" (a/b/C.edl) or "component" (a/b/C.cdl), checked in that
// order; "" when none.
func (l *Loader) Lookup(name string) string {
	if !validName(name) {
		return ""
	}
	for _, k := range []fileKind{kindIDL, kindEDL, kindCDL} {
		if _, _, err := l.find(relPath(name, k)); err == nil {
			return kindWord[k]
		}
	}
	return ""
}
