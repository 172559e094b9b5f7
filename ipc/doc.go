// Package ipc defines the frame that crosses an entity's kernel socket: the
// one wire format that the kernel (package kernel), the entity runtime
// (package entities) and code generated from IDL (package idl/gen/golang)
// agree on.
//
// A frame is one SOCK_SEQPACKET message: a fixed 32-byte little-endian
// header, the handle slots of the message, then the IDL-encoded payload.
// Handle-typed IDL fields hold slot indices, never raw handle numbers, so the
// kernel rewrites only the slot table when it moves handles between entities.
//
//	off size field
//	  0    1 Kind      Call, Reply, Cancel, Badge or Gone
//	  1    1 Flags     reserved, zero
//	  2    2 NHandles  handle slots that follow the header
//	  4    4 Handle    Call from a client: the channel handle (0 is the kernel);
//	                   Call delivered to a server: the caller's badge
//	  8    8 Txn       transaction id; a Reply carries the Txn of its Call
//	 16    2 Endpoint  the endpoint's number (RIID) in the server's class
//	 18    2 Method    the method's number (MID) in the endpoint's interface
//	 20    4 Status    Reply: OK, AppError or a kernel status
//	 24    8 Deadline  Call: absolute deadline in Unix nanoseconds, 0 for none
//	 32  8*N handle slots: (u32 handle, u32 rights)
//	  …      payload
package ipc
