package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Go program folder copied outside the capsim module fails to build; the
// error says how to give it a module that finds capsim.
func TestBuildOutsideModuleHints(t *testing.T) {
	dir := t.TempDir()
	src := "package main\n\nimport _ \"capsim/entities\"\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var ps programs
	_, err := ps.build(context.Background(), dir)
	if err == nil {
		t.Fatal("build outside any module succeeded")
	}
	for _, want := range []string{"go build", "replace capsim =>", "docs/PROGRAMS.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestBuildHintOnlyForModuleErrors(t *testing.T) {
	if h := buildHint("./main.go:3:2: undefined: foo"); h != "" {
		t.Errorf("hint for a compile error: %q", h)
	}
}
