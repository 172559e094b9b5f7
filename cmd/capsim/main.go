package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"capsim/entities/builtin"
	"capsim/kernel/confine"
)

// command is one subcommand. The usage line names it, so help and dispatch
// cannot drift apart.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "capsim run SCENARIO [--trace F] [--audit F] [--pcap F] [--timeout D] [--isolate auto|on|off] [--forward 127.0.0.1:PORT=HOST:PORT] [--serve] [--explain] [-v]",
			"run a scenario and check its expectations", runRun},
		{"test", "capsim test [SCENARIO|DIR]...", "run every scenario below the arguments; ends with \"N passed, N failed\"", runTest},
		{"programs", "capsim programs", "list the built-in programs with their default class and flags", runPrograms},
		{"idl", "capsim idl gen|check|show ...", "IDL/EDL tools: code generation, checking, numbering", runIDL},
		{"policy", "capsim policy test [-I DIR]... FILE.psl", "run a policy's PAL tests", runPolicy},
		{"certs", "capsim certs ...", "make scenario certificates", runCerts},
		{"verify", verifyUsage, "prove a scenario's [[property]] goals from its policy", runVerify},
		{"diagram", diagramUsage, "draw a scenario's architecture or a run's trace (Mermaid, DOT)", runDiagram},
	}
}

func main() {
	// A trampoline confines itself and executes its entity's program; a
	// built-in program started by the kernel runs here and exits.
	confine.MainIfTrampoline()
	builtin.Registry().MainIfEntity()
	// A reader of the output that goes away (capsim run ... | head) ends
	// the run as Ctrl-C does, so that the trace and audit files are
	// written, instead of killing capsim with SIGPIPE.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	code := capsim(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// capsim runs one command line and returns the exit code: 0 ok, 1 a check
// failed, 2 a usage or input error, 130 interrupted.
func capsim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		help(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(ctx, []string{"-h"}, stdout, stdout)
				}
			}
			fmt.Fprintf(stderr, "capsim: no help for %q\n", args[1])
			return 2
		}
		help(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name {
			if asksHelp(args[1:]) {
				// Asked-for help is the output, as 'capsim help run' is:
				// 'capsim run -h | less' shows it.
				return c.run(ctx, args[1:], stdout, stdout)
			}
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "capsim: unknown command %q\nRun 'capsim help' for usage.\n", name)
	return 2
}

func help(w io.Writer) {
	fmt.Fprint(w, `capsim simulates a capability-and-policy microkernel: every entity is an
isolated process, every message is typed by IDL and decided by a policy.

Usage:

`)
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'capsim help COMMAND' (or 'capsim COMMAND -h') for a command's usage.
Exit codes: 0 ok; 1 a check failed (an expectation, a policy test, a
property); 2 a usage or input error (a scenario, IDL or policy error);
130 run or test interrupted (Ctrl-C) before its checks were done.
`)
}

// asksHelp reports whether args hold -h, -help or --help before any "--".
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
