package run

import (
	"fmt"
	"strings"
	"testing"

	"capsim/idl"
	"capsim/scenario"
)

// TestExpectNamesSorted checks that the names misspelt in one expectation
// are reported in the order they are written, like every other list of
// scenario errors.
func TestExpectNamesSorted(t *testing.T) {
	echo := &idl.Interface{Name: "demo.Echo", Methods: []*idl.Method{{Name: "Ping"}}}
	classes := func(name string) (*idl.Class, error) {
		if name != "demo.EchoServer" {
			return nil, fmt.Errorf("no class %s", name)
		}
		return &idl.Class{Name: name, Endpoints: []*idl.Endpoint{{Name: "echo", Interface: echo}}}, nil
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "method before classes",
			src: "[[entity]]\ntask = \"s\"\nclass = \"demo.EchoServer\"\n[[expect]]\n" +
				"audit = { method = \"Pingg\", dst_class = \"demo.EchoSrv\", endpoint = \"ech\" }\n",
			want: []string{
				`s.toml:5:11: [[expect]] audit: method "Pingg" is no method of the scenario's classes (did you mean "Ping"?)`,
				`s.toml:5:29: [[expect]] audit: dst_class "demo.EchoSrv" is no class of the scenario's classes (did you mean "demo.EchoServer"?)`,
				`s.toml:5:57: [[expect]] audit: endpoint "ech" is no endpoint of the scenario's classes (did you mean "echo"?)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := scenario.Parse("s.toml", t.TempDir(), []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range checkExpectNames(sc, classes) {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
