package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind says what a frame is.
type Kind uint8

const (
	KindInvalid Kind = iota
	// KindCall is a request: client → kernel → server.
	KindCall
	// KindReply answers a Call: server → kernel → client.
	KindReply
	// KindCancel tells a server that the kernel dropped a call it holds
	// (the caller died, cancelled or passed its deadline). Txn names it.
	KindCancel
	// KindBadge introduces a caller to a server before its first request;
	// the payload is an encoded Badge.
	KindBadge
	// KindGone tells a server that the caller behind a badge (Handle) has
	// ended: whatever the server keeps for it may go. A restarted caller
	// comes back under a new badge.
	KindGone
)

var kindNames = [...]string{"invalid", "call", "reply", "cancel", "badge", "gone"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// HeaderSize is the size of the fixed frame header.
const HeaderSize = 32

// SlotSize is the size of one handle slot.
const SlotSize = 8

// DefaultMaxMessage is the default largest payload the kernel carries (4 MiB,
// as the real system caps a message at a few MB).
const DefaultMaxMessage = 4 << 20

// MaxHandles is the largest number of handles one message may carry.
const MaxHandles = 64

// Handle is an entity-local number naming a kernel object. Handle 0 is the
// entity's channel to the kernel itself.
type Handle uint32

// KernelHandle names the kernel (class kl.core.Core) in every entity.
const KernelHandle Handle = 0

// Rights is a handle's rights mask.
type Rights uint32

const (
	// RightCall allows calls on a channel handle.
	RightCall Rights = 1 << iota
	// RightTransfer allows passing the handle in a message.
	RightTransfer
	// RightDup allows duplicating the handle with Handles.Dup.
	RightDup

	// RightsAll is every right capsim defines.
	RightsAll = RightCall | RightTransfer | RightDup
)

// Slot is one handle carried by a message: in a sent frame the sender's
// handle and the rights it passes on; in a received frame the receiver's new
// handle and the rights it got.
type Slot struct {
	Handle Handle
	Rights Rights
}

// Header is the fixed part of a frame.
type Header struct {
	Kind     Kind
	Flags    uint8
	NHandles uint16
	Handle   uint32
	Txn      uint64
	Endpoint uint16
	Method   uint16
	Status   Status
	Deadline int64
}

// Frame is a decoded frame. Payload and Slots alias the buffer it was
// decoded from.
type Frame struct {
	Header
	Slots   []Slot
	Payload []byte
}

// Errors of frame decoding.
var (
	ErrShort    = errors.New("frame shorter than its header")
	ErrKind     = errors.New("unknown frame kind")
	ErrFlags    = errors.New("reserved flags set")
	ErrHandles  = errors.New("handle slots exceed the frame")
	ErrTooMany  = errors.New("too many handles in one message")
	ErrTooLarge = errors.New("payload exceeds the maximum message size")
)

// PutHeader writes h into the first HeaderSize bytes of b.
func PutHeader(b []byte, h *Header) {
	_ = b[HeaderSize-1]
	b[0] = byte(h.Kind)
	b[1] = h.Flags
	binary.LittleEndian.PutUint16(b[2:], h.NHandles)
	binary.LittleEndian.PutUint32(b[4:], h.Handle)
	binary.LittleEndian.PutUint64(b[8:], h.Txn)
	binary.LittleEndian.PutUint16(b[16:], h.Endpoint)
	binary.LittleEndian.PutUint16(b[18:], h.Method)
	binary.LittleEndian.PutUint32(b[20:], uint32(h.Status))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.Deadline))
}

// Append appends the encoded frame to b and returns the result.
func Append(b []byte, h Header, slots []Slot, payload []byte) []byte {
	h.NHandles = uint16(len(slots))
	n := len(b)
	b = append(b, make([]byte, HeaderSize+SlotSize*len(slots))...)
	PutHeader(b[n:], &h)
	for i, s := range slots {
		o := n + HeaderSize + SlotSize*i
		binary.LittleEndian.PutUint32(b[o:], uint32(s.Handle))
		binary.LittleEndian.PutUint32(b[o+4:], uint32(s.Rights))
	}
	return append(b, payload...)
}

// Decode parses a frame read from a socket. It never panics; maxPayload
// bounds the payload (0 means DefaultMaxMessage). The slots are copied, the
// payload aliases b.
func Decode(b []byte, maxPayload int) (*Frame, error) {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxMessage
	}
	if len(b) < HeaderSize {
		return nil, ErrShort
	}
	f := &Frame{Header: Header{
		Kind:     Kind(b[0]),
		Flags:    b[1],
		NHandles: binary.LittleEndian.Uint16(b[2:]),
		Handle:   binary.LittleEndian.Uint32(b[4:]),
		Txn:      binary.LittleEndian.Uint64(b[8:]),
		Endpoint: binary.LittleEndian.Uint16(b[16:]),
		Method:   binary.LittleEndian.Uint16(b[18:]),
		Status:   Status(binary.LittleEndian.Uint32(b[20:])),
		Deadline: int64(binary.LittleEndian.Uint64(b[24:])),
	}}
	if f.Kind == KindInvalid || f.Kind > KindGone {
		return nil, ErrKind
	}
	if f.Flags != 0 {
		return nil, ErrFlags
	}
	n := int(f.NHandles)
	if n > MaxHandles {
		return nil, ErrTooMany
	}
	rest := b[HeaderSize:]
	if len(rest) < n*SlotSize {
		return nil, ErrHandles
	}
	if n > 0 {
		f.Slots = make([]Slot, n)
		for i := range f.Slots {
			f.Slots[i] = Slot{
				Handle: Handle(binary.LittleEndian.Uint32(rest[i*SlotSize:])),
				Rights: Rights(binary.LittleEndian.Uint32(rest[i*SlotSize+4:])),
			}
		}
	}
	f.Payload = rest[n*SlotSize:]
	if len(f.Payload) > maxPayload {
		return nil, ErrTooLarge
	}
	return f, nil
}
