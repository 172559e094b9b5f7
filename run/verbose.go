package run

import (
	"fmt"
	"io"
	"strings"
	"time"

	"capsim/kernel"
)

// verbosePrinter prints each trace record as one readable line (-v).
func verbosePrinter(w io.Writer) kernel.Sink {
	return kernel.SinkFunc(func(r *kernel.Record) { fmt.Fprintln(w, formatRecord(r)) })
}

func formatRecord(r *kernel.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trace %6d %-8s %s", r.Seq, r.Kind, r.Src)
	if r.Dst != "" {
		fmt.Fprintf(&b, " -> %s", r.Dst)
	}
	if r.Method != "" && r.Kind != "execute" { // an execute's method is always "main", which reads like the scenario's main flag
		ep := r.Endpoint
		if ep != "" {
			ep += "."
		}
		fmt.Fprintf(&b, " %s%s", ep, r.Method)
	}
	if r.Decision != "" {
		fmt.Fprintf(&b, " %s", r.Decision)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", r.Reason)
	}
	if r.Errno != "" {
		fmt.Fprintf(&b, " %s", r.Errno)
	}
	if r.PID != 0 {
		fmt.Fprintf(&b, " pid %d", r.PID)
	}
	if r.Code != nil {
		fmt.Fprintf(&b, " code %d", *r.Code)
	}
	if r.Signal != "" {
		fmt.Fprintf(&b, " signal %s", r.Signal)
	}
	if r.LatencyNS > 0 {
		fmt.Fprintf(&b, " %s", time.Duration(r.LatencyNS).Round(time.Microsecond))
	}
	return b.String()
}
