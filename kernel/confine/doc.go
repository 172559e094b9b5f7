// Package confine confines capsim's entities before their own code runs.
//
// The kernel hands every entity's command to a Confiner (kernel.Confiner).
// The Confiner rewrites it so that the capsim binary itself starts first,
// as "capsim-trampoline", in new user, PID, network, IPC, UTS and mount
// namespaces, inside a per-entity cgroup when the entity has memory or CPU
// limits. The trampoline (MainIfTrampoline, which every binary that starts
// entities calls first in main or TestMain) then, on one locked OS thread:
// joins its cgroups, mounts a /proc of its own PID namespace, drops every
// capability and switches to an unprivileged id, sets no_new_privs and
// dumpable 0 (which the exec resets for the program), applies a Landlock
// ruleset (the program's executable and, for a dynamic one, its loader and libraries; the directories and files the
// kernel handed over; /proc read-only; no TCP bind or connect; the signal
// and abstract-socket scopes) and a seccomp filter (no ptrace, mount,
// setns, unshare, bpf, keyctl, ...), marks every descriptor above the
// granted ones close-on-exec, and executes the program. Landlock and
// seccomp survive the exec; the program is PID 1 and the only process of
// its namespace.
//
// The probe that decides what the machine allows runs once per Confiner,
// as a trampoline that reports instead of executing. IsolateAuto applies
// what the probe found and says once what it could not; IsolateOn fails
// the start instead; IsolateOff leaves the command alone.
package confine
