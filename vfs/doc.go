// Package vfs holds the file side of capsim's VFS entity: the file systems it
// mounts (ramfs in memory, hostdir and romfs over a directory descriptor the
// kernel hands over), the mount table that routes a client path to one of
// them, and the per-client descriptor tables that serve the capsim.File
// interface (idl/capsim/File.idl).
//
// The package has no IPC in its core: Files is called with a client id (the
// IPC badge's ID) and returns syscall.Errno errors, so an IPC server (see
// NewFileServer) and in-process tests share one implementation. NewFS turns
// any FileAPI — a Files bound to one client, or an IPC client of capsim.File —
// into an io/fs.FS for ordinary Go code such as net/http.FileServer.
//
// Confinement: hostdir and romfs never open host paths by name. Every lookup
// goes through openat2(2) relative to the mount's directory descriptor with
// RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS, and every other call uses the *at
// syscalls on a descriptor obtained that way with a single-component name.
// A symlink that would leave the mount (absolute, or relative through "..")
// fails with EACCES; the kernel's EXDEV is reported as EACCES so that clients
// see one errno for "outside the mount", the one a permission check gives.
// Client paths are cleaned lexically inside the mount table first, so ".."
// can never climb above "/" nor out of a mount.
package vfs
