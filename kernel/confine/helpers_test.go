package confine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"capsim/entities/adversary"
	"capsim/idl"
	"capsim/kernel"
	"capsim/kernel/confine"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func self(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func entity(t testing.TB, task, class, program string, args ...string) kernel.EntitySpec {
	return kernel.EntitySpec{Task: task, Class: class, Path: self(t), Argv0: "capsim:" + program, Args: args}
}

// system is a running kernel whose entities the Confiner confines.
type system struct {
	k   *kernel.Kernel
	out syncBuffer
}

func startSystem(t testing.TB, mode kernel.IsolateMode, c *confine.Confiner, specs ...kernel.EntitySpec) *system {
	t.Helper()
	s := &system{}
	l := idl.NewLoader([]idl.Root{idl.BuiltinRoot()}, idl.Options{})
	cfg := kernel.Config{Entities: specs, Classes: l.Class, Output: &s.out, Isolate: mode}
	if c != nil {
		cfg.Confiner = c
	}
	k, err := kernel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.k = k
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	return s
}

func (s *system) wait(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if running, err := s.k.Wait(ctx); err != nil {
		t.Fatalf("still running after 60s: %v\noutput:\n%s", running, s.out.String())
	}
}

// pid waits for task's process and returns its host pid.
func (s *system) pid(t testing.TB, task string) int {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if pid := s.k.PID(task); pid > 0 && strings.Contains(s.k.Output(task), "sleeping") {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not start:\n%s", task, s.out.String())
	return 0
}

// results parses the adversary's JSON lines by attack name.
func results(t testing.TB, out string) map[string]adversary.Result {
	t.Helper()
	rs := map[string]adversary.Result{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r adversary.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		rs[r.Attack] = r
	}
	return rs
}
