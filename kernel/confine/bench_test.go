package confine_test

import (
	"testing"

	"capsim/kernel"
	"capsim/kernel/confine"
)

// BenchmarkEntityStart: time from the kernel's start to the exit of an
// entity that exits at once, with and without confinement.
func BenchmarkEntityStart(b *testing.B) {
	cases := []struct {
		name string
		mode kernel.IsolateMode
		c    *confine.Confiner
	}{
		{"unconfined", kernel.IsolateOff, nil},
		{"netns-only", kernel.IsolateAuto, nil},
		{"confined", kernel.IsolateOn, confine.New(confine.Options{})},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			spec := entity(b, "exit", "demo.EchoClient", "test-exit")
			spec.Main = true
			if tc.c != nil {
				// The probe runs once per Confiner: not part of a start.
				startSystem(b, tc.mode, tc.c, spec).wait(b)
			}
			b.ResetTimer()
			for b.Loop() {
				s := startSystem(b, tc.mode, tc.c, spec)
				s.wait(b)
				if st, _ := s.k.Exit("exit"); st.Code != 0 {
					b.Fatalf("exit: %+v\n%s", st, s.out.String())
				}
				s.k.Stop()
			}
		})
	}
}
