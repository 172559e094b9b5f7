package diagram

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestReadTraceCut checks that a trace whose last line a killed run cut
// short yields the records before it, and only that.
func TestReadTraceCut(t *testing.T) {
	tests := []struct {
		in   string
		recs int  // records returned
		cut  bool // the error wraps ErrCut
	}{
		{"{\"kind\":\"request\"}\n{\"kind\":\"resp", 1, true},
		{"{\"kind\":\"request\"}\n{\"kind\":\"exit\",\"code\":1", 1, true},
		{"{\"kind\":\"request\"}\n{\"kind\":\"request\",\"reason\":\"\xc3", 1, true},
		{"{\"kind\":\"request\"}\n{\"kind\":\"resp\n", 0, false},      // ended: not cut
		{"{\"kind\":\"request\"}\n{\"kind\":\"x\"}garbage", 0, false}, // not an end
		{"{\"kind\":\"re\n{\"kind\":\"request\"}", 0, false},          // not the last line
		{"{\"kind\":\"request\"}\n{\"kind\":\"exit\"}", 2, false},
	}
	for _, tt := range tests {
		recs, err := ReadTrace(strings.NewReader(tt.in), "t.jsonl")
		if len(recs) != tt.recs || errors.Is(err, ErrCut) != tt.cut || (err == nil) != (tt.recs > 0 && !tt.cut) {
			t.Errorf("ReadTrace(%q) = %d records, %v; want %d, cut %v", tt.in, len(recs), err, tt.recs, tt.cut)
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
	files = append(files, hostileDiagrams(t, format, dir)...)
	return files
}

// hostileNames are texts a user may write where diagrams show them
// (connection ids, the policy file's path in a deny reason, the scenario's
// name) or that a trace may hold: every diagram must stay valid and show
// them as they are.
var hostileNames = []string{
	`a"b\c\n`,
	"x;y#z #quot; #59; &amp;",
	"<b>|[p](q){r}`md`-->x",
	"line\n%% comment\nend",
	"ctl\x01\x1b\x7f\t\r",
	"ü 🎉 %%{init: {}}%%",
}

// hostileDiagrams writes the architecture of a scenario and the sequence
// of a trace that hold hostileNames into dir and returns the files.
func hostileDiagrams(t *testing.T, format Format, dir string) []string {
	t.Helper()
	sc := filepath.Join(dir, "hostile")
	policy := `pol "x" ;#%%.psl`
	toml := "name = " + tomlQuote(strings.Join(hostileNames, " ")) + "\npolicy = " + tomlQuote(policy) + "\n" +
		"[[entity]]\ntask = \"z\"\nclass = \"kl.VfsRamFs\"\n"
	for i, h := range hostileNames { // one client each: a diagram draws one channel per pair
		toml += fmt.Sprintf("[[entity]]\ntask = \"c-%d\"\nclass = \"demo.EchoClient\"\nconnections = [ { target = \"z\", id = %s } ]\n", i, tomlQuote(h))
	}
	writeFile(t, filepath.Join(sc, "scenario.toml"), toml)
	writeFile(t, filepath.Join(sc, policy), `execute: kl.core.Execute
use nk.base._
use EDL kl.core.Core
use EDL demo.EchoClient
use EDL kl.VfsRamFs
execute { grant () }
request src=demo.EchoClient dst=kl.core.Core { grant () }
response src=kl.core.Core { grant () }
error src=kl.core.Core { grant () }
`)
	g := loadGraph(t, sc)
	var arch bytes.Buffer
	if err := Architecture(&arch, g, format, ArchOptions{Highlight: []string{"c-0"}}); err != nil {
		t.Fatal(err)
	}
	var seq bytes.Buffer
	if err := Sequence(&seq, hostileTrace(), format); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "arch-hostile."+string(format)), filepath.Join(dir, "seq-hostile."+string(format))}
	writeFile(t, files[0], arch.String())
	writeFile(t, files[1], seq.String())
	return files
}

