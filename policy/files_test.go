package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"capsim/diag"
)

func TestExamplePolicies(t *testing.T) {
	tests := []struct {
		file           string
		passed, failed int
	}{
		{"testdata/all.psl", 9, 0},
		{"testdata/wrong.psl", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Compile(tt.file, testOpts())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			passed, failed := p.RunTests(&out, TestOptions{})
			if passed != tt.passed || failed != tt.failed {
				t.Errorf("RunTests = %d passed, %d failed, want %d, %d\n%s", passed, failed, tt.passed, tt.failed, out.String())
			}
			last := strings.TrimSpace(out.String())
			last = last[strings.LastIndexByte(last, '\n')+1:]
			if want := strconv.Itoa(tt.passed) + " passed, " + strconv.Itoa(tt.failed) + " failed"; last != want {
				t.Errorf("last line %q, want %q", last, want)
			}
		})
	}
}

var errorComment = regexp.MustCompile(`// ERROR "((?:[^"\\]|\\.)*)"`)

// TestMalformedPolicies checks every error against the `// ERROR "rx"`
// comments of testdata/bad: each error must be on a line with a comment
// whose pattern it matches, and each comment must be matched.
func TestMalformedPolicies(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.psl")
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]*regexp.Regexp{}
			for i, line := range strings.Split(string(src), "\n") {
				if m := errorComment.FindStringSubmatch(line); m != nil {
					rx, err := strconv.Unquote(`"` + m[1] + `"`)
					if err != nil {
						rx = m[1]
					}
					want[i+1] = regexp.MustCompile(rx)
				}
			}
			_, err = Compile(file, testOpts())
			l, ok := err.(diag.List)
			if !ok {
				t.Fatalf("Compile = %v, want a diag.List", err)
			}
			matched := map[int]bool{}
			for _, e := range l {
				if e.Pos.File != file || e.Pos.Col == 0 {
					t.Errorf("error not positioned in %s: %v", file, e)
					continue
				}
				rx := want[e.Pos.Line]
				if rx == nil || !rx.MatchString(e.Msg) {
					t.Errorf("unexpected error %v", e)
					continue
				}
				matched[e.Pos.Line] = true
			}
			for line, rx := range want {
				if !matched[line] {
					t.Errorf("%s:%d: missing error matching %q (got %v)", file, line, rx, l)
				}
			}
		})
	}
}
