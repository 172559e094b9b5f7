package scenario

import (
	"strings"
	"testing"
)

func TestIndexPositions(t *testing.T) {
	src := `# comment [[not]] a = 1
name = "a # not a comment"
text = """
multi [x]
line"""
lit = '''
[[also.not]]
'''
a.b.c = 1
"quoted.key" = 2

[[entity]]
task = "one"
arr = [
  [1, 2],
  { x = 1, y = [3,
    4] },
]

[entity.limits]
inflight = 3

[[entity]]
task = "two"
env = { "A B" = "x", C = 'y' }
when = 1979-05-27 07:32:00

[[entity.mounts]]
path = "/"

[[entity.mounts]]
path = "/b"
`
	idx := indexPositions(src)
	tests := []struct {
		path      string
		line, col int
	}{
		{"name", 2, 1},
		{"text", 3, 1},
		{"lit", 6, 1},
		{"a", 9, 1},
		{"a.b.c", 9, 1},
		{"quoted.key", 10, 1},
		{"entity", 12, 1},
		{"entity.0", 12, 1},
		{"entity.0.task", 13, 1},
		{"entity.0.arr.0", 15, 3},
		{"entity.0.arr.0.1", 15, 7},
		{"entity.0.arr.1", 16, 3},
		{"entity.0.arr.1.y", 16, 12},
		{"entity.0.arr.1.y.1", 17, 5},
		{"entity.0.limits", 20, 1},
		{"entity.0.limits.inflight", 21, 1},
		{"entity.1", 23, 1},
		{"entity.1.env.A B", 25, 9},
		{"entity.1.env.C", 25, 22},
		{"entity.1.when", 26, 1},
		{"entity.1.mounts.0.path", 29, 1},
		{"entity.1.mounts.1", 31, 1},
		{"entity.1.mounts.1.path", 32, 1},
	}
	for _, tt := range tests {
		key := strings.ReplaceAll(tt.path, ".", pathSep)
		if tt.path == "quoted.key" {
			key = tt.path
		}
		if tt.path == "entity.1.env.A B" {
			key = strings.Join([]string{"entity", "1", "env", "A B"}, pathSep)
		}
		got, ok := idx[key]
		if !ok || got != (position{tt.line, tt.col}) {
			t.Errorf("%s at %v (found %v), want %d:%d", tt.path, got, ok, tt.line, tt.col)
		}
	}
	for k := range idx {
		if strings.Contains(k, "not") {
			t.Errorf("indexed %q from a comment or string", k)
		}
	}
}

// TestIndexNeverStalls feeds the indexer malformed text: it must end.
func TestIndexNeverStalls(t *testing.T) {
	for _, src := range []string{"[", "[[", "a = [", "a = {", "= = =", "a = { = }", "\"unterminated", "'''", "a = [}]", "[a]]]"} {
		indexPositions(src)
	}
}
