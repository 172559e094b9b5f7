package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"capsim/ipc"
)

// Encoder appends values in the IDL wire format. The first error (a value
// beyond its bound) sticks; later calls do nothing.
type Encoder struct {
	buf     []byte
	handles []ipc.Slot
	err     error
}

// NewEncoder returns an encoder that appends to buf.
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns the encoding so far.
func (e *Encoder) Bytes() []byte { return e.buf }

// Handles returns the handles that Handle calls collected, in slot order.
func (e *Encoder) Handles() []ipc.Slot { return e.handles }

// Err returns the first error.
func (e *Encoder) Err() error { return e.err }

// Fail records an error about field.
func (e *Encoder) Fail(field, format string, args ...any) {
	if e.err == nil {
		e.err = fieldError(field, fmt.Sprintf(format, args...))
	}
}

// fieldError names the field that is wrong, if any.
func fieldError(field, msg string) error {
	if field == "" {
		return errors.New(msg)
	}
	return errors.New("field " + field + ": " + msg)
}

func (e *Encoder) Uint8(v uint8) { e.buf = append(e.buf, v) }
func (e *Encoder) Uint16(v uint16) {
	e.buf = binary.LittleEndian.AppendUint16(e.buf, v)
}
func (e *Encoder) Uint32(v uint32) {
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}
func (e *Encoder) Uint64(v uint64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
}
func (e *Encoder) Int8(v int8)   { e.Uint8(uint8(v)) }
func (e *Encoder) Int16(v int16) { e.Uint16(uint16(v)) }
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Bool writes 1 or 0.
func (e *Encoder) Bool(v bool) {
	if v {
		e.Uint8(1)
	} else {
		e.Uint8(0)
	}
}

// Handle adds s to the message's handles and writes its slot index.
func (e *Encoder) Handle(s ipc.Slot) {
	e.Uint32(uint32(len(e.handles)))
	e.handles = append(e.handles, s)
}

// Count writes the u32 count of a sequence, checking it against bound.
func (e *Encoder) Count(n, bound int, field string) {
	if n > bound {
		e.Fail(field, "count %d exceeds bound %d", n, bound)
		return
	}
	e.Uint32(uint32(n))
}

// Blob writes a bytes value: u32 length (checked against bound) and the
// bytes.
func (e *Encoder) Blob(b []byte, bound int, field string) {
	if len(b) > bound {
		e.Fail(field, "length %d exceeds bound %d", len(b), bound)
		return
	}
	e.Uint32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// String writes a string value: u32 length (checked against bound) and
// its bytes, which must be UTF-8.
func (e *Encoder) String(s string, bound int, field string) {
	if len(s) > bound {
		e.Fail(field, "length %d exceeds bound %d", len(s), bound)
		return
	}
	if !utf8.ValidString(s) {
		e.Fail(field, "string is not valid UTF-8")
		return
	}
	e.Uint32(uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// Decoder reads values in the IDL wire format from one buffer. The first
// error sticks: later reads return zero values, and Finish reports it.
type Decoder struct {
	b       []byte
	off     int
	handles []ipc.Slot
	nslots  int
	err     error
	alias   bool // Blob returns slices of b
}

// AliasBlobs makes Blob return slices of the decoded buffer rather than
// copies.
func (d *Decoder) AliasBlobs() { d.alias = true }

// NewDecoder returns a decoder of b; a Handle field's slot index must name
// one of handles.
func NewDecoder(b []byte, handles []ipc.Slot) *Decoder {
	return &Decoder{b: b, handles: handles, nslots: len(handles)}
}

// NewSlotDecoder returns a decoder that checks slot indices against nslots
// without mapping them to handles (the kernel's validation).
func NewSlotDecoder(b []byte, nslots int) *Decoder {
	return &Decoder{b: b, nslots: nslots}
}

// Err returns the first error.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of bytes not yet read.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Fail records an error about field.
func (d *Decoder) Fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = fieldError(field, fmt.Sprintf(format, args...))
	}
}

// Finish returns the first error, or an error when bytes are left over.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%d trailing bytes after the message", len(d.b)-d.off)
	}
	return d.err
}

