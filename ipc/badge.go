package ipc

import (
	"encoding/binary"
	"errors"
)

// AppendBadge encodes b as the payload of a KindBadge frame, in the IDL wire
// format of the struct {UInt32 id; string task; string class; UInt64 sid;
// string channel}.
func AppendBadge(dst []byte, b *Badge) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, b.ID)
	dst = appendString(dst, b.Task)
	dst = appendString(dst, b.Class)
	dst = binary.LittleEndian.AppendUint64(dst, b.SID)
	return appendString(dst, b.Channel)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

var errBadge = errors.New("malformed badge")

// DecodeBadge parses the payload of a KindBadge frame.
func DecodeBadge(p []byte) (*Badge, error) {
	var b Badge
	var ok bool
	if len(p) < 4 {
		return nil, errBadge
	}
	b.ID, p = binary.LittleEndian.Uint32(p), p[4:]
	if b.Task, p, ok = readString(p); !ok {
		return nil, errBadge
	}
	if b.Class, p, ok = readString(p); !ok {
		return nil, errBadge
	}
	if len(p) < 8 {
		return nil, errBadge
	}
	b.SID, p = binary.LittleEndian.Uint64(p), p[8:]
	if b.Channel, p, ok = readString(p); !ok || len(p) != 0 {
		return nil, errBadge
	}
	return &b, nil
}

func readString(p []byte) (string, []byte, bool) {
	if len(p) < 4 {
		return "", nil, false
	}
	n := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(n) > uint64(len(p)) {
		return "", nil, false
	}
	return string(p[:n]), p[n:], true
}
