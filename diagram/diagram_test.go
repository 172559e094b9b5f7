package diagram

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"capsim/verify"
)

func loadGraph(t *testing.T, dir string) *verify.Graph {
	t.Helper()
	g, err := verify.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestArchitecture(t *testing.T) {
	g := loadGraph(t, "../verify/testdata/tls")
	tests := []struct {
		format Format
		opts   ArchOptions
		want   []string
	}{
		{Mermaid, ArchOptions{}, []string{
			"flowchart LR\n",
			`subgraph h_device["host device"]`,
			`t_client -->|"socket.*"| t_device_tls`,
			`t_client -.->|"connection vfs: no call permitted"| t_device_vfs`,
		}},
		{Mermaid, ArchOptions{Highlight: []string{"device-tls", "client"}}, []string{"class t_device_tls,t_client tcb"}},
		{DOT, ArchOptions{Highlight: []string{"client"}}, []string{
			`subgraph "cluster_device"`,
			`"client" -> "device-tls" [label="socket.*"];`,
			`"client" -> "device-vfs" [label="connection vfs: no call permitted", style=dotted`,
			`"client" [label="client\ndemo.HttpClient", style="rounded,filled"`,
		}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := Architecture(&b, g, tt.format, tt.opts); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s diagram lacks %q:\n%s", tt.format, w, b.String())
			}
		}
	}
}

func TestSequence(t *testing.T) {
	recs := readTrace(t, "testdata/ping-flow.jsonl")
	tests := []struct {
		format Format
		want   []string
	}{
		{Mermaid, []string{
			"sequenceDiagram\n",
			"participant p_client as client",
			"p_client->>p_server: request echo.Ping +",
			"p_server-->>p_client: response echo.Ping +",
			"p_client-xp_server: request echo.Ping",
			"DENIED: denied by scenarios/ping-flow/policy.psl:",
			"Note over p_client: exit 0",
		}},
		{DOT, []string{"digraph sequence {", "color=red", `style=dashed`}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := Sequence(&b, recs, tt.format); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s sequence lacks %q:\n%s", tt.format, w, b.String())
			}
		}
	}
}

func readTrace(t testing.TB, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadTrace(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestReadTraceErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{\"kind\":\"request\"}\nnot json\n", "t.jsonl:2: "},
		{"{\"seq\":1}\n", "t.jsonl:1: record without kind"},
	}
	for _, tt := range tests {
		_, err := ReadTrace(strings.NewReader(tt.in), "t.jsonl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadTrace(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func FuzzReadTrace(f *testing.F) {
	for _, p := range []string{"testdata/ping-flow.jsonl", "testdata/echo-denied.jsonl"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ReadTrace(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for _, format := range []Format{Mermaid, DOT} {
			var out bytes.Buffer
			if err := Sequence(&out, recs, format); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// allDiagrams renders every scenario's architecture and the sample traces
// in format into dir and returns the files.
func allDiagrams(t *testing.T, format Format, dir string) []string {
	t.Helper()
	var files []string
	write := func(name string, draw func(*bytes.Buffer) error) {
		var b bytes.Buffer
		if err := draw(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := filepath.Join(dir, name+"."+string(format))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, sc := range scenarioDirs(t) {
		g := loadGraph(t, sc)
		opts := ArchOptions{}
		if len(g.Scenario.Properties) > 0 {
			opts.Highlight = []string{g.Tasks[1].Name}
		}
		write("arch-"+filepath.Base(sc), func(b *bytes.Buffer) error { return Architecture(b, g, format, opts) })
	}
	for _, tr := range []string{"testdata/ping-flow.jsonl", "testdata/echo-denied.jsonl"} {
		recs := readTrace(t, tr)
		write("seq-"+strings.TrimSuffix(filepath.Base(tr), ".jsonl"), func(b *bytes.Buffer) error { return Sequence(b, recs, format) })
	}
	return files
}

// scenarioDirs lists every shipped scenario and the verify test designs.
func scenarioDirs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"../scenarios/*/scenario.toml", "../verify/testdata/*/scenario.toml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			out = append(out, filepath.Dir(f))
		}
	}
	return out
}

// TestGraphvizRenders renders every DOT diagram with Graphviz.
func TestGraphvizRenders(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz)")
	}
	for _, f := range allDiagrams(t, DOT, t.TempDir()) {
		out, err := exec.Command(dot, "-Tsvg", "-o", os.DevNull, f).CombinedOutput()
		if err != nil || len(out) > 0 {
			src, _ := os.ReadFile(f)
			t.Errorf("dot %s: %v\n%s\n%s", filepath.Base(f), err, out, src)
		}
	}
}

// TestMermaidParses checks every Mermaid diagram with Mermaid's own parser
// (testdata/mermaid-parse.mjs under node).
func TestMermaidParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	modules := mermaidModules()
	if modules == "" {
		t.Skip("the mermaid and jsdom npm packages are not installed (npm install -g mermaid@11 jsdom, or set MERMAID_MODULES to a node_modules folder holding them)")
	}
	files := allDiagrams(t, Mermaid, t.TempDir())
	cmd := exec.Command(node, append([]string{"testdata/mermaid-parse.mjs"}, files...)...)
	cmd.Env = append(os.Environ(), "MERMAID_MODULES="+modules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("mermaid parse: %v\n%s", err, out)
	}
}

// mermaidModules finds a node_modules folder with mermaid and jsdom:
// $MERMAID_MODULES, else npm's global folder.
func mermaidModules() string {
	var dirs []string
	if d := os.Getenv("MERMAID_MODULES"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	for _, d := range dirs {
		_, e1 := os.Stat(filepath.Join(d, "mermaid", "package.json"))
		_, e2 := os.Stat(filepath.Join(d, "jsdom", "package.json"))
		if e1 == nil && e2 == nil {
			return d
		}
	}
	return ""
}
