package verify

import (
	"errors"
	"fmt"

	"capsim/diag"
	"capsim/idl"
	"capsim/policy"
	"capsim/scenario"
)

// Roots returns the IDL, EDL and policy search path of a scenario, as a
// run uses it: the scenario folder, its idl_path, the built-in idl/.
func Roots(sc *scenario.Scenario) []idl.Root {
	roots := []idl.Root{idl.DirRoot(sc.Dir)}
	for _, d := range sc.IDLPath {
		roots = append(roots, idl.DirRoot(sc.Path(d)))
	}
	return append(roots, idl.BuiltinRoot())
}

// Load reads the scenario at path (a folder or a .toml file), compiles its
// policy and builds its permission graph. Errors in the scenario, its
// classes or its policy are positioned (a diag.List).
func Load(path string) (*Graph, error) {
	sc, err := scenario.Load(path)
	if err != nil {
		return nil, WithClassErrors(sc, err)
	}
	return Prepare(sc)
}

// CheckClasses reports the entities whose class is not on the scenario's
// IDL search path, with a did-you-mean.
func CheckClasses(sc *scenario.Scenario) diag.List {
	return ClassErrors(sc, idl.NewLoader(Roots(sc), idl.Options{}))
}

// ClassErrors is CheckClasses with the caller's loader (whose cache the
// caller then uses).
func ClassErrors(sc *scenario.Scenario, loader *idl.Loader) diag.List {
	var errs diag.List
	for i := range sc.Entities {
		e := &sc.Entities[i]
		if _, err := loader.Class(e.Class); err != nil {
			errs.Addf(e.KeyPos("class"), "entity %q: class %s: %v", e.Task, e.Class, err)
		}
	}
	return errs
}

// WithClassErrors adds the class errors of a scenario that failed to load
// (sc may be nil) to its errors, so that every error is told at once.
func WithClassErrors(sc *scenario.Scenario, err error) error {
	var l diag.List
	if sc == nil || !errors.As(err, &l) {
		return err
	}
	l = append(append(diag.List(nil), l...), CheckClasses(sc)...)
	l.Sort()
	return l.Err()
}

// Prepare compiles a loaded scenario's policy and builds its graph.
func Prepare(sc *scenario.Scenario) (*Graph, error) {
	roots := Roots(sc)
	loader := idl.NewLoader(roots, idl.Options{})
	var pol *policy.Policy
	if sc.Policy != "" {
		p, err := policy.Compile(sc.Path(sc.Policy), policy.Options{Roots: roots, Loader: loader, SkipTests: true})
		if err != nil {
			return nil, err
		}
		pol = p
	}
	return Build(sc, pol, loader.Class)
}

// EventRef names an event as a trace record does: kind "execute",
// "request", "response", "error" or "security"; src and dst task names
// ("kernel" for the kernel); the server's endpoint and the method.
type EventRef struct {
	Kind, Src, Dst, Endpoint, Method string
}

// Check returns an error when a granted event lies on an edge the graph
// says is never granted (or that the design cannot produce at all): a
// capsim bug, in the policy engine, the kernel or this analysis. Security
// events, which join no two tasks, always pass.
func (g *Graph) Check(ev EventRef) error {
	var kind policy.EventKind
	switch ev.Kind {
	case "execute":
		kind = policy.Execute
		ev.Src, ev.Endpoint, ev.Method = Kernel, "", "main"
	case "request":
		kind = policy.Request
	case "response":
		kind = policy.Response
	case "error":
		kind = policy.Error
	case "security":
		return nil
	default:
		return fmt.Errorf("verify: event kind %q is not decided by the policy", ev.Kind)
	}
	e := g.Edge(kind, ev.Src, ev.Dst, ev.Endpoint, ev.Method)
	if e == nil {
		return fmt.Errorf("verify: granted %s %s -> %s %s.%s is not an edge of the permission graph", ev.Kind, ev.Src, ev.Dst, ev.Endpoint, ev.Method)
	}
	if e.Status == Never {
		return fmt.Errorf("verify: granted %s %s -> %s %s lies on a never edge of the permission graph", ev.Kind, ev.Src, ev.Dst, e.Op())
	}
	return nil
}
