// Package policy is capsim's security module: a PSL-like policy language,
// compiled once and consulted for every execute, request, response, error
// and security event the kernel carries.
//
// The compiler is staged like a compiler of any language: scan → parse
// (AST, exported for static tools) → resolve (`use` of built-in modules,
// policy files and EDL classes) → check (selectors and message fields
// against the EDL/IDL schema, expression types, model configuration) →
// index (bindings by event kind, classes, endpoint and method) → closures
// that evaluate rules. Errors are a diag.List of "file:line:col: message".
//
// Decide follows REFERENCE §2: every binding that matches an event applies,
// in source order; every called rule runs; the event is granted only when
// at least one rule was called and all called rules granted. Security
// models (Flow, HashSet, StaticMap, Regex) keep their state per SID inside
// the Policy. PAL `assert` blocks in a policy file are policy tests, run by
// RunTests (`capsim policy test`).
package policy
