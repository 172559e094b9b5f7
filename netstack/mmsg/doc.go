// Package mmsg moves batches of frames through a datagram or seqpacket
// socket with one recvmmsg(2) or sendmmsg(2) each: the netstack's NIC
// reads with it, and the virtual switch reads and forwards with it. The
// calls are raw and non-blocking — they cannot block, so they need no
// scheduler hand-off and leave the Go runtime's monitor thread asleep (see
// ipc/sock.go); callers wait for readiness in Go's poller.
package mmsg
