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
	if code != exitInterrupted {
		t.Errorf("exit %d for an interrupted test, want %d\n%s", code, exitInterrupted, stdout.String())
	}
	if !strings.Contains(stdout.String(), "interrupted: 1 more not run\n") {
		t.Errorf("stdout lacks the scenarios not run:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

// An interrupted run exits 130, not 1: a script can tell it from a failed
// expectation.
func TestRunInterruptedExitCode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if code := runRun(ctx, []string{"../../scenarios/echo"}, &stdout, &stderr); code != exitInterrupted {
		t.Errorf("exit %d for an interrupted run, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout.String(), stderr.String())
	}
}
