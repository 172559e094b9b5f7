package vnet

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrTruncated is wrapped by Contains when a needle was not found in a
// segment's record that reached its cap.
var ErrTruncated = errors.New("vnet: link record truncated")

// capture is a segment's pcap file and in-memory record of frames.
type capture struct {
	mu   sync.Mutex
	file *os.File
	buf  *bufio.Writer
	pw   *PcapWriter
	werr error // first write error; capture stops after it
	rec  *record
}

func newCapture(path string, recordCap, mtu int) (*capture, error) {
	c := &capture{rec: newRecord(recordCap)}
	if path == "" {
		return c, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("vnet: pcap: %w", err)
	}
	c.file = f
	c.buf = bufio.NewWriterSize(f, 256<<10)
	if c.pw, err = NewPcapWriter(c.buf); err != nil {
		f.Close()
		return nil, fmt.Errorf("vnet: pcap %s: %w", path, err)
	}
	return c, nil
}

// add records one frame seen at t.
func (c *capture) add(t time.Time, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pw != nil && c.werr == nil {
		c.werr = c.pw.WritePacket(t, frame)
	}
	c.rec.add(frame)
}

// contains searches the record for needle.
func (c *capture) contains(segment string, needle []byte) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.contains(segment, needle)
}

func (c *capture) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	if c.werr != nil {
		return fmt.Errorf("vnet: pcap: %w", c.werr)
	}
	if err := c.buf.Flush(); err != nil {
		return fmt.Errorf("vnet: pcap: %w", err)
	}
	return nil
}

func (c *capture) close() error {
	err := c.flush()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file != nil {
		err = errors.Join(err, c.file.Close())
		c.file, c.buf, c.pw = nil, nil, nil
	}
	return err
}
