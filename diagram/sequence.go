package diagram

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Record is one trace record, the fields SCENARIO.md "The trace" gives
// that a sequence diagram shows.
type Record struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Src       string    `json:"src"`
	Dst       string    `json:"dst"`
	Endpoint  string    `json:"endpoint"`
	Method    string    `json:"method"`
	Decision  string    `json:"decision"`
	Reason    string    `json:"reason"`
	LatencyNS int64     `json:"latency_ns"`
	PID       int       `json:"pid"`
	Code      *int      `json:"code"`
	Signal    string    `json:"signal"`
}

// maxLine bounds one trace line.
const maxLine = 1 << 20

// ErrCut is the error of a trace whose last line is cut short, as a run
// killed while writing it leaves it; ReadTrace returns the records before
// it with an error that wraps ErrCut.
var ErrCut = errors.New("last line cut short (the run did not end cleanly?)")

// ReadTrace reads a JSON-lines trace. Errors name the line.
func ReadTrace(r io.Reader, name string) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	unended := false // the line scanned is the input's last and has no new line
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		unended = tok != nil && atEOF && adv == len(data) && bytes.IndexByte(data, '\n') < 0
		return adv, tok, err
	})
	var out []Record
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			var syn *json.SyntaxError
			if unended && errors.As(err, &syn) && syn.Offset == int64(len(text)) && strings.HasPrefix(text, "{") {
				return out, fmt.Errorf("%s:%d: %w", name, line, ErrCut)
			}
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if rec.Kind == "" {
			return nil, fmt.Errorf("%s:%d: record without kind", name, line)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// step is one line of a sequence diagram.
type step struct {
	from, to string // to == "" for a note over from
	text     string
	reply    bool
	denied   bool
}

// Sequence writes a run's trace as a sequence diagram: calls, replies,
// denials marked, each with its time since the first record (and its
// latency where the trace has one).
func Sequence(w io.Writer, recs []Record, f Format) error {
	parts, steps := sequenceSteps(recs)
	var b strings.Builder
	if f == DOT {
		seqDOT(&b, parts, steps)
	} else {
		seqMermaid(&b, parts, steps)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sequenceSteps(recs []Record) ([]string, []step) {
	var parts []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	var t0 time.Time
	if len(recs) > 0 {
		t0 = recs[0].Time
	}
	var steps []step
	for _, r := range recs {
		at := fmt.Sprintf("+%.3fms", float64(r.Time.Sub(t0).Microseconds())/1000)
		if r.LatencyNS > 0 {
			at += fmt.Sprintf(", %.3fms", float64(r.LatencyNS)/1e6)
		}
		op := r.Method
		if r.Endpoint != "" {
			op = r.Endpoint + "." + r.Method
		}
		s := step{from: r.Src, to: r.Dst, denied: r.Decision == "deny"}
		switch r.Kind {
		case "execute":
			s.from, s.to = r.Dst, ""
			s.text = fmt.Sprintf("started (pid %d) %s", r.PID, at)
		case "exit":
			s.to = ""
			s.text = "exit " + exitText(r) + " " + at
		case "cancel":
			s.text = "cancel " + op + " " + at
			s.reply = true
		case "security":
			s.to = ""
			s.text = "security " + op + " " + at
		default:
			s.text = r.Kind + " " + op + " " + at
			s.reply = r.Kind != "request"
		}
		if s.from == "" { // not in capsim's traces
			s.from = "?"
		}
		if s.denied {
			s.text += " DENIED: " + r.Reason
			if s.to == "" {
				s.text = strings.Replace(s.text, "started", "start", 1)
			}
		}
		add(s.from)
		add(s.to)
		steps = append(steps, s)
	}
	return parts, steps
}

func exitText(r Record) string {
	switch {
	case r.Signal != "":
		return r.Signal
	case r.Code != nil:
		return fmt.Sprint(*r.Code)
	}
	return "?"
}

// partIDs names the participants in Mermaid: p_NAME for a task name
// (kernel, client-1), p1, p2, ... for any other text a trace may hold.
func partIDs(parts []string) map[string]string {
	ids := make(map[string]string, len(parts))
	for i, p := range parts {
		if taskName.MatchString(p) {
			ids[p] = "p_" + strings.ReplaceAll(p, "-", "_")
		} else {
			ids[p] = fmt.Sprintf("p%d", i+1)
		}
	}
	return ids
}

// taskName is the form of task names (scenario.nameRE).
var taskName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func seqMermaid(b *strings.Builder, parts []string, steps []step) {
	b.WriteString("sequenceDiagram\n")
	ids := partIDs(parts)
	for _, p := range parts {
		fmt.Fprintf(b, "    participant %s as %s\n", ids[p], mermaidText(p))
	}
	for _, s := range steps {
		text := mermaidText(s.text)
		if s.to == "" {
			fmt.Fprintf(b, "    Note over %s: %s\n", ids[s.from], text)
			continue
		}
		arrow := "->>"
		switch {
		case s.denied:
			arrow = "-x"
			if s.reply {
				arrow = "--x"
			}
		case s.reply:
			arrow = "-->>"
		}
		fmt.Fprintf(b, "    %s%s%s: %s\n", ids[s.from], arrow, ids[s.to], text)
	}
}

// seqDOT draws the sequence as a chain of numbered steps: each step an
// edge between its participants' lifeline points, denials in red.
func seqDOT(b *strings.Builder, parts []string, steps []step) {
	b.WriteString("digraph sequence {\n    rankdir=TB;\n    node [shape=point, width=0.05];\n    edge [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("    { rank=same;")
	for _, p := range parts {
		fmt.Fprintf(b, " %s;", dotQuote(p+"@0"))
	}
	b.WriteString(" }\n")
	for _, p := range parts {
		fmt.Fprintf(b, "    %s [shape=box, style=rounded, width=0, label=%s];\n", dotQuote(p+"@0"), dotQuote(p))
	}
	for i, s := range steps {
		n := i + 1
		b.WriteString("    { rank=same;")
		for _, p := range parts {
			fmt.Fprintf(b, " %s;", dotQuote(fmt.Sprintf("%s@%d", p, n)))
		}
		b.WriteString(" }\n")
		for _, p := range parts { // lifelines
			fmt.Fprintf(b, "    %s -> %s [arrowhead=none, style=dotted];\n", dotQuote(fmt.Sprintf("%s@%d", p, n-1)), dotQuote(fmt.Sprintf("%s@%d", p, n)))
		}
		from := dotQuote(fmt.Sprintf("%s@%d", s.from, n))
		label := dotQuote(fmt.Sprintf("%d. %s", n, s.text))
		if s.to == "" {
			fmt.Fprintf(b, "    %s [shape=note, width=0, label=%s];\n", from, label)
			continue
		}
		attrs := "label=" + label + ", constraint=false"
		if s.reply {
			attrs += ", style=dashed"
		}
		if s.denied {
			attrs += ", color=red, fontcolor=red, arrowhead=tee"
		}
		fmt.Fprintf(b, "    %s -> %s [%s];\n", from, dotQuote(fmt.Sprintf("%s@%d", s.to, n)), attrs)
	}
	b.WriteString("}\n")
}
