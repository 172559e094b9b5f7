package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"capsim/diag"
	"capsim/idl"
	"capsim/policy"
	"capsim/scenario"
)

// Kernel is the task name of the kernel in edges and traces.
const Kernel = "kernel"

// CoreClass is the kernel's entity class.
const CoreClass = "kl.core.Core"

// Task is one task of the design: a scenario entity, or the kernel.
type Task struct {
	Name  string
	Class *idl.Class
	Host  string
}

// Edge is one kind of event between two tasks that the design makes
// possible, with what the policy says of it.
type Edge struct {
	Kind      policy.EventKind
	Src, Dst  string // task names; "kernel" for the kernel
	Endpoint  string // the server's endpoint ("" for execute)
	Interface string
	Method    string // "main" for execute
	Status    Status
	// Grants are the bindings that can grant the event; empty under the
	// allow-list of a scenario without a policy.
	Grants []diag.Pos
	// Channel says how the client holds its channel: "connection ID", or
	// "handle from TASK" for one that travelled in a message.
	Channel string
}

// String is the edge as counterexamples print it.
func (e *Edge) String() string {
	return fmt.Sprintf("%s -> %s: %s %s (%s)", e.Src, e.Dst, e.Kind, e.Op(), e.Status)
}

// Op is "endpoint.Method", or "main" for execute.
func (e *Edge) Op() string {
	if e.Endpoint == "" {
		return e.Method
	}
	return e.Endpoint + "." + e.Method
}

// Data reports whether the edge carries data between two entities (the
// kernel carries none).
func (e *Edge) Data() bool {
	return e.Status != Never && e.Kind != policy.Execute && e.Src != Kernel && e.Dst != Kernel
}

// Graph is a design's permission graph.
type Graph struct {
	Scenario *scenario.Scenario
	Tasks    []*Task
	Edges    []*Edge
	// Policy is the compiled policy; nil under the allow-list.
	Policy *policy.Policy

	tasks map[string]*Task
	index map[edgeKey]*Edge
}

type edgeKey struct {
	kind               policy.EventKind
	src, dst, ep, meth string
}

// Task returns the task with the given name, or nil.
func (g *Graph) Task(name string) *Task { return g.tasks[name] }

// Edge returns the edge of the given event, or nil when the design cannot
// produce the event at all (which is the same as a never edge).
func (g *Graph) Edge(kind policy.EventKind, src, dst, endpoint, method string) *Edge {
	return g.index[edgeKey{kind, src, dst, endpoint, method}]
}

// ClassFunc resolves an entity class; (*idl.Loader).Class is one.
type ClassFunc func(name string) (*idl.Class, error)

