package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// A scenario that cannot load makes capsim test exit 2, an input error,
// as capsim run does for it; a failed expectation alone exits 1.
func TestTestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "scenario.toml"), []byte("[[entity]]\ntask = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := runTest(context.Background(), []string{"../../scenarios/echo", bad}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d with a scenario that cannot load, want 2\n%s", code, stdout.String())
	}
	if !strings.Contains(stdout.String(), "1 passed, 1 failed") {
		t.Errorf("stdout lacks the count:\n%s", stdout.String())
	}
}
