package vnet

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Defaults used when a Config field is zero.
const (
	DefaultMTU          = 1500
	DefaultSocketBuffer = 4 << 20  // SO_SNDBUFFORCE/SO_RCVBUFFORCE on every socket-pair end
	DefaultRecordCap    = 64 << 20 // bytes of frames kept in memory per segment
	DefaultQueueBytes   = 1 << 20  // backlog a rate-limited port may hold before tail drop
	DefaultReorderHold  = time.Millisecond
	maxMTU              = 65535
)

// Config describes a virtual network.
type Config struct {
	// Segments are the links. Names must be unique and non-empty.
	Segments []SegmentConfig
	// Seed seeds every random decision (loss, duplication, jitter,
	// reordering). The same seed and the same frames give the same fates.
	Seed int64
	// Pcap, when not empty, is the capture file. With one segment it is
	// used as is; with several, the segment name is inserted before the
	// extension: "cap.pcap" gives "cap-lan.pcap" and "cap-wan.pcap" (see
	// PcapPath).
	Pcap string
	// RecordCap bounds the bytes of frames kept in memory per segment for
	// Contains. 0 means DefaultRecordCap; negative disables the record.
	RecordCap int
	// SocketBuffer is the send and receive buffer forced on both ends of
	// every port's socket pair. 0 means DefaultSocketBuffer.
	SocketBuffer int
	// OnEvent, when set, is called as a segment is partitioned or healed
	// (by its schedule or SetPartitioned; At is the scheduled offset, 0
	// for SetPartitioned), for the kernel's trace.
	OnEvent func(segment string, e Event)
	// Logger receives the network's logs. nil means slog.Default().
	Logger *slog.Logger
}

// SegmentConfig describes one link: a switch joining two or more ports.
type SegmentConfig struct {
	Name string
	// MTU is the largest IP packet the link carries (frames may be 14 bytes
	// longer). 0 means DefaultMTU.
	MTU int
	// Subnets are the segment's subnets, as the hosts on it are addressed;
	// the first one gives the gateway its default address.
	Subnets []netip.Prefix
	// Impair are the link's impairments.
	Impair Impairments
	// Schedule partitions and heals the link at offsets from Start.
	Schedule []Event
}

// Impairments are what a segment does to the frames it carries. The zero
// value is a perfect link.
type Impairments struct {
	Loss      float64       // fraction of frames dropped, 0..1
	Duplicate float64       // fraction of frames sent twice, 0..1
	Reorder   float64       // fraction of frames sent out of order, 0..1
	Delay     time.Duration // added to every frame
	Jitter    time.Duration // delay varies uniformly within ±Jitter
	// Rate caps each output port at this many bits per second (0: none);
	// a frame waits for the frames before it to be serialised.
	Rate uint64
	// QueueBytes bounds a rate-limited port's backlog; beyond it frames
	// are tail-dropped. 0 means DefaultQueueBytes.
	QueueBytes int
	// ReorderHold is how long a reordered frame is held back when there is
	// no delay for it to skip. 0 means DefaultReorderHold.
	ReorderHold time.Duration
}

// timed reports whether frames may need to wait, so they go through the
// segment's scheduler rather than straight to the output port.
func (im Impairments) timed() bool {
	return im.Delay > 0 || im.Jitter > 0 || im.Rate > 0 || im.Reorder > 0
}

// Action is what a schedule event does to a segment.
type Action int

// The schedule actions.
const (
	Partition Action = iota + 1 // drop every frame until healed
	Heal                        // carry frames again
)

// String returns "partition" or "heal".
func (a Action) String() string {
	switch a {
	case Partition:
		return "partition"
	case Heal:
		return "heal"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Event is one entry of a segment's schedule.
type Event struct {
	At time.Duration // offset from Start
	Do Action
}

// PcapPath returns the capture file of a segment: base itself when the
// network has a single segment, otherwise base with "-" and the segment
// name inserted before the extension ("cap.pcap" → "cap-wan.pcap";
// "cap" → "cap-wan").
func PcapPath(base, segment string, segments int) string {
	if segments <= 1 {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + segment + ext
}

// validate checks the configuration and fills defaults in a copy.
func (c Config) validate() (Config, error) {
	if c.SocketBuffer == 0 {
		c.SocketBuffer = DefaultSocketBuffer
	}
	if c.RecordCap == 0 {
		c.RecordCap = DefaultRecordCap
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SocketBuffer < 0 {
		return c, errors.New("vnet: negative socket buffer")
	}
	segs := make([]SegmentConfig, len(c.Segments))
	seen := make(map[string]bool)
	for i, s := range c.Segments {
		if s.Name == "" {
			return c, fmt.Errorf("vnet: segment %d: empty name", i)
		}
		if seen[s.Name] {
			return c, fmt.Errorf("vnet: segment %q: declared twice", s.Name)
		}
		seen[s.Name] = true
		v, err := s.validate()
		if err != nil {
			return c, fmt.Errorf("vnet: segment %q: %w", s.Name, err)
		}
		segs[i] = v
	}
	c.Segments = segs
	return c, nil
}

func (s SegmentConfig) validate() (SegmentConfig, error) {
	if s.MTU == 0 {
		s.MTU = DefaultMTU
	}
	if s.MTU < 68 || s.MTU > maxMTU {
		return s, fmt.Errorf("mtu %d out of range 68..%d", s.MTU, maxMTU)
	}
	im := &s.Impair
	for _, f := range []struct {
		name string
		v    float64
	}{{"loss", im.Loss}, {"duplicate", im.Duplicate}, {"reorder", im.Reorder}} {
		if !(f.v >= 0 && f.v <= 1) {
			return s, fmt.Errorf("%s %v out of range 0..1", f.name, f.v)
		}
	}
	if im.Delay < 0 || im.Jitter < 0 || im.ReorderHold < 0 || im.QueueBytes < 0 {
		return s, errors.New("negative delay, jitter, reorder hold or queue")
	}
	if im.QueueBytes == 0 {
		im.QueueBytes = DefaultQueueBytes
	}
	if im.ReorderHold == 0 {
		im.ReorderHold = DefaultReorderHold
	}
	for i, e := range s.Schedule {
		if e.At < 0 {
			return s, fmt.Errorf("schedule %d: negative offset %v", i, e.At)
		}
		if e.Do != Partition && e.Do != Heal {
			return s, fmt.Errorf("schedule %d: unknown action %v", i, e.Do)
		}
	}
	for _, p := range s.Subnets {
		if !p.IsValid() {
			return s, errors.New("invalid subnet")
		}
	}
	return s, nil
}
