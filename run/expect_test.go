package run

import "testing"

func TestCountWant(t *testing.T) {
	ptr := func(n int) *int { return &n }
	tests := []struct {
		lo   int
		hi   *int
		want string
	}{
		{0, ptr(0), "no trace records"},
		{1, nil, "at least 1 trace record"},
		{3, nil, "at least 3 trace records"},
		{2, ptr(2), "exactly 2 trace records"},
		{1, ptr(1), "exactly 1 trace record"},
		{2, ptr(5), "2 to 5 trace records"},
	}
	for _, tt := range tests {
		if got := countWant(tt.lo, tt.hi, "trace record"); got != tt.want {
			t.Errorf("countWant(%d, %v) = %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}
