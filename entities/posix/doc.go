// Package posix is the client API an application entity uses for its
// network and file calls: POSIX-shaped calls that go, over IPC, to the
// backend its environment names — VFS_NETWORK_BACKEND=client:<channel> for
// sockets, VFS_FILESYSTEM_BACKEND=client:<channel> for files, as in
// KasperskyOS — plus adapters so that ordinary Go code runs unchanged:
// net.Conn, net.Listener, a DialContext for http.Transport, fs.FS and an
// os.File-like File.
//
// Any server of capsim.Socket will do — the netstack, a kl.VfsNet or a
// kl.TlsEntity — which is what lets a scenario swap the backend and keep the
// code. Errors are Linux errno values (errors.Is(err, syscall.ECONNREFUSED)).
// A missing or malformed backend variable is an error at the first call,
// naming the variable.
package posix
