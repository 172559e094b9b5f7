package verify

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genDesign is a random design: IDL interfaces, EDL classes, a scenario
// and a policy, written to a folder. Every interface's methods share their
// parameter names, so that field predicates type-check on any of them.
type genDesign struct {
	r        *rand.Rand
	ifaces   []int     // methods per interface
	classes  [][]int   // per class: the interface of each endpoint
	tasks    []genTask // scenario tasks
	states   []string  // the Flow object's states
	handles  bool      // interface 0 carries handles
	bindings []string  // policy bindings
}

type genTask struct {
	class int
	conns []int
}

type genSize struct {
	ifaces, classes, tasks, bindings int
	handles                          bool
}

func newGenDesign(seed uint64, sz genSize) *genDesign {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	d := &genDesign{r: r, handles: sz.handles, states: []string{"s0", "s1", "s2"}}
	for range sz.ifaces {
		d.ifaces = append(d.ifaces, 1+r.IntN(3))
	}
	for i := range sz.classes {
		var eps []int
		n := r.IntN(3)
		if i == 0 {
			n = 1 // at least one server class
		}
		for range n {
			eps = append(eps, r.IntN(len(d.ifaces)))
		}
		d.classes = append(d.classes, eps)
	}
	for range sz.tasks {
		d.tasks = append(d.tasks, genTask{class: r.IntN(len(d.classes))})
	}
	for i := range d.tasks {
		for j := range d.tasks {
			if i != j && len(d.classes[d.tasks[j].class]) > 0 && r.IntN(len(d.tasks)) < 2 {
				d.tasks[i].conns = append(d.tasks[i].conns, j)
			}
		}
	}
	for range sz.bindings {
		d.bindings = append(d.bindings, d.binding())
	}
	return d
}

func (d *genDesign) className(c int) string { return fmt.Sprintf("gen.C%d", c) }

