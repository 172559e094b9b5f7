package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"capsim/diag"
	"capsim/entities/builtin"
	"capsim/kernel"
	"capsim/run"
	"capsim/scenario"
)

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", commands()[0].usage, "capsim run scenarios/tls-terminator -v --trace /tmp/tls.jsonl --pcap /tmp/tls.pcap", stderr)
	var opts run.Options
	var isolate string
	var forwards listFlag
	fs.StringVar(&opts.TracePath, "trace", "", "write the trace, one JSON object per line, to `FILE`")
	fs.StringVar(&opts.AuditPath, "audit", "", "write the audit log (JSON lines) to `FILE`")
	fs.StringVar(&opts.PcapPath, "pcap", "", "write a pcap of the virtual network to `FILE` (FILE-LINK.pcap per link when there are several); frames are captured as the hosts send them, before a link's loss and delay")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "end the run after `D` (default: the scenario's timeout)")
	fs.StringVar(&isolate, "isolate", "auto", "confine entities: auto, on or off")
	fs.Var(&forwards, "forward", "carry a real loopback port to a simulated host: `127.0.0.1:PORT=HOST:PORT` (repeatable)")
	fs.BoolVar(&opts.Serve, "serve", false, "keep the scenario running after the checks until interrupted or the timeout")
	fs.BoolVar(&opts.Explain, "explain", false, "print, under each denied event, the bindings that matched, the rule that denied and the state it depended on (docs/SCENARIO.md)")
	fs.BoolVar(&opts.Verbose, "v", false, "print every trace record as it happens")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErr(err)
	}
	if len(pos) != 1 {
		what := "no scenario given"
		if len(pos) > 1 {
			what = fmt.Sprintf("run takes one scenario, got %d (capsim test runs several)", len(pos))
		}
		fmt.Fprintf(stderr, "capsim: %s\nusage: %s\nRun 'capsim help run' for details.\n", what, commands()[0].usage)
		return 2
	}
	mode, err := parseIsolate(isolate)
	if err == nil {
		err = checkTimeout(fs, opts.Timeout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	opts.Isolate, opts.Forwards = mode, forwards
	opts.Registry, opts.Output, opts.Stderr = builtin.Registry(), stdout, stderr
	rep, code := runOne(ctx, pos[0], opts, stderr)
	if rep != nil {
		printReport(stdout, rep)
	}
	return code
}

func usageErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func parseIsolate(s string) (kernel.IsolateMode, error) {
	switch s {
	case "auto":
		return kernel.IsolateAuto, nil
	case "on":
		return kernel.IsolateOn, nil
	case "off":
		return kernel.IsolateOff, nil
	}
	return 0, fmt.Errorf("--isolate %q: want auto, on or off", s)
}

// checkTimeout refuses a --timeout of 0s or less, which run would take for
// "the scenario's timeout".
func checkTimeout(fs *flag.FlagSet, d time.Duration) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "timeout" })
	if set && d <= 0 {
		return fmt.Errorf("--timeout %s: want a duration longer than 0s", d)
	}
	return nil
}

// runOne loads and runs one scenario; the code is 0 passed, 1 an
// expectation failed, 2 the scenario could not run.
func runOne(ctx context.Context, path string, opts run.Options, stderr io.Writer) (*run.Report, int) {
	sc, err := scenario.Load(path)
	if err != nil {
		printErr(stderr, run.WithSetupErrors(sc, err, opts))
		return nil, 2
	}
	rep, err := run.Run(ctx, sc, opts)
	if err != nil {
		printErr(stderr, err)
		return nil, 2
	}
	switch {
	case rep.Interrupted:
		return rep, exitInterrupted
	case !rep.OK():
		return rep, 1
	}
	return rep, 0
}

// exitInterrupted is the exit code of a run stopped before its checks
// (128 + SIGINT, as a shell reports a command Ctrl-C ended), so that a
// script can tell it from a failed expectation.
const exitInterrupted = 130

func printErr(w io.Writer, err error) {
	var l diag.List
	if errors.As(err, &l) {
		for _, e := range l {
			fmt.Fprintf(w, "capsim: %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "capsim: %v\n", err)
}

func printReport(w io.Writer, rep *run.Report) {
	name := rep.Scenario.Name
	if rep.OK() {
		fmt.Fprintf(w, "ok   %s (%s, %d expectations; %s)\n", name, rep.Duration.Round(time.Millisecond),
			len(rep.Scenario.Expects), decisions(rep))
		printNotes(w, rep)
		return
	}
	fmt.Fprintf(w, "FAIL %s (%s; %s)\n", name, rep.Duration.Round(time.Millisecond), decisions(rep))
	for _, f := range rep.Failures {
		// A failure may span lines (a property's counterexample): keep
		// them all under the FAIL line.
		fmt.Fprintf(w, "     %s\n", strings.ReplaceAll(strings.TrimRight(f, "\n"), "\n", "\n     "))
	}
	printNotes(w, rep)
}

// printNotes prints what no expectation checked but a user should see.
func printNotes(w io.Writer, rep *run.Report) {
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "     note: %s\n", n)
	}
}

// decisions sums up what the kernel decided in a run.
func decisions(rep *run.Report) string {
	return fmt.Sprintf("%d granted, %d denied", rep.Granted, rep.Denied)
}

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("test", commands()[1].usage, "capsim test scenarios", stderr)
	var isolate string
	fs.StringVar(&isolate, "isolate", "auto", "confine entities: auto, on or off")
	verbose := fs.Bool("v", false, "show the entities' output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErr(err)
	}
	mode, err := parseIsolate(isolate)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	if len(pos) == 0 {
		pos = []string{"."}
	}
	paths, err := findScenarios(pos)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return 2
	}
	passed, failed, broken, ran := 0, 0, 0, 0
	for _, p := range paths {
		ran++
		opts := run.Options{Registry: builtin.Registry(), Isolate: mode, Output: io.Discard, Stderr: io.Discard}
		if *verbose {
			opts.Output, opts.Stderr = stdout, stderr
		}
		rep, code := runOne(ctx, p, opts, stdout)
		switch {
		case rep != nil:
			printReport(stdout, rep)
		case code != 0:
			fmt.Fprintf(stdout, "FAIL %s (could not run)\n", p)
		}
		switch code {
		case 0:
			passed++
		case 2:
			failed++
			broken++
		default:
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if n := len(paths) - ran; n > 0 {
		fmt.Fprintf(stdout, "interrupted: %d more not run\n", n)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case broken > 0:
		return 2 // a scenario that could not run is an input error, as for capsim run
	case failed > 0:
		return 1
	}
	return 0
}

// findScenarios expands each argument: a .toml file, a folder holding
// scenario.toml, or a folder searched for them.
func findScenarios(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist; capsim test takes scenario folders, .toml files, or folders with scenarios below them", a)
		}
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == "scenario.toml" {
				found = append(found, filepath.Dir(p))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no scenario.toml below %s", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func runPrograms(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("programs", "capsim programs", "capsim programs", stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErr(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "capsim: programs takes no arguments, got %q\nusage: capsim programs\n", pos)
		return 2
	}
	for _, p := range builtin.Registry().All() {
		class := p.Class
		if len(p.AlsoFor) > 0 {
			class += ", " + strings.Join(p.AlsoFor, ", ")
		}
		fmt.Fprintf(stdout, "capsim:%s\n  class:   %s\n  summary: %s\n  usage:   %s\n\n", p.Name, class, p.Summary,
			strings.ReplaceAll(p.Usage, "\n", "\n           "))
	}
	return 0
}
