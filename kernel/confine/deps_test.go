package confine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestShebang(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"#!/bin/sh\necho", "/bin/sh", true},
		{"#! /usr/bin/env python3\n", "/usr/bin/env", true},
		{"#!sh\n", "", false},
		{"\x7fELF", "", false},
		{"#", "", false},
	}
	for _, tt := range tests {
		got, ok := shebang([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("shebang(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProgramDeps(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d, err := programDeps(self)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(self)
	if d.Exec[0] != real {
		t.Errorf("Exec[0] = %q, want the program %q", d.Exec[0], real)
	}
	// A dynamic program (this test binary links libc through cgo, /bin/sh
	// surely does) needs its loader and the library directories.
	sh, err := programDeps("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.Exec) != 2 || len(sh.Libs) == 0 {
		t.Errorf("/bin/sh deps = %+v, want the program, its loader and library directories", sh)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "s")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntrue\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sd, err := programDeps(script)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sd.Exec, script) || len(sd.Exec) != 3 {
		t.Errorf("script deps = %+v, want the script, /bin/sh and its loader", sd)
	}
	if _, err := programDeps(filepath.Join(dir, "missing")); err == nil {
		t.Error("deps of a missing program: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := programDeps(filepath.Join(dir, "junk")); err == nil {
		t.Error("deps of a non-ELF, non-script file: no error")
	}
}
