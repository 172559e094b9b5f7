package golang

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"capsim/diag"
	"capsim/idl"
)

// File is one generated file.
type File struct {
	Path string // below the output root, slash-separated
	Data []byte
}

// SourceName is the IDL file a package's header names: its path below a
// search root (demo/Echo.idl), the same however the generator was invoked.
func SourceName(pkg *idl.Package) string { return strings.ReplaceAll(pkg.Name, ".", "/") + ".idl" }

// Files generates one file per package; base is the import path of the
// output root. Names that Go cannot tell apart (see Check) are a diag.List
// of every package's problems.
func Files(pkgs []*idl.Package, base string) ([]File, error) {
	var out []File
	var errs diag.List
	dirs := map[string]string{} // Go package directory -> IDL package
	for _, p := range pkgs {
		dir := PackageDir(p.Name)
		if other, ok := dirs[dir]; ok && other != p.Name {
			// k.Type and k.Typeidl, or k.Foo and k.foo, would write one file.
			errs.Addf(packagePos(p), "packages %s and %s both map to the Go package %s; rename one", other, p.Name, dir)
			continue
		}
		dirs[dir] = p.Name
		data, err := Generate(p, base, SourceName(p))
		var list diag.List
		if errors.As(err, &list) {
			errs = append(errs, list...)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: dir + "/" + FileName(p.Name), Data: data})
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return out, nil
}

// Check reports, as Files would, what pkgs hold that has no Go form: names
// that clash with one another or with generated names, and packages that
// map to one directory. It writes nothing and needs no module; pkgs should
// include what they import (WithImports), as for Files.
func Check(pkgs []*idl.Package) error {
	_, err := Files(pkgs, checkBase)
	return err
}

// Warnings returns what Files accepts but a user should hear about: a Go
// package that has the name of a standard library package (my.Log → log),
// or like a package of capsim that entity programs import (ipc, entities),
// which shadows it in code that imports both unless one is renamed. base
// is the import path of the output root, as for Files ("" when unknown).
func Warnings(pkgs []*idl.Package, base string) diag.List {
	if base == "" {
		base = "..."
	}
	var out diag.List
	for _, p := range pkgs {
		name := packageName(p.Name)
		if like := shadowed(name); like != "" {
			alias := strings.ToLower(strings.ReplaceAll(p.Name, ".", ""))
			out.Addf(packagePos(p), "warning: the Go package of %s is named %s, like %s: a file that uses both must rename one (import %s %q)", p.Name, name, like, alias, base+"/"+PackageDir(p.Name))
		}
	}
	out.Sort()
	return out
}

// checkBase is the import path Check generates against; the code is
// thrown away.
const checkBase = "capsim.invalid/check"

// packagePos is where p's package clause names it (the file's start for a
// Package built by hand).
func packagePos(p *idl.Package) diag.Pos {
	if p.Pos.IsValid() {
		return p.Pos
	}
	return diag.Pos{File: p.File, Line: 1, Col: 1}
}

// ImportPath returns the Go import path of dir, from the go.mod that
// encloses it.
func ImportPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("import path of %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		mod, err := modulePath(filepath.Join(d, "go.mod"))
		if err == nil {
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", fmt.Errorf("import path of %s: %w", dir, err)
			}
			if rel == "." {
				return mod, nil
			}
			return path.Join(mod, filepath.ToSlash(rel)), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("import path of %s: %w", dir, err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("import path of %s: no go.mod encloses it (the generated packages import one another by module path, so the output folder must be inside a Go module: create one with 'go mod init', see docs/PROGRAMS.md)", dir)
		}
	}
}

// modulePath reads the module line of a go.mod file.
func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// Write writes files below outDir, leaving files whose bytes are unchanged
// untouched. It returns the paths it wrote.
func Write(outDir string, files []File) ([]string, error) {
	var written []string
	for _, f := range files {
		p := filepath.Join(outDir, filepath.FromSlash(f.Path))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// WithImports returns pkgs and every package they import, transitively,
// each once, in a stable order (the given ones first).
func WithImports(l *idl.Loader, pkgs []*idl.Package) ([]*idl.Package, error) {
	seen := map[string]bool{}
	var out []*idl.Package
	queue := append([]*idl.Package(nil), pkgs...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		out = append(out, p)
		for _, name := range p.Imports {
			ip, err := l.Package(name)
			if err != nil {
				return nil, err
			}
			queue = append(queue, ip)
		}
	}
	return out, nil
}
