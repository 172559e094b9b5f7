package policy

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/diag"
	"capsim/idl"
)

// FuzzCompile compiles arbitrary policy source (seeded with the test
// policies, so that the fuzzer starts from programs that get past the
// parser): Compile must not panic, every error must be a positioned
// diag.List naming the main file or a file it uses, and a policy that
// compiles must run its PAL tests without panicking.
func FuzzCompile(f *testing.F) {
	for _, glob := range []string{"testdata/*.psl", "testdata/*/*.psl"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(string(src))
			}
		}
	}
	opts := testOpts()
	opts.Loader = idl.NewLoader(opts.Roots, idl.Options{})
	f.Fuzz(func(t *testing.T, src string) {
		p, err := CompileSource("testdata/f.psl", src, opts)
		if err != nil {
			var list diag.List
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error that is not a diag.List: %v", err)
			}
			for _, e := range list {
				if !e.Pos.IsValid() || !strings.HasPrefix(e.Pos.File, "testdata/") {
					t.Fatalf("error without a position in the policy: %v", e)
				}
			}
			return
		}
		if p == nil {
			t.Fatal("nil policy without an error")
		}
		p.RunTests(io.Discard, TestOptions{Verbose: true})
	})
}
