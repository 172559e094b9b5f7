package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"capsim/verify"
)

const verifyUsage = "capsim verify SCENARIO [--json]"

const verifyExample = `capsim verify scenarios/echo
  the client may only call Ping and Echo on the server: holds
  only the server influences the client: holds`

// runVerify runs `capsim verify`: it builds the scenario's permission
// graph from its policy and checks every [[property]]. Exit 0 when all
// hold, 1 when one fails, 2 on a usage, scenario or policy error.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("capsim verify", verifyUsage, verifyExample, stderr)
	asJSON := fs.Bool("json", false, "print the results as JSON, with every counterexample hop")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "capsim: verify takes one scenario\nusage: %s\n", verifyUsage)
		return 2
	}
	g, err := verify.Load(pos[0])
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	results := g.CheckAll()
	if len(results) == 0 {
		fmt.Fprintf(stderr, "capsim: %s states no [[property]] to verify\n", g.Scenario.Name)
	}
	if *asJSON {
		err = verify.WriteJSON(stdout, g.Scenario.Name, results)
	} else {
		err = verify.WriteText(stdout, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	for _, r := range results {
		if !r.Holds {
			return 1
		}
	}
	return 0
}
