package run_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/entities"
	"capsim/entities/builtin"
	"capsim/kernel/confine"
	"capsim/run"
	"capsim/scenario"
)

// The test binary serves as the capsim binary for the built-in programs.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

// TestShippedScenarios runs every scenario in scenarios/ and checks its
// expectations, as `capsim test scenarios` does.
func TestShippedScenarios(t *testing.T) {
	dirs, err := filepath.Glob("../scenarios/*/scenario.toml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rep, out := runScenario(t, dir, run.Options{})
			if !rep.OK() {
				t.Errorf("failures:\n%s\noutput:\n%s", strings.Join(rep.Failures, "\n"), out)
			}
		})
	}
}

// registry is the built-in programs plus the ones only these tests use.
func registry() *entities.Registry {
	r := builtin.Registry()
	for _, p := range testPrograms() {
		r.Register(p)
	}
	return r
}

func runDir(ctx context.Context, dir string, opts run.Options) (*run.Report, error) {
	sc, err := scenario.Load(dir)
	if err != nil {
		return nil, err
	}
	return run.Run(ctx, sc, opts)
}

func runScenario(t *testing.T, dir string, opts run.Options) (*run.Report, string) {
	t.Helper()
	sc, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts.Registry = registry()
	sw := &syncWriter{w: &out} // one lock for the one buffer both write to
	opts.Output, opts.Stderr = sw, sw
	rep, err := run.Run(context.Background(), sc, opts)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return rep, out.String()
}
