package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

func TestRunPolicy(t *testing.T) {
	const td = "../../policy/testdata/"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a regexp
		stderr string // a regexp
	}{
		{"all pass", []string{"test", "-I", td + "idl", td + "all.psl"}, 0, `(?m)^PASS "flow" / "ping then pong"$[\s\S]*^9 passed, 0 failed$`, `^$`},
		{"flags after the file", []string{"test", td + "all.psl", "-I", td + "idl", "-run", "store/commit"}, 0, `(?m)\APASS "store" / "commit"\n1 passed, 0 failed\n\z`, `^$`},
		{"wrong expectation", []string{"test", "-I", td + "idl", td + "wrong.psl"}, 1, `(?m)^FAIL "wrong" / .*case "big ping" at .*wrong.psl:15:9: expected grant, got deny[\s\S]*^0 passed, 1 failed$`, `^$`},
		{"verbose", []string{"test", "-v", "-I", td + "idl", td + "wrong.psl"}, 1, `assert \(message.value < 10\) → deny`, `^$`},
		{"syntax error", []string{"test", "-I", td + "idl", td + "bad/syntax.psl"}, 2, `^$`, `(?m)^.*bad/syntax.psl:5:37: expected "\(", found "}"$`},
		{"unknown class", []string{"test", "-I", td + "idl", td + "bad/unknown_class.psl"}, 2, `^$`, `unknown_class.psl:6:13: unknown class demo.EchoSrever`},
		{"unknown method", []string{"test", "-I", td + "idl", td + "bad/unknown_method.psl"}, 2, `^$`, `unknown_method.psl:6:50: no method Pnig`},
		{"unknown field", []string{"test", "-I", td + "idl", td + "bad/unknown_field.psl"}, 2, `^$`, `unknown_field.psl:6:58: no field valeu`},
		{"unknown test field", []string{"test", "-I", td + "idl", td + "bad/pal.psl"}, 2, `^$`, `pal.psl:12:36: no field valeu`},
		{"missing file", []string{"test", td + "nope.psl"}, 2, `^$`, `capsim: policy: open`},
		{"no file", []string{"test"}, 2, `^$`, `usage: capsim policy test`},
		{"two files", []string{"test", "a.psl", "b.psl"}, 2, `^$`, `takes one policy file`},
		{"bad flag", []string{"test", "-x", "a.psl"}, 2, `^$`, `flag provided but not defined: -x`},
		{"unknown subcommand", []string{"check", "a.psl"}, 2, `^$`, `unknown policy command "check"`},
		{"file without test", []string{td + "all.psl"}, 2, `^$`, `unknown policy command ".*all.psl" \(did you mean capsim policy test .*all.psl\?\)`},
		{"a folder", []string{"test", td}, 2, `^$`, `is a folder; give its policy file`},
		{"help", []string{"-h"}, 0, `^$`, `(?s)usage: capsim policy test.*Example:.*-I DIR`},
		{"test help", []string{"test", "-h"}, 0, `^$`, `usage: capsim policy test`},
		{"nothing", nil, 2, `^$`, `usage: capsim policy test`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPolicy(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout does not match %s:\n%s", tt.stdout, stdout.String())
			}
			if !regexp.MustCompile(tt.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr does not match %s:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}
