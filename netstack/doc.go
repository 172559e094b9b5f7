// Package netstack is the TCP/IP stack of one simulated capsim host and the
// socket semantics the netstack entity serves over IPC.
//
// A Host wraps a gVisor tcpip stack (IPv4, IPv6, ARP, ICMP echo, TCP, UDP)
// whose one NIC is a SOCK_SEQPACKET socket that carries Ethernet frames;
// the other end of that socket belongs to the kernel's virtual switch
// (package netstack/vnet). The NIC sends through gVisor's fdbased endpoint
// behind a FIFO queue (batches of frames per sendmmsg) and receives through
// Go's poller (link.go, package netstack/mmsg). A loopback NIC serves
// 127.0.0.1 and ::1.
//
// Sockets keeps one descriptor table per client (the IPC badge's ID) and
// offers the methods of the capsim.Socket IDL with Linux errno results
// (syscall.Errno). Blocking calls block only the calling goroutine and end
// when their context is cancelled; NewServer adapts Sockets to the generated
// capsim.Socket server interface.
//
// gVisor types stay behind this package's API: callers see netip addresses,
// byte slices, Linux constants and errnos.
package netstack
