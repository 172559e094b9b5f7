// Package vnet is capsim's virtual network: the switch that joins the
// simulated hosts' network interfaces, the impairments it injects on each
// link, the packet capture it writes, and the host gateway that bridges the
// simulation and the real machine's loopback.
//
// The kernel owns a [Network]. Each simulated link (a segment) joins two or
// more ports; [Network.AddPort] makes a SOCK_SEQPACKET socket pair, keeps one
// end for the switch and returns the other, which the kernel hands to the
// host's netstack entity (gVisor's fdbased endpoint reads and writes whole
// Ethernet frames on it). The switch learns source MAC addresses per segment
// and floods broadcast, multicast and unknown destinations.
//
// Impairments (loss, duplication, delay, jitter, reordering, a bit-rate cap
// and a partition/heal schedule) are applied per segment, drawn from random
// sources seeded by [Config.Seed] per (segment, ingress port), so the same
// frames sent on the same port meet the same fate in every run.
//
// The capture point is the switch ingress: every frame a host put on the
// link, before impairments (a lost frame is in the capture, and its
// retransmission too). [Config.Pcap] names the pcap file; with several
// segments the segment name is inserted before the extension
// ("run.pcap" becomes "run-wan.pcap"). The same frames are kept in memory
// (bounded per segment) for [Network.Contains].
//
// [Network.Stats] counts what each segment did (frames, deliveries, floods
// and every kind of drop), so tests and expectations can assert on frame
// counts rather than timing; [Config.OnEvent] reports partitions and heals.
//
// A caveat for whoever owns a port's other end: gVisor's fdbased endpoint in
// RecvMMsg mode spins forever once the socket's peer closes (recvmmsg then
// returns batches of empty messages) and Stack.Destroy never returns. Destroy
// such a stack (or end its process) before [Network.Close], or use the Readv
// dispatch mode, which stops at end of file.
//
// The host gateway ([Network.AddGateway]) is a small gVisor stack in the
// kernel's process, attached to a segment as one more port. A [Forward]
// carries real TCP connections from a loopback listener into a simulated
// host; an [Egress] lets declared simulated hosts reach a real loopback
// service. Traffic between the two worlds always passes through the
// simulated stacks and the switch, never around them.
//
// The package imports nothing of capsim's, so the kernel can own the switch
// while the netstack entity program lives beside it.
package vnet
