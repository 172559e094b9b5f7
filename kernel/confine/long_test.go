package confine_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"

	"capsim/run"
	"capsim/scenario"
)

var medianRE = regexp.MustCompile(`round trips: \d+, median: ([0-9.]+) µs`)

// runAdversaryScenario runs scenarios/adversary with the client making
// count calls, without the adversary and the dead server when quiet, and
// returns the client's median round trip in µs.
func runAdversaryScenario(t *testing.T, count int, quiet bool) float64 {
	t.Helper()
	sc, err := scenario.Load("../../scenarios/adversary")
	if err != nil {
		t.Fatal(err)
	}
	var ents []scenario.Entity
	for _, e := range sc.Entities {
		if e.Task == "client" {
			e.Args = []string{"--count", strconv.Itoa(count)}
		}
		if !quiet || e.Task == "server" || e.Task == "client" {
			ents = append(ents, e)
		}
	}
	sc.Entities = ents
	var exps []scenario.Expect
	for _, x := range sc.Expects {
		if x.Output == nil && (!quiet || x.Task == "client") {
			exps = append(exps, x)
		}
	}
	sc.Expects = exps
	var out syncBuffer
	rep, err := run.Run(context.Background(), sc, run.Options{Registry: registry(), Output: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !rep.OK() {
		t.Fatalf("failures: %v\n%s", rep.Failures, out.String())
	}
	m := medianRE.FindSubmatch(bytes.TrimSpace([]byte(out.String())))
	if m == nil {
		t.Fatalf("no median in the output:\n%s", out.String())
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestAdversaryDoesNotStarveTheClient (CAPSIM_LONG=1): the echo client's
// median round trip while the adversary attacks stays within 3× of the
// unattacked one.
func TestAdversaryDoesNotStarveTheClient(t *testing.T) {
	if os.Getenv("CAPSIM_LONG") != "1" {
		t.Skip("long: set CAPSIM_LONG=1")
	}
	const count = 10000
	quiet := runAdversaryScenario(t, count, true)
	attacked := runAdversaryScenario(t, count, false)
	t.Logf("echo client median round trip: %.1f µs unattacked, %.1f µs under attack (%.2f×)", quiet, attacked, attacked/quiet)
	if attacked > 3*quiet {
		t.Errorf("under attack the median is %.1f µs, more than 3× the unattacked %.1f µs", attacked, quiet)
	}
}
