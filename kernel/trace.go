package kernel

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"
)

// Record is one trace record: a decided event, a cancel notice or an exit.
// Field names are the ones SCENARIO.md gives the trace and [[expect]].
type Record struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Src       string    `json:"src,omitempty"`
	Dst       string    `json:"dst,omitempty"`
	SrcClass  string    `json:"src_class,omitempty"`
	DstClass  string    `json:"dst_class,omitempty"`
	SrcSID    uint64    `json:"src_sid,omitempty"`
	DstSID    uint64    `json:"dst_sid,omitempty"`
	Endpoint  string    `json:"endpoint,omitempty"`
	Interface string    `json:"interface,omitempty"`
	Method    string    `json:"method,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Txn       uint64    `json:"txn,omitempty"`
	Bytes     int       `json:"bytes"`
	LatencyNS int64     `json:"latency_ns,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Code      *int      `json:"code,omitempty"`
	Signal    string    `json:"signal,omitempty"`
	// Errno is an error reply's errno parameter by its name ("ECONNREFUSED";
	// the number when it has none), on error records of methods whose error
	// parameters hold an integer "errno".
	Errno string `json:"errno,omitempty"`
	// Rules are the deciding rules (audit records only).
	Rules []string `json:"rules,omitempty"`
	// Explain is the policy's explanation of a deny (--explain only).
	Explain string `json:"-"`
}

// Field returns the record's value of a trace field by its JSON name, as
// text (integers in decimal), for matching expectations. ok is false for an
// unknown name, or a field the record does not have (code on a record
// without an exit code).
func (r *Record) Field(name string) (v string, ok bool) {
	switch name {
	case "kind":
		return r.Kind, true
	case "src":
		return r.Src, true
	case "dst":
		return r.Dst, true
	case "src_class":
		return r.SrcClass, true
	case "dst_class":
		return r.DstClass, true
	case "endpoint":
		return r.Endpoint, true
	case "interface":
		return r.Interface, true
	case "method":
		return r.Method, true
	case "decision":
		return r.Decision, true
	case "reason":
		return r.Reason, true
	case "signal":
		return r.Signal, true
	case "errno":
		return r.Errno, r.Errno != ""
	case "seq":
		return strconv.FormatUint(r.Seq, 10), true
	case "src_sid":
		return strconv.FormatUint(r.SrcSID, 10), true
	case "dst_sid":
		return strconv.FormatUint(r.DstSID, 10), true
	case "txn":
		return strconv.FormatUint(r.Txn, 10), true
	case "bytes":
		return strconv.Itoa(r.Bytes), true
	case "latency_ns":
		return strconv.FormatInt(r.LatencyNS, 10), true
	case "pid":
		return strconv.Itoa(r.PID), true
	case "code":
		if r.Code == nil {
			return "", false
		}
		return strconv.Itoa(*r.Code), true
	}
	return "", false
}

// A Sink receives every trace record, in decision order. Sinks are called
// with the tracer's lock held: they must be quick and must not call back.
type Sink interface {
	Record(r *Record)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(r *Record)

// Record calls f(r).
func (f SinkFunc) Record(r *Record) { f(r) }

// Tracer numbers records and hands them to its sinks.
type Tracer struct {
	mu    sync.Mutex
	seq   uint64
	sinks []Sink
}

// NewTracer returns a tracer writing to sinks.
func NewTracer(sinks ...Sink) *Tracer { return &Tracer{sinks: sinks} }

// AddSink adds a sink; records emitted from then on reach it.
func (t *Tracer) AddSink(s Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sinks = append(t.sinks, s)
}

// Emit stamps r with its sequence number (and the time, if unset) and hands
// it to every sink.
func (t *Tracer) Emit(r *Record) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	r.Seq = t.seq
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	for _, s := range t.sinks {
		s.Record(r)
	}
}

// JSONSink writes one JSON object per line.
type JSONSink struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONSink returns a sink writing JSON lines to w; call Flush at the end.
func NewJSONSink(w io.Writer) *JSONSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &JSONSink{w: bw, enc: json.NewEncoder(bw)}
}

// Record writes r as one line.
func (s *JSONSink) Record(r *Record) { _ = s.enc.Encode(r) }

// Flush writes buffered records.
func (s *JSONSink) Flush() error { return s.w.Flush() }
