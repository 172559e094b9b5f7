package verify

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"capsim/diag"
)

// headline is scenarios/tls-terminator's headline property.
const headline = "the client reaches the network only through the TLS entity"

// TestHeadlineTLSTerminator is issue 10's "done when": capsim verify
// proves that scenarios/tls-terminator's client reaches the netstack only
// through the TLS entity, and one permissive binding appended to the
// policy breaks it, with a counterexample naming that binding's line.
func TestHeadlineTLSTerminator(t *testing.T) {
	const src = "../scenarios/tls-terminator"
	g, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	p := g.Property(headline)
	if p == nil || p.OnlyThrough == nil {
		t.Fatalf("%s states no only_through property %q", src, headline)
	}
	if r := g.CheckProperty(p); !r.Holds {
		t.Fatalf("%s: %q fails:\n%s", src, headline, resultText(r))
	}

	tests := []struct {
		name, binding string
	}{
		{"the client's socket calls on its VFS", "request src=demo.HttpClient dst=kl.VfsNet endpoint=socket { grant () }"},
		{"one socket method on its VFS", "request src=demo.HttpClient dst=kl.VfsNet endpoint=socket method=Send { grant () }"},
		{"every socket call of anyone", "request endpoint=socket { grant () }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, line := appendBinding(t, src, tt.binding)
			g, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			r := g.CheckProperty(g.Property(headline))
			if r.Holds {
				t.Fatalf("%q holds with %s appended to the policy", headline, tt.binding)
			}
			pol := filepath.Join(dir, "policy.psl")
			want := diag.Pos{File: pol, Line: line, Col: 1}
			c := r.Counterexamples[0]
			if len(c.Hops) == 0 {
				t.Fatalf("counterexample without hops:\n%s", resultText(r))
			}
			first, last := c.Hops[0], c.Hops[len(c.Hops)-1]
			if first.Src != "client" || first.Dst != "device-vfs" || !slices.Contains(first.Grants, want) {
				t.Errorf("first hop %s %s, want client -> device-vfs granted by %s", first, GrantedBy(first), want)
			}
			if last.Dst != "device-net" {
				t.Errorf("the path ends at %s, want device-net", last.Dst)
			}
			for _, h := range c.Hops {
				if h.Src == "device-tls" || h.Dst == "device-tls" {
					t.Errorf("the counterexample passes through device-tls: %s", h)
				}
			}
			if out := resultText(r); !strings.Contains(out, "granted by "+want.String()) {
				t.Errorf("the printed counterexample does not name %s:\n%s", want, out)
			}
		})
	}
}

// appendBinding copies the scenario folder to a temp folder, appends one
// binding to its policy and returns the folder and the binding's line.
func appendBinding(t *testing.T, src, binding string) (string, int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "policy.psl")
	b := mustRead(t, pol)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, "\n// one binding too many\n"...)
	line := strings.Count(string(b), "\n") + 1
	b = append(b, binding+"\n"...)
	if err := os.WriteFile(pol, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, line
}

func resultText(r Result) string {
	var b strings.Builder
	_ = WriteText(&b, []Result{r})
	return b.String()
}
