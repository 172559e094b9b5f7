package run_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/diag"
	"capsim/run"
	"capsim/scenario"
)

// TestSetupErrorsAtOnce checks that a run reports every class, expectation
// and built-in program error together, before it sets anything up: a
// misspelt built-in program was told only once the classes were right.
func TestSetupErrorsAtOnce(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "class and program",
			src: "[[entity]]\ntask = \"a\"\nclass = \"demo.EchoSrv\"\n" +
				"[[entity]]\ntask = \"b\"\nclass = \"demo.EchoServer\"\nprogram = \"capsim:echo-srv\"\n",
			want: []string{
				`scenario.toml:3:1: entity "a": class demo.EchoSrv`,
				`scenario.toml:7:1: entity "b": no built-in program "capsim:echo-srv" (did you mean "capsim:echo-server"? see ` + "`capsim programs`)",
			},
		},
		{
			name: "class without a program and a misspelt method",
			src: "[[entity]]\ntask = \"a\"\nclass = \"kl.core.Core\"\n" +
				"[[expect]]\ntrace = { method = \"Pingg\" }\n",
			want: []string{
				`scenario.toml:3:1: entity "a": class kl.core.Core has no built-in program; set program`,
				`scenario.toml:5:11: [[expect]] trace: method "Pingg" is no method`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			sc, err := scenario.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = run.Run(context.Background(), sc, run.Options{Registry: registry()})
			if err == nil {
				t.Fatal("run: no error")
			}
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("run: %v, want a diag.List", err)
			}
			var lines []string
			for _, e := range list {
				lines = append(lines, e.Error())
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || strings.Contains(l, w)
				}
				if !found {
					t.Errorf("run:\n%s\nwant a line with %q", strings.Join(lines, "\n"), w)
				}
			}
		})
	}
}

// TestWithSetupErrors: a scenario that does not load still gets its class,
// program and expectation-name errors in the same list, sorted, so that
// one pass fixes all.
func TestWithSetupErrors(t *testing.T) {
	dir := t.TempDir()
	src := "[[entity]]\ntask = \"a\"\nclass = \"demo.EchoSrv\"\n" +
		"[[entity]]\ntask = \"b\"\nclass = \"demo.EchoClient\"\nprogram = \"capsim:echo-clinet\"\nbogus = 1\n" +
		"[[expect]]\ntrace = { method = \"Pnig\" }\n"
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(dir)
	if err == nil {
		t.Fatal("the scenario loaded despite its unknown key")
	}
	err = run.WithSetupErrors(sc, err, run.Options{Registry: registry()})
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("WithSetupErrors = %v, want a diag.List", err)
	}
	want := []string{
		`scenario.toml:3:1: entity "a": class demo.EchoSrv`,
		`scenario.toml:7:1: entity "b": no built-in program "capsim:echo-clinet" (did you mean "capsim:echo-client"?`,
		`scenario.toml:8:1: unknown key "bogus"`,
		`scenario.toml:10:11: [[expect]] trace: method "Pnig"`,
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(list[i].Error(), w) {
			t.Errorf("error %d = %s, want %s", i, list[i], w)
		}
	}
}
