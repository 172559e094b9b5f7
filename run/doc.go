// Package run turns a scenario into a running system: it loads the
// scenario's IDL and policy, resolves each entity's program, hands the kernel
// its configuration, waits for the main entities, and checks the scenario's
// expectations. `capsim run` and `capsim test` are thin shells around it.
package run
