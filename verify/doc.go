// Package verify proves a scenario's security goals from its policy,
// statically: it builds the permission graph — every edge (source task →
// destination task, endpoint.method, event kind) that the scenario's
// channels, the channel handles that can travel in messages and the kernel
// make possible, each with the status the compiled policy gives it
// (always, may or never) and the bindings that grant it — and checks the
// scenario's [[property]] goals (only_through, no_path, calls, tcb) on it,
// with a counterexample path for each goal that fails.
//
// The analysis is sound: an edge marked never is never granted at run
// time. Where it cannot tell (regexes, arithmetic, HashSet and StaticMap
// state), it says may. Graph.Check lets a run confirm that every granted
// event lies on an edge the graph allows.
package verify