// write writes the design below dir.
func (d *genDesign) write(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{"scenario.toml": d.scenario(), "policy.psl": d.policy()}
	for i, n := range d.ifaces {
		files[fmt.Sprintf("gen/I%d.idl", i)] = d.idl(i, n)
	}
	for c, eps := range d.classes {
		var b strings.Builder
		fmt.Fprintf(&b, "task class gen.C%d\n", c)
		if len(eps) > 0 {
			b.WriteString("\nendpoints {\n")
			for e, i := range eps {
				fmt.Fprintf(&b, "    e%d : gen.I%d\n", e, i)
			}
			b.WriteString("}\n")
		}
		files[fmt.Sprintf("gen/C%d.edl", c)] = b.String()
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *genDesign) idl(i, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package gen.I%d\n\ninterface {\n", i)
	for m := range n {
		in, out := "in UInt8 a, in SInt32 b, in string<8> s, in Bool f", "out UInt32 r"
		if d.handles && i == 0 {
			in += ", in Handle h"
			out += ", out Handle o"
		}
		fmt.Fprintf(&b, "    M%d(%s, %s, error UInt32 errno);\n", m, in, out)
	}
	b.WriteString("}\n")
	return b.String()
}

func (d *genDesign) scenario() string {
	var b strings.Builder
	b.WriteString("name = \"gen\"\npolicy = \"policy.psl\"\n")
	for i, tk := range d.tasks {
		fmt.Fprintf(&b, "\n[[entity]]\ntask = \"t%d\"\nclass = \"%s\"\n", i, d.className(tk.class))
		if len(tk.conns) > 0 {
			var cs []string
			for j, c := range tk.conns {
				cs = append(cs, fmt.Sprintf("{ target = \"t%d\", id = \"c%d\" }", c, j))
			}
			fmt.Fprintf(&b, "connections = [ %s ]\n", strings.Join(cs, ", "))
		}
	}
	return b.String()
}

func (d *genDesign) policy() string {
	var b strings.Builder
	b.WriteString("execute: kl.core.Execute\n\nuse nk.base._\nuse nk.flow._\n\nuse EDL kl.core.Core\n")
	for c := range d.classes {
		fmt.Fprintf(&b, "use EDL %s\n", d.className(c))
	}
	b.WriteString("\npolicy object fl : Flow {\n    type S = \"s0\" | \"s1\" | \"s2\"\n    config = { states : [\"s0\", \"s1\", \"s2\"], initial : \"s0\", transitions : {")
	var ts []string
	for _, from := range d.states {
		var to []string
		for _, s := range d.states {
			if d.r.IntN(3) == 0 {
				to = append(to, `"`+s+`"`)
			}
		}
		ts = append(ts, fmt.Sprintf(" %q : [%s]", from, strings.Join(to, ", ")))
	}
	b.WriteString(strings.Join(ts, ",") + " } }\n}\n\n")
	for _, x := range d.bindings {
		b.WriteString(x + "\n")
	}
	return b.String()
}

// binding makes one random binding.
func (d *genDesign) binding() string {
	r := d.r
	kinds := []string{"execute", "request", "request", "request", "response", "response", "error"}
	kind := kinds[r.IntN(len(kinds))]
	var sel []string
	client, server := "src", "dst"
	if kind == "response" || kind == "error" {
		client, server = "dst", "src"
	}
	srvClass := -1
	switch {
	case kind == "execute":
		if r.IntN(3) > 0 {
			sel = append(sel, "dst="+d.className(r.IntN(len(d.classes))))
		}
	case r.IntN(6) == 0:
		sel = append(sel, server+"=kl.core.Core")
		srvClass = -2
	case r.IntN(4) > 0:
		srvClass = r.IntN(len(d.classes))
		if len(d.classes[srvClass]) == 0 {
			srvClass = 0
		}
		sel = append(sel, server+"="+d.className(srvClass))
	}
	if kind != "execute" && r.IntN(2) == 0 {
		sel = append(sel, client+"="+d.className(r.IntN(len(d.classes))))
	}
	hasMethod := false
	if srvClass >= 0 && r.IntN(2) == 0 {
		ep := r.IntN(len(d.classes[srvClass]))
		sel = append(sel, fmt.Sprintf("endpoint=e%d", ep))
		if r.IntN(2) == 0 {
			sel = append(sel, fmt.Sprintf("method=M%d", r.IntN(d.ifaces[d.classes[srvClass][ep]])))
			hasMethod = true
		}
	}
	var body []string
	for range 1 + r.IntN(3) {
		body = append(body, d.stmt(kind, srvClass, hasMethod, 0))
	}
	return fmt.Sprintf("%s %s { %s }", kind, strings.Join(sel, " "), strings.Join(body, " "))
}

func (d *genDesign) stmt(kind string, srvClass int, hasMethod bool, depth int) string {
	r := d.r
	st := func() string { return fmt.Sprintf("%q", d.states[r.IntN(len(d.states))]) }
	switch n := r.IntN(12); {
	case n < 3:
		return "grant ()"
	case n < 4:
		return "deny ()"
	case n < 7 && kind != "execute" && srvClass != -2:
		return "assert (" + d.pred(kind, 0) + ")"
	case n < 8:
		if kind == "execute" {
			return "fl.init {sid : dst_sid}"
		}
		return "fl.enter {sid : dst_sid, state : " + st() + "}"
	case n < 9:
		return "fl.allow {sid : src_sid, states : [" + st() + "]}"
	case n < 10:
		return "choice (fl.query {sid : dst_sid}) { " + st() + " : grant () _ : deny () }"
	case n < 11 && kind != "execute" && !hasMethod && srvClass != -2 && depth == 0:
		return "match method=M0 { " + d.stmt(kind, srvClass, true, depth+1) + " }"
	}
	return "grant ()"
}

// pred makes a random Bool expression over the message's fields.
func (d *genDesign) pred(kind string, depth int) string {
	r := d.r
	if depth < 2 && r.IntN(2) == 0 {
		ops := []string{"&&", "||", "==>"}
		if r.IntN(4) == 0 {
			return "!(" + d.pred(kind, depth+1) + ")"
		}
		return "(" + d.pred(kind, depth+1) + " " + ops[r.IntN(len(ops))] + " " + d.pred(kind, depth+1) + ")"
	}
	cmp := []string{"==", "!=", "<", "<=", ">", ">="}
	op := cmp[r.IntN(len(cmp))]
	switch kind {
	case "response":
		return fmt.Sprintf("message.r %s %d", op, r.IntN(8))
	case "error":
		return fmt.Sprintf("message.errno %s %d", op, r.IntN(4))
	}
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("message.a %s %d", op, []int{0, 1, 2, 3, 254, 255, 256, -1}[r.IntN(8)])
	case 1:
		return fmt.Sprintf("message.b %s %d", op, r.IntN(5)-2)
	case 2:
		return fmt.Sprintf("message.s %s %q", []string{"==", "!="}[r.IntN(2)], []string{"", "x", "abc", "toolongvalue"}[r.IntN(4)])
	case 3:
		return "message.f"
	case 4:
		return fmt.Sprintf("size (message.s) %s %d", op, r.IntN(10))
	}
	return fmt.Sprintf("%d %s %d", r.IntN(3), op, r.IntN(3))
}
