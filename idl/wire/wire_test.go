package wire

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	"capsim/ipc"
)

func TestEncoderLayout(t *testing.T) {
	e := NewEncoder(nil)
	e.Uint8(1)
	e.Int16(-2)
	e.Uint32(3)
	e.Int64(-4)
	e.Bool(true)
	e.Handle(ipc.Slot{Handle: 9})
	e.Handle(ipc.Slot{Handle: 8})
	e.Count(2, 2, "n")
	e.Blob([]byte("ab"), 2, "b")
	e.String("é", 2, "s")
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	want := []byte{1, 0xfe, 0xff, 3, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1,
		0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 2, 0, 0, 0, 0xc3, 0xa9}
	if !bytes.Equal(e.Bytes(), want) {
		t.Errorf("bytes = %v\nwant    %v", e.Bytes(), want)
	}
	if h := e.Handles(); len(h) != 2 || h[1].Handle != 8 {
		t.Errorf("handles = %v", h)
	}
}

func TestEncoderErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func(e *Encoder)
		want string
	}{
		{"blob", func(e *Encoder) { e.Blob(make([]byte, 3), 2, "data") }, "field data: length 3 exceeds bound 2"},
		{"string", func(e *Encoder) { e.String("abc", 2, "s") }, "field s: length 3 exceeds bound 2"},
		{"utf8", func(e *Encoder) { e.String("\xff", 2, "s") }, "field s: string is not valid UTF-8"},
		{"count", func(e *Encoder) { e.Count(5, 4, "xs") }, "field xs: count 5 exceeds bound 4"},
		{"first sticks", func(e *Encoder) { e.Count(5, 4, "a"); e.Count(5, 4, "b") }, "field a: count 5 exceeds bound 4"},
	}
	for _, tt := range tests {
		e := NewEncoder(nil)
		tt.fn(e)
		if e.Err() == nil || e.Err().Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, e.Err(), tt.want)
		}
	}
}

func TestDecoder(t *testing.T) {
	slots := []ipc.Slot{{Handle: 5}, {Handle: 6}}
	tests := []struct {
		name string
		b    []byte
		fn   func(d *Decoder)
		want string // "" for success
	}{
		{"bool 1", []byte{1}, func(d *Decoder) { _ = d.Bool("f") }, ""},
		{"bool 2", []byte{2}, func(d *Decoder) { _ = d.Bool("f") }, "field f: bool byte is 2, not 0 or 1"},
		{"handle", []byte{1, 0, 0, 0}, func(d *Decoder) {
			if d.Handle("h").Handle != 6 {
				d.Fail("h", "wrong handle")
			}
		}, ""},
		{"handle range", []byte{2, 0, 0, 0}, func(d *Decoder) { _ = d.Handle("h") }, "field h: handle slot 2 out of range (message carries 2 handles)"},
		{"count bound", []byte{5, 0, 0, 0}, func(d *Decoder) { _ = d.Count(4, 1, "xs") }, "field xs: count 5 exceeds bound 4"},
		{"count lies", []byte{3, 0, 0, 0, 1, 2}, func(d *Decoder) { _ = d.Count(4, 1, "xs") }, "field xs: count 3 needs at least 3 bytes, 2 left"},
		{"need", []byte{1, 2}, func(d *Decoder) { _ = d.Need(3, 1, "a") }, "field a: message ends early: 3 elements need at least 3 bytes, 2 left"},
		{"blob", []byte{2, 0, 0, 0, 'a', 'b'}, func(d *Decoder) {
			if string(d.Blob(2, "b")) != "ab" {
				d.Fail("b", "wrong")
			}
		}, ""},
		{"blob bound", []byte{3, 0, 0, 0, 'a', 'b', 'c'}, func(d *Decoder) { _ = d.Blob(2, "b") }, "field b: length 3 exceeds bound 2"},
		{"blob short", []byte{3, 0, 0, 0, 'a'}, func(d *Decoder) { _ = d.Blob(9, "b") }, "field b: message ends early: need 3 bytes, 1 left"},
		{"string utf8", []byte{1, 0, 0, 0, 0xff}, func(d *Decoder) { _ = d.String(9, "s") }, "field s: string is not valid UTF-8"},
		{"trailing", []byte{1, 2}, func(d *Decoder) { _ = d.Uint8("x") }, "1 trailing bytes after the message"},
		{"sticky", []byte{}, func(d *Decoder) { _ = d.Uint64("a"); _ = d.Uint8("b") }, "field a: message ends early: need 8 bytes, 0 left"},
	}
	for _, tt := range tests {
		d := NewDecoder(tt.b, slots)
		tt.fn(d)
		err := d.Finish()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestErrno(t *testing.T) {
	if Errno(syscall.ENOENT) != uint64(syscall.ENOENT) || Errno(errors.New("x")) != EIO {
		t.Error("Errno")
	}
}
