package vnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// pcap file constants (libpcap format; LINKTYPE_ETHERNET).
const (
	pcapMagicMicro  = 0xa1b2c3d4
	pcapMagicNano   = 0xa1b23c4d
	pcapLinkEther   = 1
	pcapSnapLen     = 262144
	pcapHeaderLen   = 24
	pcapRecordLen   = 16
	pcapMaxCaptured = 1 << 20 // a reader refuses records larger than this
)

// PcapWriter writes a libpcap capture with nanosecond timestamps and
// LINKTYPE_ETHERNET. It does not buffer; wrap w in a bufio.Writer.
type PcapWriter struct {
	w   io.Writer
	hdr [pcapRecordLen]byte
}

// NewPcapWriter writes the file header to w and returns the writer.
func NewPcapWriter(w io.Writer) (*PcapWriter, error) {
	var h [pcapHeaderLen]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapMagicNano)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], pcapSnapLen)
	le.PutUint32(h[20:], pcapLinkEther)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	return &PcapWriter{w: w}, nil
}

// WritePacket writes one frame captured at t.
func (pw *PcapWriter) WritePacket(t time.Time, frame []byte) error {
	le := binary.LittleEndian
	ns := t.UnixNano()
	le.PutUint32(pw.hdr[0:], uint32(ns/1e9))
	le.PutUint32(pw.hdr[4:], uint32(ns%1e9))
	le.PutUint32(pw.hdr[8:], uint32(len(frame)))
	le.PutUint32(pw.hdr[12:], uint32(len(frame)))
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return fmt.Errorf("pcap record: %w", err)
	}
	if _, err := pw.w.Write(frame); err != nil {
		return fmt.Errorf("pcap record: %w", err)
	}
	return nil
}

// Packet is one record of a pcap file.
type Packet struct {
	Time    time.Time
	OrigLen int    // length of the frame on the wire
	Data    []byte // the captured bytes (at most OrigLen)
}

// PcapReader reads a libpcap capture: either byte order, microsecond or
// nanosecond timestamps, any link type (see LinkType).
type PcapReader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	snapLen  uint32
	LinkType uint32
}

// NewPcapReader reads and checks the file header.
func NewPcapReader(r io.Reader) (*PcapReader, error) {
	var h [pcapHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	pr := &PcapReader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == pcapMagicMicro:
		pr.order = binary.LittleEndian
	case binary.LittleEndian.Uint32(h[:]) == pcapMagicNano:
		pr.order, pr.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == pcapMagicMicro:
		pr.order = binary.BigEndian
	case binary.BigEndian.Uint32(h[:]) == pcapMagicNano:
		pr.order, pr.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("pcap header: bad magic %#x", h[:4])
	}
	if major := pr.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("pcap header: version %d, want 2", major)
	}
	pr.snapLen = pr.order.Uint32(h[16:])
	pr.LinkType = pr.order.Uint32(h[20:])
	return pr, nil
}

// Next returns the next packet, or io.EOF at the end of the file.
func (pr *PcapReader) Next() (Packet, error) {
	var h [pcapRecordLen]byte
	if _, err := io.ReadFull(pr.r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Packet{}, fmt.Errorf("pcap record header: %w", err)
		}
		return Packet{}, err
	}
	sec, frac := pr.order.Uint32(h[0:]), pr.order.Uint32(h[4:])
	incl, orig := pr.order.Uint32(h[8:]), pr.order.Uint32(h[12:])
	if incl > pcapMaxCaptured || incl > orig {
		return Packet{}, fmt.Errorf("pcap record: captured length %d (original %d) invalid", incl, orig)
	}
	if !pr.nano {
		if frac >= 1e6 {
			return Packet{}, fmt.Errorf("pcap record: %d microseconds", frac)
		}
		frac *= 1000
	} else if frac >= 1e9 {
		return Packet{}, fmt.Errorf("pcap record: %d nanoseconds", frac)
	}
	data := make([]byte, incl)
	if _, err := io.ReadFull(pr.r, data); err != nil {
		return Packet{}, fmt.Errorf("pcap record data: %w", errors.Join(err, io.ErrUnexpectedEOF))
	}
	return Packet{Time: time.Unix(int64(sec), int64(frac)), OrigLen: int(orig), Data: data}, nil
}
