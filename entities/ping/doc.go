// Package ping is capsim:ping: ICMP echo through the entity's network
// backend, as ping(8) does with an ICMP datagram socket.
package ping
