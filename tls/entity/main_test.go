package entity_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"

	"capsim/entities"
	"capsim/entities/builtin"
	"capsim/kernel/confine"
)

// The test binary serves as the capsim binary: the kernel starts the
// built-in programs and this package's test-only programs from it.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

// profileVar, in an entity's env, names a file to write a CPU profile of
// that entity to (set by the benchmarks when CAPSIM_BENCH_PROFILE names a
// folder; see bench_test.go).
const profileVar = "BENCH_CPUPROFILE"

// registry is the built-in programs plus the benchmarks' own, each able to
// profile itself.
func registry() *entities.Registry {
	r := entities.NewRegistry()
	for _, p := range builtin.Registry().All() {
		r.Register(profiled(p))
	}
	r.Register(profiled(&entities.Program{Name: "bench-send", Class: "demo.HttpClient",
		Summary: "bulk: sends N MiB over one connection and waits for one byte back; connect: N connect+close",
		Run:     runBenchSend}))
	r.Register(profiled(&entities.Program{Name: "bench-recv", Class: "demo.HttpServer",
		Summary: "bulk: reads one connection to EOF and answers one byte; accept: answers one byte per connection",
		Run:     runBenchRecv}))
	return r
}

// profiled wraps p so that it writes a CPU profile to the file profileVar
// names, when set.
func profiled(p *entities.Program) *entities.Program {
	q := *p
	q.Run = func(ctx context.Context, rt *entities.Runtime, args []string) int {
		if path := os.Getenv(profileVar); path != "" {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintf(rt.Stderr(), "%s: %v\n", profileVar, err)
			} else if err := pprof.StartCPUProfile(f); err == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
		return p.Run(ctx, rt, args)
	}
	return &q
}
