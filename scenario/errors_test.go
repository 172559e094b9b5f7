package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"capsim/diag"
)

// errorComment finds `ERROR `regexp“ comments: each names an error
// expected on its own line, matched against the message without position.
var errorComment = regexp.MustCompile("ERROR `([^`]*)`")

// TestErrorFiles loads every testdata/errors/*.toml and matches the errors
// against the ERROR comments of each line: every comment must match one
// error on its line and every error must be expected.
func TestErrorFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int][]*regexp.Regexp{}
			for i, line := range strings.Split(string(src), "\n") {
				for _, m := range errorComment.FindAllStringSubmatch(line, -1) {
					want[i+1] = append(want[i+1], regexp.MustCompile(m[1]))
				}
			}
			_, err = Load(file)
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Load(%s) = %v, want a diag.List", file, err)
			}
			for _, e := range list {
				if e.Pos.File != file {
					t.Errorf("error names file %q, want %q: %v", e.Pos.File, file, e)
				}
				if !takeMatch(want, e) {
					t.Errorf("unexpected error: %v", e)
				}
			}
			for line, rxs := range want {
				for _, rx := range rxs {
					t.Errorf("%s:%d: no error matching %q", file, line, rx)
				}
			}
		})
	}
}

// takeMatch removes and reports the first expectation of e's line that
// matches e.
func takeMatch(want map[int][]*regexp.Regexp, e *diag.Error) bool {
	rxs := want[e.Pos.Line]
	for i, rx := range rxs {
		if rx.MatchString(e.Msg) {
			want[e.Pos.Line] = append(rxs[:i:i], rxs[i+1:]...)
			if len(want[e.Pos.Line]) == 0 {
				delete(want, e.Pos.Line)
			}
			return true
		}
	}
	return false
}

// TestMessages checks whole rendered messages, position included.
func TestMessages(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "unknown key",
			src:  "[[host]]\nname = \"a\"\nadress = [\"10.0.0.1/24\"]\n",
			want: []string{`scenario.toml:3:1: unknown key "adress" in [[host]] (did you mean "addresses"?)`},
		},
		{
			name: "connection target",
			src: "[[entity]]\ntask = \"server\"\nclass = \"demo.EchoServer\"\n\n[[entity]]\ntask = \"client\"\n" +
				"class = \"demo.EchoClient\"\nconnections = [ { target = \"sever\", id = \"echo\" } ]\n",
			want: []string{`scenario.toml:8:19: entity "client": connection: target "sever" is not a task (did you mean "server"?)`},
		},
		{
			name: "syntax error with column",
			src:  "name = \"x\"\nseed = 1 2\n",
			want: []string{`scenario.toml:2:9: expected a top-level item to end with a newline, comment, or EOF, but got '2' instead`},
		},
		{
			name: "sorted by line",
			src:  "seed = \"x\"\n[[host]]\nname = \"A\"\n[[host]]\nnme = \"b\"\n",
			want: []string{
				`scenario.toml:1:1: key "seed": want an integer, got string "x"`,
				`scenario.toml:3:1: [[host]] name "A" must match [a-z][a-z0-9-]*`,
				`scenario.toml:4:1: [[host]] needs a name`,
				`scenario.toml:5:1: unknown key "nme" in [[host]] (did you mean "name"?)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("scenario.toml", t.TempDir(), []byte(tt.src))
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v, want a diag.List", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	s, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err == nil || s != nil {
		t.Fatalf("Load of a missing path = %v, %v; want an error", s, err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Errorf("Load of a folder without %s = %v", FileName, err)
	}
}

// A newcomer's wrong paths get a hint: the scenario next to a typo, the
// scenarios below a folder, and what a scenario file is.
func TestLoadPathHints(t *testing.T) {
	root := t.TempDir()
	echo := filepath.Join(root, "echo")
	if err := os.MkdirAll(echo, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{FileName, "policy.psl"} {
		if err := os.WriteFile(filepath.Join(echo, f), []byte("\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(root, "ecoh"), `does not exist (did you mean "` + echo + `"?)`},
		{filepath.Join(root, "nothing-like-it"), "does not exist; a scenario is a folder holding scenario.toml"},
		{root, "holds no scenario.toml; its subfolders are scenarios: run one (" + echo + "), or all of them with capsim test " + root},
		{filepath.Join(echo, "policy.psl"), "is not a scenario file"},
	} {
		_, err := Load(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want an error containing %q", tt.path, err, tt.want)
		}
	}
}
