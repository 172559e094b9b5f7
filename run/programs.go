package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"capsim/diag"
	"capsim/entities"
	"capsim/idl"
	"capsim/scenario"
)

// program is how the kernel starts an entity: an executable and argv[0].
type program struct {
	path  string
	argv0 string
}

// programs resolves `program` keys: built-ins run the capsim executable
// itself; a Go package folder is built once into a cache; any other path
// is an executable.
type programs struct {
	registry *entities.Registry
	self     string // the capsim executable (or a test binary that registers the built-ins)

	mu    sync.Mutex
	built map[string]string
}

func (ps *programs) resolve(ctx context.Context, sc *scenario.Scenario, e *scenario.Entity) (program, error) {
	name := e.Program
	if argv0, err := builtin(ps.registry, e); err != nil {
		return program{}, err
	} else if argv0 != "" {
		return program{path: ps.self, argv0: argv0}, nil
	}
	path := name
	if !filepath.IsAbs(path) {
		path = sc.Path(name)
	}
	st, err := os.Stat(path)
	if err != nil {
		return program{}, fmt.Errorf("%s: entity %q: program: %w", e.KeyPos("program"), e.Task, err)
	}
	if st.IsDir() {
		bin, err := ps.build(ctx, path)
		if err != nil {
			return program{}, fmt.Errorf("%s: entity %q: %w", e.KeyPos("program"), e.Task, err)
		}
		return program{path: bin, argv0: e.Task}, nil
	}
	if st.Mode()&0o111 == 0 {
		return program{}, fmt.Errorf("%s: entity %q: program %s is not executable", e.KeyPos("program"), e.Task, path)
	}
	return program{path: path, argv0: e.Task}, nil
}

// builtin returns the built-in program an entity runs, "capsim:NAME", or
// "" when its program is a path; the error says why it has none.
func builtin(reg *entities.Registry, e *scenario.Entity) (string, *diag.Error) {
	switch name := e.Program; {
	case name == "":
		p := reg.ForClass(e.Class)
		if p == nil {
			return "", diag.Errorf(e.KeyPos("class"), "entity %q: class %s has no built-in program; set program (see `capsim programs`)",
				e.Task, e.Class)
		}
		return entities.ProgramPrefix + p.Name, nil
	case strings.HasPrefix(name, entities.ProgramPrefix):
		if reg.Lookup(name) == nil {
			var names []string
			for _, p := range reg.All() {
				names = append(names, entities.ProgramPrefix+p.Name)
			}
			hint := "see `capsim programs`"
			if near, ok := diag.Closest(name, names); ok {
				hint = fmt.Sprintf("did you mean %q? see `capsim programs`", near)
			}
			return "", diag.Errorf(e.KeyPos("program"), "entity %q: no built-in program %q (%s)", e.Task, name, hint)
		}
		return name, nil
	}
	return "", nil
}

// checkBuiltins reports, with the class errors, the entities whose built-in
// program does not exist; an entity whose class is not found is left to
// the class error.
func checkBuiltins(sc *scenario.Scenario, reg *entities.Registry, classes func(string) (*idl.Class, error)) diag.List {
	var errs diag.List
	for i := range sc.Entities {
		e := &sc.Entities[i]
		if _, err := classes(e.Class); err != nil && e.Program == "" {
			continue
		}
		if _, err := builtin(reg, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// build compiles the Go package in dir into the user's cache, once per run
// and folder; go build's own cache makes a rebuild of unchanged code quick.
func (ps *programs) build(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if bin, ok := ps.built[abs]; ok {
		return bin, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(abs))
	bin := filepath.Join(cache, "capsim", "programs", hex.EncodeToString(sum[:8]), filepath.Base(abs))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s%s", dir, err, out, buildHint(string(out)))
	}
	if ps.built == nil {
		ps.built = make(map[string]string)
	}
	ps.built[abs] = bin
	return bin, nil
}

// buildHint says what to do when go build failed because the program
// folder is outside the capsim module and has no module of its own that
// finds capsim: the usual first step after copying scenarios/own-programs.
func buildHint(out string) string {
	if strings.Contains(out, "go.mod file not found") ||
		strings.Contains(out, "package capsim/") && (strings.Contains(out, "is not in std") || strings.Contains(out, "no required module provides")) {
		return "hint: a program folder outside the capsim module needs a go.mod of its own with\n" +
			"  require capsim v0.0.0\n  replace capsim => /path/to/capsim\n" +
			"and then `go mod tidy` in it (see docs/PROGRAMS.md)\n"
	}
	return ""
}
