package diagram

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"capsim/policy"
	"capsim/verify"
)

// Format is an output language.
type Format string

// Formats.
const (
	Mermaid Format = "mermaid"
	DOT     Format = "dot"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Mermaid, DOT:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (mermaid or dot)", s)
}

// ArchOptions tune an architecture diagram.
type ArchOptions struct {
	// Highlight are tasks to mark (a property's trusted base).
	Highlight []string
}

// node is one task as drawn.
type node struct {
	id, task, class, host string
}

// link is what joins one client task to one server task: a channel, and
// the calls the policy permits on it.
type link struct {
	from, to string
	calls    []string // "endpoint.Method", or "endpoint.*"
	channel  string   // "connection ID" or "handle from TASK"
}

// arch is the back-end-independent content of an architecture diagram.
type arch struct {
	name      string
	hosts     []string
	nodes     []node
	links     []link
	highlight []string
}

// Architecture writes the architecture diagram of a permission graph.
func Architecture(w io.Writer, g *verify.Graph, f Format, opts ArchOptions) error {
	a := buildArch(g, opts)
	var b strings.Builder
	switch f {
	case DOT:
		a.dot(&b)
	default:
		a.mermaid(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func buildArch(g *verify.Graph, opts ArchOptions) *arch {
	a := &arch{name: g.Scenario.Name, highlight: opts.Highlight}
	for _, t := range g.Tasks {
		if t.Name == verify.Kernel {
			continue
		}
		a.nodes = append(a.nodes, node{id: nodeID(t.Name), task: t.Name, class: t.Class.Name, host: t.Host})
		if t.Host != "" && !slices.Contains(a.hosts, t.Host) {
			a.hosts = append(a.hosts, t.Host)
		}
	}
	idx := map[[2]string]int{}
	for _, e := range g.Edges {
		if e.Kind != policy.Request || e.Src == verify.Kernel || e.Dst == verify.Kernel {
			continue
		}
		k := [2]string{e.Src, e.Dst}
		i, ok := idx[k]
		if !ok {
			i = len(a.links)
			idx[k] = i
			a.links = append(a.links, link{from: e.Src, to: e.Dst, channel: e.Channel})
		}
		if e.Status != verify.Never {
			a.links[i].calls = append(a.links[i].calls, e.Op())
		}
	}
	for i := range a.links {
		l := &a.links[i]
		l.calls = collapse(g, l.to, l.calls)
	}
	// Channels that arrive in messages but permit nothing are not drawn.
	a.links = slices.DeleteFunc(a.links, func(l link) bool {
		return len(l.calls) == 0 && !strings.HasPrefix(l.channel, "connection ")
	})
	return a
}

// collapse writes "endpoint.*" for an endpoint whose every method is
// permitted.
func collapse(g *verify.Graph, server string, calls []string) []string {
	t := g.Task(server)
	var out []string
	for _, ep := range t.Class.Endpoints {
		var ms []string
		for _, m := range ep.Interface.Methods {
			if slices.Contains(calls, ep.Name+"."+m.Name) {
				ms = append(ms, ep.Name+"."+m.Name)
			}
		}
		if len(ms) == len(ep.Interface.Methods) && len(ms) > 1 {
			ms = []string{ep.Name + ".*"}
		}
		out = append(out, ms...)
	}
	return out
}

// label is a link's text.
func (l *link) label() string {
	if len(l.calls) == 0 {
		return l.channel + ": no call permitted"
	}
	s := strings.Join(l.calls, ", ")
	if len(l.calls) > 4 {
		s = strings.Join(l.calls[:3], ", ") + fmt.Sprintf(" +%d more", len(l.calls)-3)
	}
	if strings.HasPrefix(l.channel, "handle") {
		s += " (" + l.channel + ")"
	}
	return s
}

func nodeID(task string) string { return "t_" + strings.ReplaceAll(task, "-", "_") }

func (a *arch) mermaid(b *strings.Builder) {
	b.WriteString("flowchart LR\n")
	for _, h := range a.hosts {
		fmt.Fprintf(b, "    subgraph %s[\"host %s\"]\n", "h_"+strings.ReplaceAll(h, "-", "_"), h)
		for _, n := range a.nodes {
			if n.host == h {
				fmt.Fprintf(b, "        %s\n", n.mermaid())
			}
		}
		b.WriteString("    end\n")
	}
	for _, n := range a.nodes {
		if n.host == "" {
			fmt.Fprintf(b, "    %s\n", n.mermaid())
		}
	}
	for _, l := range a.links {
		arrow := "-->"
		if len(l.calls) == 0 {
			arrow = "-.->"
		}
		fmt.Fprintf(b, "    %s %s|\"%s\"| %s\n", nodeID(l.from), arrow, mermaidText(l.label()), nodeID(l.to))
	}
	if len(a.highlight) > 0 {
		b.WriteString("    classDef tcb fill:#fde2e2,stroke:#c00000,stroke-width:2px\n")
		var ids []string
		for _, t := range a.highlight {
			ids = append(ids, nodeID(t))
		}
		fmt.Fprintf(b, "    class %s tcb\n", strings.Join(ids, ","))
	}
}

func (n node) mermaid() string {
	return fmt.Sprintf("%s[\"%s<br/><small>%s</small>\"]", n.id, mermaidText(n.task), mermaidText(n.class))
}

// mermaidEscaper writes as an entity code (#59; is ';') every character
// Mermaid would take for syntax: a quote ends a label, ';' and '#' end a
// sequence message or start an entity code, '<' and '>' are HTML, '`'
// makes a label Markdown and %% starts a directive (%%{init: ...}%%,
// anywhere on a line) or a comment. A line break is <br/>.
var mermaidEscaper = strings.NewReplacer(`"`, "#quot;", "#", "#35;", ";", "#59;", "<", "#lt;", ">", "#gt;", "`", "#96;",
	"%%", "%#37;", "\n", "<br/>")

// mermaidText escapes text for a quoted Mermaid label or a sequence
// diagram's message or participant: what it shows is the text itself.
func mermaidText(s string) string {
	return mermaidEscaper.Replace(visible(s))
}

// visible writes the control characters and invalid UTF-8 of s, which a
// diagram would not show (or, in SVG, could not hold), as Go escapes:
// "\x01", "\t", "\xff". New lines stay.
func visible(s string) string {
	hidden := func(r rune, size int) bool {
		return r != '\n' && (unicode.IsControl(r) || r == utf8.RuneError && size == 1)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if hidden(r, size) {
			if b.Len() == 0 {
				b.WriteString(s[:i])
			}
			if size == 1 && r == utf8.RuneError {
				fmt.Fprintf(&b, `\x%02x`, s[i])
			} else {
				q := strconv.QuoteRune(r)
				b.WriteString(q[1 : len(q)-1])
			}
		} else if b.Len() > 0 {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

func (a *arch) dot(b *strings.Builder) {
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(a.name))
	b.WriteString("    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, h := range a.hosts {
		fmt.Fprintf(b, "    subgraph %s {\n        label=%s;\n        style=dashed;\n", dotQuote("cluster_"+h), dotQuote("host "+h))
		for _, n := range a.nodes {
			if n.host == h {
				fmt.Fprintf(b, "        %s\n", a.dotNode(n))
			}
		}
		b.WriteString("    }\n")
	}
	for _, n := range a.nodes {
		if n.host == "" {
			fmt.Fprintf(b, "    %s\n", a.dotNode(n))
		}
	}
	for _, l := range a.links {
		attrs := "label=" + dotQuote(l.label())
		if len(l.calls) == 0 {
			attrs += ", style=dotted, color=gray50, fontcolor=gray50"
		} else if strings.HasPrefix(l.channel, "handle") {
			attrs += ", style=dashed"
		}
		fmt.Fprintf(b, "    %s -> %s [%s];\n", dotQuote(l.from), dotQuote(l.to), attrs)
	}
	b.WriteString("}\n")
}

func (a *arch) dotNode(n node) string {
	attrs := "label=" + dotQuote(n.task+"\n"+n.class)
	if slices.Contains(a.highlight, n.task) {
		attrs += `, style="rounded,filled", fillcolor="#fde2e2", color="#c00000", penwidth=2`
	}
	return fmt.Sprintf("%s [%s];", dotQuote(n.task), attrs)
}

// dotEscaper escapes text inside a DOT string.
var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// dotQuote quotes a DOT identifier or label.
func dotQuote(s string) string {
	return `"` + dotEscaper.Replace(visible(s)) + `"`
}
