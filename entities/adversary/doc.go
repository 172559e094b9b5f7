// Package adversary is capsim's built-in attacker, the program
// capsim:adversary (class capsim.Adversary). Its attacks target the
// kernel's IPC (malformed frames, forged and revoked handles, forged
// replies, floods, ...) and the entity's confinement (host files, host
// network, other processes, namespaces, capabilities). It prints one JSON
// line per attempt — {"attack", "outcome", "errno", "error"} with outcome
// "denied", "error", "succeeded" or "skipped" (an attempt whose target,
// such as --kernel-pid, was not given) — and exits 0 only when no attack
// succeeded.
package adversary