// take returns the next n bytes, or nil after recording a short message.
func (d *Decoder) take(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.Fail(field, "message ends early: need %d bytes, %d left", n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *Decoder) Uint8(field string) uint8 {
	if p := d.take(1, field); p != nil {
		return p[0]
	}
	return 0
}

func (d *Decoder) Uint16(field string) uint16 {
	if p := d.take(2, field); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *Decoder) Uint32(field string) uint32 {
	if p := d.take(4, field); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *Decoder) Uint64(field string) uint64 {
	if p := d.take(8, field); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *Decoder) Int8(field string) int8   { return int8(d.Uint8(field)) }
func (d *Decoder) Int16(field string) int16 { return int16(d.Uint16(field)) }
func (d *Decoder) Int32(field string) int32 { return int32(d.Uint32(field)) }
func (d *Decoder) Int64(field string) int64 { return int64(d.Uint64(field)) }

// Bool reads one byte that must be 0 or 1.
func (d *Decoder) Bool(field string) bool {
	switch v := d.Uint8(field); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail(field, "bool byte is %d, not 0 or 1", v)
		return false
	}
}

// Slot reads a handle's slot index, which must be below the slot count.
func (d *Decoder) Slot(field string) uint32 {
	i := d.Uint32(field)
	if d.err == nil && uint64(i) >= uint64(d.nslots) {
		d.Fail(field, "handle slot %d out of range (message carries %d handles)", i, d.nslots)
		return 0
	}
	return i
}

// Handle reads a slot index and returns that handle of the message.
func (d *Decoder) Handle(field string) ipc.Slot {
	i := d.Slot(field)
	if d.err != nil || int(i) >= len(d.handles) {
		return ipc.Slot{}
	}
	return d.handles[i]
}

// Count reads a sequence count: at most bound, and no more elements than
// the bytes left can hold at minElem bytes each, so that a lying count
// cannot make the caller allocate.
func (d *Decoder) Count(bound, minElem int, field string) int {
	n := d.Uint32(field)
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(bound) {
		d.Fail(field, "count %d exceeds bound %d", n, bound)
		return 0
	}
	if minElem > 0 && uint64(n) > uint64(d.Remaining()/minElem) {
		d.Fail(field, "count %d needs at least %d bytes, %d left", n, uint64(n)*uint64(minElem), d.Remaining())
		return 0
	}
	return int(n)
}

// Need checks that n elements of at least minElem bytes fit in what is
// left (for arrays, before allocating them).
func (d *Decoder) Need(n, minElem int, field string) bool {
	if d.err != nil {
		return false
	}
	if minElem > 0 && n > d.Remaining()/minElem {
		d.Fail(field, "message ends early: %d elements need at least %d bytes, %d left", n, n*minElem, d.Remaining())
		return false
	}
	return true
}

// blob reads a u32 length (checked against bound) and that many bytes,
// aliasing the buffer.
func (d *Decoder) blob(bound int, field string) []byte {
	n := d.Uint32(field)
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(bound) {
		d.Fail(field, "length %d exceeds bound %d", n, bound)
		return nil
	}
	if uint64(n) > math.MaxInt32 {
		d.Fail(field, "length %d too large", n)
		return nil
	}
	return d.take(int(n), field)
}

// Blob reads a bytes value into a fresh slice (never nil when the read
// succeeds).
func (d *Decoder) Blob(bound int, field string) []byte {
	p := d.blob(bound, field)
	if p == nil || d.alias {
		return p
	}
	return append(make([]byte, 0, len(p)), p...)
}

// String reads a string value, which must be UTF-8.
func (d *Decoder) String(bound int, field string) string {
	p := d.blob(bound, field)
	if p == nil {
		return ""
	}
	if !utf8.Valid(p) {
		d.Fail(field, "string is not valid UTF-8")
		return ""
	}
	return string(p)
}
