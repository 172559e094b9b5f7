package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func fuzzFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("v", false, "")
	fs.String("o", "", "")
	var l listFlag
	fs.Var(&l, "forward", "")
	return fs
}

// FuzzParseInterspersed parses arbitrary command lines (NUL separates the
// arguments): no panic; the positional arguments come back in order, each
// one of the arguments; without any "-" argument everything is
// positional; and everything after a leading "--" is positional, as is.
func FuzzParseInterspersed(f *testing.F) {
	for _, s := range []string{"scen\x00-v\x00--forward\x00127.0.0.1:1=a:1", "-o\x00--\x00x", "a\x00--\x00-v",
		"--\x00-v\x00b", "-o\x00-o\x00--\x00-v", "-v=false\x00-\x00x", "---x", "-h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		pos, err := parseInterspersed(fuzzFlags(), args)
		if err == nil {
			i := 0
			for _, p := range pos {
				for i < len(args) && args[i] != p {
					i++
				}
				if i == len(args) {
					t.Fatalf("%q: positional %q out of order or not an argument (got %q)", args, p, pos)
				}
				i++
			}
		}
		if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") }) && (err != nil || !slices.Equal(pos, args)) {
			t.Fatalf("%q: got %q, %v; want every argument positional", args, pos, err)
		}
		rest := append([]string{"--"}, args...)
		if pos, err := parseInterspersed(fuzzFlags(), rest); err != nil || !slices.Equal(pos, args) {
			t.Fatalf("%q: got %q, %v; want everything after -- positional", rest, pos, err)
		}
	})
}

// TestParseInterspersedDoubleDash: after the "--" that ends the flags,
// arguments that look like flags are positional (before, parsing started
// again after each positional one, so "-- a -v" set -v); a "--" that is a
// flag's value does not end the flags.
func TestParseInterspersedDoubleDash(t *testing.T) {
	for _, tt := range []struct {
		args, want []string
		o          string
	}{
		{[]string{"--", "a", "-v"}, []string{"a", "-v"}, ""},
		{[]string{"a", "--", "-o", "x"}, []string{"a", "-o", "x"}, ""},
		{[]string{"-o", "--", "a", "-v"}, []string{"a"}, "--"},
		{[]string{"-o", "-o", "--", "-v"}, []string{"-v"}, "-o"},
		{[]string{"a", "-o=--", "b"}, []string{"a", "b"}, "--"},
	} {
		fs := fuzzFlags()
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.want) || fs.Lookup("o").Value.String() != tt.o {
			t.Errorf("%q: %q, -o %q, %v; want %q, -o %q", tt.args, pos, fs.Lookup("o").Value.String(), err, tt.want, tt.o)
		}
	}
}
