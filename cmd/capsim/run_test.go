package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunTimeoutFlag checks that --timeout takes only a duration longer
// than 0s: 0 or a negative duration was ignored, and the run went on under
// the scenario's timeout.
func TestRunTimeoutFlag(t *testing.T) {
	tests := []struct {
		arg, want string
	}{
		{"0s", "capsim: --timeout 0s: want a duration longer than 0s\n"},
		{"-1s", "capsim: --timeout -1s: want a duration longer than 0s\n"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runRun(context.Background(), []string{"--timeout", tt.arg, t.TempDir()}, &stdout, &stderr)
			if code != 2 || !strings.HasPrefix(stderr.String(), tt.want) {
				t.Errorf("run --timeout %s: code %d, stderr %q; want 2, %q", tt.arg, code, stderr.String(), tt.want)
			}
		})
	}
}
