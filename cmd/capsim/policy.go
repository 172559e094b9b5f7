package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"capsim/diag"
	"capsim/idl"
	"capsim/policy"
)

const policyUsage = "capsim policy test [-I DIR]... [-v] [-run SUBSTR] FILE.psl"

const policyExample = `capsim policy test scenarios/echo/policy.psl
  PASS "echo policy" / "the client pings and gets the answer"
  PASS "echo policy" / "Pong is not allowed"
  PASS "echo policy" / "the server may not call the client's kernel"
  PASS "echo policy" / "the client finds only its own channel"
  4 passed, 0 failed`

// runPolicy runs `capsim policy test`: it compiles a policy, runs its PAL
// test sequences and prints one line per sequence and "N passed, N
// failed". Exit 0 when all pass, 1 when one fails, 2 on a usage error or a
// policy error (positioned, on stderr).
func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fs := newFlags("capsim policy test", policyUsage, policyExample, stderr)
		policyTestFlags(fs)
		fs.Usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "test" {
		hint := ""
		if strings.HasSuffix(args[0], ".psl") {
			hint = fmt.Sprintf(" (did you mean capsim policy test %s?)", args[0])
		}
		fmt.Fprintf(stderr, "capsim: unknown policy command %q%s\nusage: %s\n", args[0], hint, policyUsage)
		return 2
	}
	fs := newFlags("capsim policy test", policyUsage, policyExample, stderr)
	incl, opts := policyTestFlags(fs)
	files, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "capsim: policy test takes one policy file\nusage: %s\n", policyUsage)
		return 2
	}
	if st, err := os.Stat(files[0]); err == nil && st.IsDir() {
		fmt.Fprintf(stderr, "capsim: policy test: %s is a folder; give its policy file (the scenario's policy key names it, as in %s)\n",
			files[0], filepath.Join(files[0], "policy.psl"))
		return 2
	}
	var roots []idl.Root
	for _, dir := range *incl {
		roots = append(roots, idl.DirRoot(dir))
	}
	roots = append(roots, idl.DirRoot(filepath.Dir(files[0])), idl.BuiltinRoot())
	p, err := policy.Compile(files[0], policy.Options{Roots: roots, Explain: true}) // a failing test explains itself
	if err != nil {
		var l diag.List
		if !errors.As(err, &l) {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return 2
		}
		diag.Print(stderr, err)
		return 2
	}
	if _, failed := p.RunTests(stdout, *opts); failed > 0 {
		return 1
	}
	return 0
}

func policyTestFlags(fs *flag.FlagSet) (*listFlag, *policy.TestOptions) {
	var incl listFlag
	var opts policy.TestOptions
	fs.Var(&incl, "I", "search `DIR` for used policy files, EDL and IDL (repeatable; before the file's folder and the built-in idl/)")
	fs.BoolVar(&opts.Verbose, "v", false, "explain the decision of a failing case")
	fs.StringVar(&opts.Run, "run", "", "run only sequences whose \"set/sequence\" name contains `SUBSTR`")
	return &incl, &opts
}
