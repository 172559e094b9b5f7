// Package entity is the TLS terminator program, capsim:tls (class
// kl.TlsEntity, seed 000): it serves the socket interface to its clients and
// uses the network backend its own VFS_NETWORK_BACKEND names, so a client
// gets TLS on the wire by pointing its VFS_NETWORK_BACKEND at this entity's
// channel, with no change to its code. Connect does a client handshake,
// Accept a server handshake, so one program serves both roles.
package entity
