// Package builtin lists every program built into the capsim binary, so the
// command, and tests that start entities from their own binary, share one
// registry.
package builtin
