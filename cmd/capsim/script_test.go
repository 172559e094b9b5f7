package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"capsim/entities/builtin"
	"capsim/kernel/confine"
)

// The test binary is also capsim (for scripts) and every built-in program
// (for the entities the scripts' scenarios start).
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	builtin.Registry().MainIfEntity()
	testscript.Main(m, map[string]func(){
		"capsim": func() { os.Exit(capsim(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: the command
// line as a user types it, with its output and exit codes.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("SCENARIOS", filepath.Join(root, "scenarios"))
			return nil
		},
	})
}
