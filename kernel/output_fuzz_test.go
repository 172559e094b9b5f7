package kernel

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// eofReader notes whether its reader was read to the end.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

func (e *eofReader) Close() error { return nil }

// wantOutput is what the kernel keeps of a process's output b: its lines,
// each without a trailing CR, each ending in a newline.
func wantOutput(b []byte) string {
	var out strings.Builder
	for line := range strings.SplitAfterSeq(string(b), "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		out.WriteString(strings.TrimSuffix(line, "\r"))
		out.WriteByte('\n')
	}
	return out.String()
}

// FuzzCopyOutput feeds a process's output (chunk repeated n times, so
// that lines of megabytes occur) to the kernel's output copier: it must
// read the output to its end, whatever the lines are like (an entity whose
// output is no longer read blocks, or dies of SIGPIPE), and lose nothing
// of it: the text kept is the output's, at most split into more lines.
func FuzzCopyOutput(f *testing.F) {
	f.Add([]byte("hello\r\nworld\n"), uint16(1))
	f.Add([]byte("no newline"), uint16(3))
	f.Add(bytes.Repeat([]byte{'x'}, 64), uint16(20000)) // one line of 1.25 MiB
	f.Fuzz(func(t *testing.T, chunk []byte, n uint16) {
		if len(chunk)*int(n) > outputCap/2 {
			n = uint16(outputCap / 2 / max(len(chunk), 1))
		}
		in := bytes.Repeat(chunk, int(n))
		k := &Kernel{}
		tk := &task{spec: EntitySpec{Task: "t"}}
		r := &eofReader{r: bytes.NewReader(in)}
		done := make(chan struct{})
		k.wg.Add(1)
		k.copyOutput(tk, r, done)
		if !r.eof {
			t.Fatalf("output of %d bytes not read to its end", len(in))
		}
		got, want := tk.output.String(), wantOutput(in)
		if strings.ReplaceAll(got, "\n", "") != strings.ReplaceAll(want, "\n", "") {
			t.Fatalf("kept %d bytes of output, want %d", len(got), len(want))
		}
	})
}

// TestCopyOutputLongLine: a line over 1 MiB used to end the copy (the
// scanner's ErrTooLong) and close the pipe, so the process's next write
// failed with EPIPE and what it printed after was lost.
func TestCopyOutputLongLine(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	k := &Kernel{}
	tk := &task{spec: EntitySpec{Task: "t"}}
	done := make(chan struct{})
	k.wg.Add(1)
	go k.copyOutput(tk, r, done)
	long := strings.Repeat("x", 3*maxOutputLine/2)
	if _, err := io.WriteString(w, long+"\nafter\n"); err != nil {
		t.Fatalf("writing the output: %v", err)
	}
	w.Close()
	<-done
	out := tk.output.String()
	if !strings.HasSuffix(out, "\nafter\n") || strings.Count(out, "x") != len(long) {
		t.Fatalf("kept %d bytes ending %q", len(out), out[max(0, len(out)-20):])
	}
}
