package scenario

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocsListEveryKey checks that docs/SCENARIO.md names every key the
// loader accepts.
func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/SCENARIO.md")
	if err != nil {
		t.Fatalf("read the user documentation: %v", err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] || rt.PkgPath() != reflect.TypeOf(Scenario{}).PkgPath() {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			tag := f.Tag.Get("toml")
			if tag == "" || tag == "-" {
				continue
			}
			name := tag
			if arrayTables[tag] {
				name = "[[" + tag + "]]"
			}
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/SCENARIO.md does not list key %s of %s", name, rt.Name())
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(Scenario{}))
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen))
	}
}
