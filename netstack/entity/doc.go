// Package entity is the netstack entity program, capsim:netstack: one
// simulated host's TCP/IP stack (gVisor's tcpip) serving the socket
// interface (capsim.Socket) to its clients over IPC. Its NIC is a packet
// socket the kernel opened and handed over as a descriptor; the other end
// belongs to the kernel's virtual switch.
package entity
