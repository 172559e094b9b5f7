package scenario

import (
	"errors"
	"strings"
	"testing"

	"capsim/diag"
)

// TestOneErrorPerBadValue checks that a value of the wrong type is
// reported once, at its position, and does not cascade into errors about
// the element that holds it (a missing name, an empty selector) or into
// errors without a position.
func TestOneErrorPerBadValue(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "trace is not a table",
			src:  "[[expect]]\ntrace = \"request\"\n",
			want: []string{`scenario.toml:2:1: key "trace" in [[expect]]: want a table, got string "request"`},
		},
		{
			name: "property kind is not a table",
			src:  "[[property]]\nname = \"p\"\nno_path = 5\n",
			want: []string{`scenario.toml:3:1: key "no_path" in [[property]]: want a table, got integer 5`},
		},
		{
			name: "array element is not a table",
			src:  "host = [1]\nexpect = [3]\n",
			want: []string{
				`scenario.toml:1:9: element 0 of key "host": want a table, got integer 1`,
				`scenario.toml:2:11: element 0 of key "expect": want a table, got integer 3`,
			},
		},
		{
			name: "task is not a string",
			src:  "[[entity]]\ntask = 5\nclass = \"demo.EchoServer\"\n",
			want: []string{`scenario.toml:2:1: key "task" in [[entity]]: want a string, got integer 5`},
		},
		{
			name: "cert name is not a string",
			src:  "certs = [ { name = 1 } ]\n",
			want: []string{`scenario.toml:1:13: key "name" in certs: want a string, got integer 1`},
		},
		{
			name: "connection target is not a string",
			src: "[[entity]]\ntask = \"c\"\nclass = \"demo.EchoClient\"\n" +
				"connections = [ { target = 1, id = \"x\" } ]\n",
			want: []string{`scenario.toml:4:19: key "target" in [[entity]].connections: want a string, got integer 1`},
		},
		{
			name: "allow element is not a string",
			src: "[[entity]]\ntask = \"a\"\nclass = \"demo.EchoServer\"\n" +
				"[[property]]\nname = \"p\"\ncalls = { from = \"a\", to = \"a\", allow = [\"echo.Ping\", 3] }\n",
			want: []string{`scenario.toml:6:55: element 1 of key "allow" in [[property]].calls: want a string, got integer 3`},
		},
		{
			name: "property task is not a string",
			src:  "[[entity]]\ntask = \"a\"\nclass = \"demo.EchoServer\"\n[[property]]\nname = \"p\"\nno_path = { from = \"a\", to = 2 }\n",
			want: []string{`scenario.toml:6:25: key "to" in [[property]].no_path: want a string, got integer 2`},
		},
		{
			name: "negative size",
			src:  "[[expect]]\nkernel_max_rss = -1\n",
			want: []string{`scenario.toml:2:1: key "kernel_max_rss" in [[expect]]: a size must not be negative, got integer -1`},
		},
		{
			name: "size as a float",
			src:  "[[expect]]\nkernel_max_rss = 1.5\n",
			want: []string{`scenario.toml:2:1: key "kernel_max_rss" in [[expect]]: want a size (bytes as an integer, or a string such as "4MiB"), got float 1.5`},
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
