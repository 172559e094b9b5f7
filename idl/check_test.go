package idl

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"capsim/diag"
)

func okLoader() *Loader {
	return NewLoader([]Root{DirRoot("testdata/ok"), BuiltinRoot()}, Options{})
}

func TestBuiltinsCheck(t *testing.T) {
	l := NewLoader([]Root{BuiltinRoot()}, Options{})
	pkgs := map[string]int{ // package → methods
		"demo.Echo": 3, "capsim.Socket": 19, "capsim.File": 14, "kl.core.Locator": 2,
		"kl.core.Handles": 2, "kl.core.Tasks": 1, "kl.core.Execute": 1,
	}
	for name, n := range pkgs {
		p, err := l.Package(name)
		if err != nil {
			t.Fatalf("Package(%s): %v", name, err)
		}
		if p.Interface == nil || len(p.Interface.Methods) != n {
			t.Errorf("%s: interface %+v, want %d methods", name, p.Interface, n)
		}
	}
	classes := map[string][]string{
		"demo.EchoServer": {"echo"}, "kl.core.Core": {"locator", "handles", "tasks"},
		"kl.TlsEntity": {"socket"}, "kl.VfsNet": {"socket"}, "kl.VfsRamFs": {"fs"},
		"capsim.Netstack": {"socket"}, "capsim.Adversary": nil, "demo.EchoClient": nil,
		"demo.HttpServer": nil, "demo.HttpClient": nil,
	}
	for name, eps := range classes {
		c, err := l.Class(name)
		if err != nil {
			t.Fatalf("Class(%s): %v", name, err)
		}
		if got := endpointNames(c); strings.Join(got, ",") != strings.Join(eps, ",") {
			t.Errorf("%s endpoints = %v, want %v", name, got, eps)
		}
	}
}

func endpointNames(c *Class) []string {
	var out []string
	for i, ep := range c.Endpoints {
		if ep.ID != i {
			return []string{"bad ID"}
		}
		out = append(out, ep.Name)
	}
	return out
}

func TestEveryConstruct(t *testing.T) {
	l := okLoader()
	p, err := l.Package("test.Full")
	if err != nil {
		t.Fatal(err)
	}
	wantConsts := map[string]int64{"N": 129, "Small": 44, "Neg": -128, "Shifted": 4, "Masked": 0x0f01}
	for k, v := range wantConsts {
		if p.Consts[k] != v {
			t.Errorf("const %s = %d, want %d", k, p.Consts[k], v)
		}
	}
	types, _ := l.Package("test.Types")
	if types.Consts["Big"] != 1<<40-1 || types.Consts["Mask"] != 1<<12|7 {
		t.Errorf("test.Types consts = %v", types.Consts)
	}
	rec := p.Types["Record"]
	if rec == nil || rec.Kind != Struct || len(rec.Fields) != 18 {
		t.Fatalf("Record = %+v", rec)
	}
	fieldTypes := map[string]string{
		"text": "string<129>", "quad": "test.Full.Quad", "points": "sequence<test.Types.Point, 8>",
		"shape": "test.Types.Shape", "origin": "test.Types.Point", "grid": "array<sequence<UInt16, 3>, 2>",
		"h": "Handle", "flag": "Bool",
	}
	for _, f := range rec.Fields {
		if want, ok := fieldTypes[f.Name]; ok && TypeString(f.Type) != want {
			t.Errorf("field %s: type %s, want %s", f.Name, TypeString(f.Type), want)
		}
	}
	if p.Types["P"] != types.Types["Point"] {
		t.Error("typedef of a struct is not the same type")
	}
	if q := p.Types["Quad"]; q.Kind != Array || q.Bound != 4 || q.Elem.Kind != UInt8 {
		t.Errorf("Quad = %+v", q)
	}
	m := p.Interface.Methods
	if len(m) != 6 || m[2].Name != "Get" || m[2].ID != 2 {
		t.Fatalf("methods = %v", m)
	}
	if len(m[2].In.Fields) != 1 || len(m[2].Out.Fields) != 2 || len(m[2].Err.Fields) != 2 {
		t.Errorf("Get params: in %d out %d err %d", len(m[2].In.Fields), len(m[2].Out.Fields), len(m[2].Err.Fields))
	}
	if len(m[3].In.Fields)+len(m[3].Out.Fields)+len(m[3].Err.Fields) != 0 {
		t.Error("Notify has parameters")
	}
	if got := p.Imports; len(got) != 1 || got[0] != "test.Types" {
		t.Errorf("imports = %v", got)
	}
}

