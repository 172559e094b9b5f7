package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// An interrupted capsim test says how many scenarios it did not run,
// rather than ending with a count that leaves them out silently.
func TestTestInterruptedSaysWhatWasNotRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := runTest(ctx, []string{"../../scenarios/echo", "../../scenarios/ping-flow"}, &stdout, &stderr)
	if code == 0 {
		t.Errorf("exit 0 for an interrupted run\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "interrupted: 1 more not run\n") {
		t.Errorf("stdout lacks the scenarios not run:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
