// Package policy is capsim's security module: a PSL-like policy language,
// compiled once and consulted for every execute, request, response, error
// and security event the kernel carries (REFERENCE §1–2).
//
// The compiler is staged: scan → parse (an exported AST, for static tools)
// → resolve (`use nk.X._` built-in modules, `use a.b.c._` policy files
// found as a/b/c.psl through Options.Roots, `use EDL a.b.C` through the idl
// Loader) → check (selectors, message fields and expression types against
// the EDL/IDL schema, model configuration, PAL cases) → index (bindings by
// event kind, classes, endpoint and method) → closures that evaluate rules.
// Errors are a diag.List of "file:line:col: message", sorted.
//
// Decide follows REFERENCE §2: every binding whose selectors match applies,
// in source order (a used file's bindings at its use line); every called
// rule runs, even after a deny; the event is granted only when at least
// one rule was called and all called rules granted; no rule means "no
// rule". An expression error (unknown SID, index out of range, missing key,
// overflow, division by zero, a union variant that is not set) makes its
// rule deny. Integers are 64-bit signed; a UInt64 field above MaxInt64
// compares correctly but is an overflow in arithmetic.
//
// Finding an event's bindings is a lookup keyed on (kind, src class, dst
// class, endpoint, interface, method), cached lock-free per key; rules are
// evaluated on every decision. Model objects (Flow, HashSet, StaticMap;
// Regex as the built-in object `re`) keep their state per SID inside the
// Policy, each behind its own mutex; state changes stand even when another
// rule denies the event.
//
// Audit: Audited always logs denials of invalid messages and of events no
// rule decided; otherwise the `audit default = PROFILE LEVEL` level decides
// by the objects of the called rules ("base" for grant, deny and assert).
// A policy without `audit default` audits every denial and no grant.
//
// PAL `assert` blocks of the main file are policy tests: RunTests (capsim
// policy test) runs each sequence after its set's setup and before its
// finally, from the state right after Compile (SIDs, model state and pools),
// and restores that state afterwards. Assert blocks of used files are not
// run.
package policy
