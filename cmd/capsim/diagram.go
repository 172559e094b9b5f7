package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"capsim/diagram"
	"capsim/scenario"
	"capsim/verify"
)

const diagramUsage = "capsim diagram SCENARIO | --trace FILE [--format mermaid|dot] [-o FILE] [--property NAME]"

const diagramExample = `capsim diagram scenarios/echo --property "the client may only call Ping and Echo on the server"
capsim run scenarios/echo --trace /tmp/echo.jsonl && capsim diagram --trace /tmp/echo.jsonl --format dot -o echo.dot`

// runDiagram runs `capsim diagram`: a scenario's architecture from its
// permission graph, or a run's sequence from its trace. Exit 0 ok, 2 on a
// usage, scenario, policy or trace error.
func runDiagram(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("capsim diagram", diagramUsage, diagramExample, stderr)
	format := fs.String("format", "mermaid", "output `language`: mermaid or dot")
	out := fs.String("o", "", "write to `FILE` instead of stdout")
	prop := fs.String("property", "", "highlight the trusted base of the property `NAME`")
	trace := fs.String("trace", "", "draw the run recorded in the JSON-lines trace `FILE` as a sequence diagram")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	f, err := diagram.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	if (*trace == "") == (len(pos) != 1) || len(pos) > 1 {
		fmt.Fprintf(stderr, "capsim: diagram takes one scenario or --trace FILE\nusage: %s\n", diagramUsage)
		return 2
	}
	var buf bytes.Buffer
	if *trace != "" {
		err = drawTrace(&buf, *trace, f)
		if errors.Is(err, diagram.ErrCut) { // drawn up to the cut
			fmt.Fprintf(stderr, "capsim: warning: %v; drawing the records before it\n", err)
			err = nil
		}
	} else {
		err = drawScenario(&buf, pos[0], f, *prop)
	}
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	return 0
}

func drawTrace(w io.Writer, path string, f diagram.Format) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	recs, err := diagram.ReadTrace(file, path)
	if err != nil && !errors.Is(err, diagram.ErrCut) {
		return err
	}
	if err := diagram.Sequence(w, recs, f); err != nil {
		return err
	}
	return err
}

func drawScenario(w io.Writer, path string, f diagram.Format, prop string) error {
	g, err := verify.Load(path)
	if err != nil {
		return err
	}
	var opts diagram.ArchOptions
	if prop != "" {
		p := g.Property(prop)
		if p == nil {
			var names []string
			for _, p := range g.Scenario.Properties {
				names = append(names, fmt.Sprintf("%q", p.Name))
			}
			if len(names) == 0 {
				return fmt.Errorf("%s has no property %q (it declares no [[property]])", g.Scenario.Name, prop)
			}
			return fmt.Errorf("%s has no property %q; its properties: %s", g.Scenario.Name, prop, strings.Join(names, ", "))
		}
		opts.Highlight = trustedBase(g, p)
	}
	return diagram.Architecture(w, g, f, opts)
}

// trustedBase is what a diagram highlights for a property: the tasks that
// can influence a tcb asset, the via tasks of only_through, and the two
// ends of no_path and calls.
func trustedBase(g *verify.Graph, p *scenario.Property) []string {
	switch {
	case p.TCB != nil:
		return g.Influencers(p.TCB.Asset)
	case p.OnlyThrough != nil:
		return p.OnlyThrough.Via
	case p.NoPath != nil:
		return []string{p.NoPath.From, p.NoPath.To}
	case p.Calls != nil:
		return []string{p.Calls.From, p.Calls.To}
	}
	return nil
}
