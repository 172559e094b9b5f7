package kernel

import "testing"

func TestGoMaxProcs(t *testing.T) {
	tests := []struct {
		name        string
		cpu         float64
		tasks, cpus int
		want        int
	}{
		{"fair share, more tasks than CPUs", 0, 9, 2, 1},
		{"fair share of a big machine", 0, 4, 16, 4},
		{"fair share rounds down", 0, 3, 8, 2},
		{"no tasks yet", 0, 0, 2, 2},
		{"cpu limit rounds up", 0.5, 9, 2, 1},
		{"cpu limit above one CPU", 1.5, 9, 4, 2},
		{"cpu limit capped at the machine", 8, 1, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := goMaxProcs(tt.cpu, tt.tasks, tt.cpus); got != tt.want {
				t.Errorf("goMaxProcs(%v, %d, %d) = %d, want %d", tt.cpu, tt.tasks, tt.cpus, got, tt.want)
			}
		})
	}
}

func TestHasEnv(t *testing.T) {
	env := []string{"A=1", "GOMAXPROCS=3", "EMPTY="}
	for key, want := range map[string]bool{"GOMAXPROCS": true, "EMPTY": true, "GOMAX": false, "B": false} {
		if got := hasEnv(env, key); got != want {
			t.Errorf("hasEnv(%q) = %v, want %v", key, got, want)
		}
	}
}
