// Package entity is the VFS entity program, capsim:vfs. It serves whatever
// its class's EDL declares: the file interface (capsim.File) over the file
// systems its scenario mounts, and the socket interface (capsim.Socket) as
// a network backend that forwards every call to the host's netstack entity
// over the channel NETSTACK_BACKEND names. One task may serve both.
package entity
