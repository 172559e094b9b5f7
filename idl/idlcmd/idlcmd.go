package idlcmd

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

	"capsim/diag"
	"capsim/idl"
	"capsim/idl/gen/golang"
)

// Exit codes: 0 ok, 1 a failure that is not the input's fault (I/O), 2 a
// usage error or invalid input (parse and type errors included).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand of "capsim idl".
type command struct {
	name    string
	usage   string
	short   string
	example string
	run     func(ctx context.Context, c *cmdEnv) int
}

// cmdEnv is what a subcommand gets: its flags and arguments, and where to
// write.
type cmdEnv struct {
	includes       []string
	out            string
	maxMsg         int
	verbose        bool
	args           []string
	stdout, stderr io.Writer
}

var commands = []*command{
	{"gen", "capsim idl gen [-I dir]... -o out [-v] file.idl|dir...",
		"generate Go bindings: one package per IDL package (and its imports) at out/<package path in lower case>",
		"capsim idl gen -I idl -o api idl/demo/Echo.idl", runGen},
	{"check", "capsim idl check [-I dir]... file|dir...",
		"check .idl, .edl and .cdl files, and the Go names gen would give; print every error as file:line:col: message",
		"capsim idl check -I idl idl/demo/Echo.idl idl/demo/EchoServer.edl", runCheck},
	{"show", "capsim idl show [-I dir]... name|file",
		"print an interface with its method numbers (MID), or a class with its endpoint numbers (RIID)",
		"capsim idl show kl.core.Core", runShow},
}

// Run runs "capsim idl ARGS..." and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.parseAndRun(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "capsim idl: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: capsim idl <command> [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nRun 'capsim idl <command> -h' for a command's flags.")
	fmt.Fprintln(w, "The built-in files (kl, capsim, demo) are searched after every -I dir.")
}

// includeFlag collects repeated -I flags.
type includeFlag []string

func (f *includeFlag) String() string     { return strings.Join(*f, ",") }
func (f *includeFlag) Set(v string) error { *f = append(*f, v); return nil }

// parseAndRun parses flags, which may come before or after the positional
// arguments, and runs the command.
func (c *command) parseAndRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cmdEnv{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("capsim idl "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var((*includeFlag)(&env.includes), "I", "search `dir` for imported packages and named classes (repeatable)")
	fs.IntVar(&env.maxMsg, "max-message", 0, "largest message in `bytes` a type may take (0: 4 MiB)")
	if c.name == "gen" {
		fs.StringVar(&env.out, "o", "", "output `dir`, inside a Go module")
		fs.BoolVar(&env.verbose, "v", false, "print the files written")
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help(stderr, fs)
				return exitOK // asked for: not a usage error
			}
			fmt.Fprintf(stderr, "capsim idl %s: %v\nusage: %s\nRun 'capsim idl %s -h' for details.\n", c.name, err, c.usage, c.name)
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		env.args = append(env.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if c.name == "gen" && env.out == "" || len(env.args) == 0 || c.name == "show" && len(env.args) != 1 {
		fmt.Fprintf(stderr, "usage: %s\nRun 'capsim idl %s -h' for details.\n", c.usage, c.name)
		return exitUsage
	}
	return c.run(ctx, env)
}

func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n\nFlags:\n", c.usage, strings.ToUpper(c.short[:1])+c.short[1:])
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
}

func (env *cmdEnv) loader() *idl.Loader {
	var roots []idl.Root
	for _, d := range env.includes {
		roots = append(roots, idl.DirRoot(d))
	}
	roots = append(roots, idl.BuiltinRoot())
	return idl.NewLoader(roots, idl.Options{MaxMessage: env.maxMsg})
}

// expand replaces each directory argument by the files below it with one
// of the extensions, sorted.
func expand(args []string, exts ...string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			for _, e := range exts {
				if !d.IsDir() && strings.HasSuffix(p, e) {
					found = append(found, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", a, err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// report prints err (every error of a list on its own line) and returns
// the exit code: 2 for positioned input errors, 1 otherwise.
func report(w io.Writer, err error) int {
	var list diag.List
	if errors.As(err, &list) {
		diag.Print(w, list)
		return exitUsage
	}
	fmt.Fprintf(w, "capsim idl: %v\n", err)
	return exitFail
}

// runCheck checks files as the loader does and, for the IDL packages
// among them, as gen would: every error of both, sorted.
func runCheck(_ context.Context, env *cmdEnv) int {
	files, err := expand(env.args, ".idl", ".edl", ".cdl")
	if err != nil {
		return report(env.stderr, err)
	}
	l := env.loader()
	var all diag.List
	if err := collect(&all, l.CheckFiles(files)); err != nil {
		return report(env.stderr, err)
	}
	pkgs := checkedPackages(l, files)
	if pkgs, err = golang.WithImports(l, pkgs); err != nil {
		return report(env.stderr, err)
	}
	warn(env.stderr, pkgs, "")
	if err := collect(&all, golang.Check(pkgs)); err != nil {
		return report(env.stderr, err)
	}
	if len(all) > 0 {
		all.Sort()
		return report(env.stderr, all)
	}
	return exitOK
}

// collect appends the positioned errors of err to list and returns any
// other error.
func collect(list *diag.List, err error) error {
	var l diag.List
	if errors.As(err, &l) {
		*list = append(*list, l...)
		return nil
	}
	return err
}

// warn prints the generator's warnings about pkgs (golang.Warnings),
// which gen and check print alike and which leave the exit code alone;
// base is the output's import path ("" for check).
func warn(w io.Writer, pkgs []*idl.Package, base string) {
	if list := golang.Warnings(pkgs, base); len(list) > 0 {
		diag.Print(w, list)
	}
}

// checkedPackages returns the packages of the .idl files among files that
// checked without errors (loading them again).
func checkedPackages(l *idl.Loader, files []string) []*idl.Package {
	var out []*idl.Package
	for _, f := range files {
		if !strings.HasSuffix(f, ".idl") {
			continue
		}
		if v, err := l.File(f); err == nil {
			out = append(out, v.(*idl.Package))
		}
	}
	return out
}

func runGen(_ context.Context, env *cmdEnv) int {
	files, err := expand(env.args, ".idl")
	if err != nil {
		return report(env.stderr, err)
	}
	l := env.loader()
	var pkgs []*idl.Package
	for _, f := range files {
		v, err := l.File(f)
		if err != nil {
			return report(env.stderr, err)
		}
		p, ok := v.(*idl.Package)
		if !ok {
			fmt.Fprintf(env.stderr, "capsim idl gen: %s is not an IDL package file\n", f)
			return exitUsage
		}
		pkgs = append(pkgs, p)
	}
	if pkgs, err = golang.WithImports(l, pkgs); err != nil {
		return report(env.stderr, err)
	}
	base, err := golang.ImportPath(env.out)
	if err != nil {
		return report(env.stderr, err)
	}
	warn(env.stderr, pkgs, base)
	out, err := golang.Files(pkgs, base)
	if err != nil {
		return report(env.stderr, err)
	}
	written, err := golang.Write(env.out, out)
	if env.verbose {
		for _, w := range written {
			fmt.Fprintln(env.stdout, w)
		}
	}
	if err != nil {
		return report(env.stderr, err)
	}
	return exitOK
}