func TestClassFlattening(t *testing.T) {
	l := okLoader()
	c, err := l.Class("test.Server")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"full", "ping", "outer.a", "outer.inner.b"}
	if got := endpointNames(c); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("endpoints = %v, want %v", got, want)
	}
	if c.Security == nil || c.Security.Name != "test.Full" {
		t.Errorf("security = %v", c.Security)
	}
	if c.File != "testdata/ok/test/Server.edl" || c.Pos.Line != 2 || c.Pos.Col != 12 {
		t.Errorf("file %s pos %v", c.File, c.Pos)
	}
	old, err := l.Class("test.Old")
	if err != nil || len(old.Endpoints) != 1 || old.Endpoints[0].Name != "x" {
		t.Errorf("old-style entity: %v %v", old, err)
	}
	again, _ := l.Class("test.Server")
	if again != c {
		t.Error("class not cached")
	}
}

func TestCheckFilesOK(t *testing.T) {
	files, _ := filepath.Glob("testdata/ok/test/*")
	if err := okLoader().CheckFiles(files); err != nil {
		t.Fatal(err)
	}
}

// expectation is one /* ERROR "rx" */ comment: an error matching rx is
// expected on that line.
type expectation struct {
	file string
	line int
	rx   *regexp.Regexp
}

var errorComment = regexp.MustCompile(`/\* ERROR "((?:[^"\\]|\\.)*)" \*/`)

func readExpectations(t *testing.T, files []string) []expectation {
	var out []expectation
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, m := range errorComment.FindAllStringSubmatch(line, -1) {
				rx := regexp.MustCompile(strings.ReplaceAll(m[1], `\"`, `"`))
				out = append(out, expectation{f, i + 1, rx})
			}
		}
	}
	return out
}

// TestErrors checks every file under testdata/bad against its ERROR
// comments: each error must be expected on its line, and each expectation
// met.
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/bad/*")
	sort.Strings(files)
	l := NewLoader([]Root{DirRoot("testdata/bad")}, Options{})
	err := l.CheckFiles(files)
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("CheckFiles: %v", err)
	}
	exps := readExpectations(t, files)
	met := make([]bool, len(exps))
	for _, e := range list {
		found := false
		for i, x := range exps {
			if x.file == e.Pos.File && x.line == e.Pos.Line && x.rx.MatchString(e.Msg) {
				met[i], found = true, true
			}
		}
		if !found {
			t.Errorf("unexpected error %s", e)
		}
		if e.Pos.Col == 0 {
			t.Errorf("error without a column: %s", e)
		}
	}
	for i, x := range exps {
		if !met[i] {
			t.Errorf("%s:%d: no error matching %q", x.file, x.line, x.rx)
		}
	}
}

func TestLookup(t *testing.T) {
	c, err := okLoader().Class("test.Server")
	if err != nil {
		t.Fatal(err)
	}
	ep, m, err := c.Lookup(3, 2)
	if err != nil || ep.Name != "outer.inner.b" || m.Name != "Get" {
		t.Errorf("Lookup(3, 2) = %v, %v, %v", ep, m, err)
	}
	if _, _, err := c.Lookup(4, 0); err == nil || err.Error() != "class test.Server has no endpoint 4 (it has 4)" {
		t.Errorf("Lookup(4, 0): %v", err)
	}
	if _, _, err := c.Lookup(0, 6); err == nil || err.Error() != "interface test.Full of endpoint full has no method 6 (it has 6)" {
		t.Errorf("Lookup(0, 6): %v", err)
	}
	if c.Endpoint("outer.a").ID != 2 || c.Endpoint("nope") != nil {
		t.Error("Endpoint by name")
	}
	if c.Security.Method("Notify").ID != 3 || c.Security.Method("nope") != nil {
		t.Error("Method by name")
	}
	if got := MethodString(c.Security.Method("Get")); got != "Get(in test.Full.Id id, out test.Full.Record rec, out Handle h, error UInt32 code, error string<64> why)" {
		t.Errorf("MethodString = %q", got)
	}
}