// hostileTrace is a trace whose participants, endpoints and deny reasons
// are hostileNames (and invalid UTF-8).
func hostileTrace() []Record {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	code := 1
	recs := []Record{{Kind: "execute", Src: "kernel", Dst: "client", PID: 7, Time: t0}}
	for i, h := range append(hostileNames, "bad \xff\xfe utf-8") {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		recs = append(recs,
			Record{Kind: "request", Src: "client", Dst: h, Endpoint: h, Method: "M", Decision: "deny", Reason: "denied by " + h + ":1:2", Time: at},
			Record{Kind: "error", Src: h, Dst: "client", Endpoint: "e", Method: h, Time: at},
			Record{Kind: "exit", Src: h, Code: &code, Time: at})
	}
	return recs
}

// tomlQuote writes s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
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
		var svg, stderr bytes.Buffer
		cmd := exec.Command(dot, "-Tsvg", f)
		cmd.Stdout, cmd.Stderr = &svg, &stderr
		err := cmd.Run()
		if err == nil && stderr.Len() == 0 {
			err = wellFormed(svg.Bytes())
		}
		if err != nil || stderr.Len() > 0 {
			src, _ := os.ReadFile(f)
			t.Errorf("dot %s: %v\n%s\n%s", filepath.Base(f), err, stderr.Bytes(), src)
		}
	}
}

// wellFormed checks that b is well-formed XML (SVG a browser can show).
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
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

// TestMermaidFaithful checks that Mermaid, reading the diagrams of
// hostileNames, shows each name as it is: no character taken for syntax,
// an entity code or a comment, none dropped or replaced.
func TestMermaidFaithful(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	modules := mermaidModules()
	if modules == "" {
		t.Skip("the mermaid and jsdom npm packages are not installed")
	}
	files := hostileDiagrams(t, Mermaid, t.TempDir())
	cmd := exec.Command(node, append([]string{"testdata/mermaid-labels.mjs"}, files...)...)
	cmd.Env = append(os.Environ(), "MERMAID_MODULES="+modules)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mermaid: %v", err)
	}
	var texts []string
	if err := json.Unmarshal(out, &texts); err != nil {
		t.Fatal(err)
	}
	all := strings.ReplaceAll(strings.Join(texts, "\n"), "<br>", "<br/>")
	for _, h := range append(hostileNames, "bad \xff\xfe utf-8") {
		want := strings.ReplaceAll(visible(h), "\n", "<br/>")
		for _, w := range []string{"connection " + want + ": no call permitted", "denied by " + want + ":1:2"} {
			if strings.HasPrefix(w, "connection ") && strings.Contains(h, "\xff") {
				continue // not in a scenario: TOML is UTF-8
			}
			if !strings.Contains(all, w) {
				t.Errorf("Mermaid shows no %q; it shows:\n%s", w, all)
			}
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, mermaid, dot string }{
		{`a"b\c`, `a#quot;b\c`, `"a\"b\\c"`},
		{"x;y#z", "x#59;y#35;z", `"x;y#z"`},
		{"#quot; #59;", "#35;quot#59; #35;59#59;", `"#quot; #59;"`},
		{"<b>`md`", "#lt;b#gt;#96;md#96;", "\"<b>`md`\""},
		{"a\n%% b", "a<br/>%#37; b", `"a\n%% b"`},
		{"%%{init: {}}%%%", "%#37;{init: {}}%#37;%", `"%%{init: {}}%%%"`},
		{"c\x01\x1b\x7f\t\r\u0085", `c\x01\x1b\x7f\t\r\u0085`, `"c\\x01\\x1b\\x7f\\t\\r\\u0085"`},
		{"bad \xff\xfe", `bad \xff\xfe`, `"bad \\xff\\xfe"`},
		{"ü 🎉 \ufffd", "ü 🎉 \ufffd", "\"ü 🎉 \ufffd\""},
	}
	for _, tt := range tests {
		if got := mermaidText(tt.in); got != tt.mermaid {
			t.Errorf("mermaidText(%q) = %q, want %q", tt.in, got, tt.mermaid)
		}
		if got := dotQuote(tt.in); got != tt.dot {
			t.Errorf("dotQuote(%q) = %q, want %q", tt.in, got, tt.dot)
		}
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
