package entity_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"
	"time"

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
// that entity to, covering the first profileForVar (a duration) of its run
// (set by the benchmarks when CAPSIM_BENCH_PROFILE names a folder; see
// bench_test.go). The kernel ends entities with SIGKILL, so the profile is
// written when the window closes, and a program that returns sooner waits
// for its window: the main entity keeps the run alive until every profile
// is written.
const (
	profileVar    = "BENCH_CPUPROFILE"
	profileForVar = "BENCH_CPUPROFILE_FOR"
)

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

// profiled wraps p so that it writes a CPU profile when profileVar is set.
func profiled(p *entities.Program) *entities.Program {
	q := *p
	q.Run = func(ctx context.Context, rt *entities.Runtime, args []string) int {
		if path := os.Getenv(profileVar); path != "" {
			written := startProfile(rt, path, os.Getenv(profileForVar))
			defer func() {
				<-written
				time.Sleep(2 * time.Second) // the others' windows, started a little later
			}()
		}
		return p.Run(ctx, rt, args)
	}
	return &q
}

// startProfile profiles the process for the window, then writes the
// profile to path and closes the channel it returns.
func startProfile(rt *entities.Runtime, path, window string) <-chan struct{} {
	done := make(chan struct{})
	d, err := time.ParseDuration(window)
	if err != nil {
		d = 10 * time.Second
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "%s: %v\n", profileVar, err)
		close(done)
		return done
	}
	go func() {
		defer close(done)
		time.Sleep(d)
		pprof.StopCPUProfile()
		f.Close()
	}()
	return done
}
