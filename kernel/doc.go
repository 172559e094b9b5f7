// Package kernel is capsim's simulated microkernel: it starts every entity
// as an isolated child process, owns every kernel object (channels and the
// handles that name them), carries every message between entities and asks
// the security module to decide each one before it is delivered.
//
// The kernel speaks the frame format of package ipc on one SOCK_SEQPACKET
// socket per entity. A frame is handled in the goroutine that read it — read,
// look up the handle, validate against the IDL, decide, write to the peer's
// socket — with no hand-off through a central dispatcher, and writes never
// block that goroutine: what a receiver cannot take now waits in its bounded
// queue (see conn.go).
//
// The kernel knows nothing of scenario files: package run (cmd/capsim)
// turns a scenario into a Config.
package kernel
