package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"capsim/diag"
)

// FuzzLoad checks that Parse never panics and that every error it returns
// is a positioned diag.List naming the file.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"testdata/valid/*/scenario.toml", "testdata/errors/*.toml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
			}
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.toml", dir, src)
		if err == nil {
			if s == nil {
				t.Fatal("nil scenario without an error")
			}
			return
		}
		var list diag.List
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a diag.List: %v", err)
		}
		for _, e := range list {
			if e.Pos.File != "fuzz.toml" || e.Pos.Line < 1 {
				t.Fatalf("error without a position: %v", e)
			}
		}
	})
}