// Build computes the permission graph of a scenario under its compiled
// policy (nil: the allow-list of a scenario without a policy). classes
// resolves the entities' classes and kl.core.Core.
func Build(sc *scenario.Scenario, pol *policy.Policy, classes ClassFunc) (*Graph, error) {
	g := &Graph{Scenario: sc, Policy: pol, tasks: map[string]*Task{}, index: map[edgeKey]*Edge{}}
	core, err := classes(CoreClass)
	if err != nil {
		return nil, fmt.Errorf("verify: class %s: %w", CoreClass, err)
	}
	g.addTask(&Task{Name: Kernel, Class: core})
	var errs diag.List
	for i := range sc.Entities {
		e := &sc.Entities[i]
		cl, err := classes(e.Class)
		if err != nil {
			errs.Addf(e.KeyPos("class"), "entity %q: class %s: %v", e.Task, e.Class, err)
			continue
		}
		g.addTask(&Task{Name: e.Task, Class: cl, Host: e.Host})
	}
	g.checkAllowLists(&errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b := &builder{g: g, sc: sc, holds: map[string]map[string]string{}}
	if pol != nil {
		b.an = newAnalyzer(pol)
	}
	b.build()
	return g, nil
}

func (g *Graph) addTask(t *Task) {
	g.Tasks = append(g.Tasks, t)
	g.tasks[t.Name] = t
}

// builder computes the edges: the kernel's first, then every channel a
// task holds, until no handle can travel anywhere new.
type builder struct {
	g      *Graph
	sc     *scenario.Scenario
	an     *analyzer                    // nil under the allow-list
	holds  map[string]map[string]string // client → server → how
	conns  map[string]map[string]bool   // client → servers of its connections
	passes map[string]map[string]bool   // handles can travel from → to
	work   [][2]string
}

func (b *builder) build() {
	b.conns = map[string]map[string]bool{}
	b.passes = map[string]map[string]bool{}
	for i := range b.sc.Entities {
		e := &b.sc.Entities[i]
		b.conns[e.Task] = map[string]bool{}
		b.kernelEdges(e.Task, len(e.Connections) > 0)
	}
	for i := range b.sc.Entities {
		e := &b.sc.Entities[i]
		if !b.runs(e.Task) || !b.connects(e.Task) {
			continue // it never gets the handles of its connections
		}
		for _, c := range e.Connections {
			if !b.runs(c.Target) {
				continue
			}
			b.conns[e.Task][c.Target] = true
			b.hold(e.Task, c.Target, "connection "+c.ID)
		}
	}
	for len(b.work) > 0 {
		pair := b.work[0]
		b.work = b.work[1:]
		b.channelEdges(pair[0], pair[1])
	}
}

// runs reports whether the policy can let task t start: an entity whose
// execute is never granted makes no calls and serves none.
func (b *builder) runs(t string) bool {
	e := b.g.Edge(policy.Execute, Kernel, t, "", "main")
	return e != nil && e.Status != Never
}

// connects reports whether the policy can grant t a locator Connect, the
// only way to the handles of its connections. (Whether it can for each
// connection's id is not told apart.)
func (b *builder) connects(t string) bool {
	e := b.g.Edge(policy.Request, t, Kernel, "locator", "Connect")
	return e != nil && e.Status != Never
}

// hold records that client may hold a channel to server.
func (b *builder) hold(client, server, how string) {
	if b.holds[client] == nil {
		b.holds[client] = map[string]string{}
	}
	if had, ok := b.holds[client][server]; ok {
		// A second connection to the same server: the policy decides both
		// alike (it sees classes, not ids), so one set of edges names both.
		if id, isConn := strings.CutPrefix(how, "connection "); isConn && strings.HasPrefix(had, "connection ") {
			b.holds[client][server] = had + ", " + id
		}
		return
	}
	b.holds[client][server] = how
	b.work = append(b.work, [2]string{client, server})
	for _, to := range sortedKeys(b.passes[client]) {
		b.hold(to, server, "handle from "+client)
	}
}

// kernelEdges adds t's start-up and its calls of the kernel's services.
func (b *builder) kernelEdges(t string, hasConns bool) {
	task, k := b.g.tasks[t], b.g.tasks[Kernel]
	st, grants := b.verdict(policy.Execute, k, task, nil, nil, Always)
	b.add(&Edge{Kind: policy.Execute, Src: Kernel, Dst: t, Method: "main", Status: st, Grants: grants})
	if st == Never {
		return // it never runs, so it never calls the kernel
	}
	for _, ep := range k.Class.Endpoints {
		for _, m := range ep.Interface.Methods {
			allow := Always
			if ep.Name == "locator" && m.Name == "Connect" {
				allow = Never
				if hasConns {
					allow = May
				}
			}
			b.call(task, k, ep, m, allow, "")
		}
	}
}

// channelEdges adds the calls client can make on server's endpoints, and
// passes on the channels that can travel in them.
func (b *builder) channelEdges(client, server string) {
	c, s := b.g.tasks[client], b.g.tasks[server]
	how := b.holds[client][server]
	allow := Never
	if b.conns[client][server] {
		allow = Always
	}
	for _, ep := range s.Class.Endpoints {
		for _, m := range ep.Interface.Methods {
			b.call(c, s, ep, m, allow, how)
		}
	}
}

// call adds a request from c to s and its response and error back.
// allow is the allow-list's verdict on the request.
func (b *builder) call(c, s *Task, ep *idl.Endpoint, m *idl.Method, allow Status, how string) {
	st, grants := b.verdict(policy.Request, c, s, ep, m, allow)
	req := &Edge{Kind: policy.Request, Src: c.Name, Dst: s.Name, Endpoint: ep.Name, Interface: ep.Interface.Name,
		Method: m.Name, Status: st, Grants: grants, Channel: how}
	b.add(req)
	for _, kind := range []policy.EventKind{policy.Response, policy.Error} {
		rst, rgrants := b.verdict(kind, s, c, ep, m, Always)
		if st == Never { // no reply without a granted call
			rst, rgrants = Never, nil
		}
		b.add(&Edge{Kind: kind, Src: s.Name, Dst: c.Name, Endpoint: ep.Name, Interface: ep.Interface.Name,
			Method: m.Name, Status: rst, Grants: rgrants, Channel: how})
	}
	if st == Never || s.Name == Kernel || c.Name == Kernel {
		return
	}
	if carriesHandle(m.In) {
		b.pass(c.Name, s.Name)
	}
	for _, kind := range []policy.EventKind{policy.Response, policy.Error} {
		if e := b.g.index[edgeKey{kind, s.Name, c.Name, ep.Name, m.Name}]; e.Status != Never && carriesHandle(messageType(kind, m)) {
			b.pass(s.Name, c.Name)
		}
	}
}

// pass records that handles can travel from one task to another: every
// channel from holds, now or later, may reach to.
func (b *builder) pass(from, to string) {
	if b.passes[from][to] {
		return
	}
	if b.passes[from] == nil {
		b.passes[from] = map[string]bool{}
	}
	b.passes[from][to] = true
	for _, srv := range sortedKeys(b.holds[from]) {
		b.hold(to, srv, "handle from "+from)
	}
}

func (b *builder) verdict(kind policy.EventKind, src, dst *Task, ep *idl.Endpoint, m *idl.Method, allow Status) (Status, []diag.Pos) {
	if b.an == nil {
		return allow, nil
	}
	v := b.an.decide(kind, src.Class.Name, dst.Class.Name, ep, m)
	return v.status, v.grants
}

func (b *builder) add(e *Edge) {
	k := edgeKey{e.Kind, e.Src, e.Dst, e.Endpoint, e.Method}
	if _, ok := b.g.index[k]; ok {
		return
	}
	b.g.index[k] = e
	b.g.Edges = append(b.g.Edges, e)
}

// carriesHandle reports whether a value of type t can hold a handle.
func carriesHandle(t *idl.Type) bool {
	return t != nil && hasHandle(t, map[*idl.Type]bool{})
}

func hasHandle(t *idl.Type, seen map[*idl.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind {
	case idl.Handle:
		return true
	case idl.Array, idl.Sequence:
		return hasHandle(t.Elem, seen)
	case idl.Struct, idl.Union:
		for _, f := range t.Fields {
			if hasHandle(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
