package idl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"capsim/diag"
	"capsim/ipc"
)

// Root is one search-path root: a file system holding a/b/C.idl for the
// package a.b.C, and the directory name that positions print for it.
type Root struct {
	Dir string // how positions print the root ("scenarios/echo", "idl")
	FS  fs.FS
}

// DirRoot is a root on a directory of the host file system.
func DirRoot(dir string) Root { return Root{Dir: dir, FS: os.DirFS(dir)} }

// Options configure a Loader.
type Options struct {
	// MaxMessage is the largest encoded message (method parameters of one
	// direction) a type may take; 0 means ipc.DefaultMaxMessage.
	MaxMessage int
}

// Loader finds, parses, checks and caches IDL packages, EDL classes and
// CDL components below its roots (the first root holding a file wins). It is
// safe for concurrent use.
type Loader struct {
	roots  []Root
	maxMsg int

	mu      sync.Mutex
	pkgs    map[string]*result[*Package]
	classes map[string]*result[*Class]
	comps   map[string]*result[[]*Endpoint]
	loading []string // the packages being checked, outermost first: a cycle's path
}

// result is a cached load: its value, or the errors that stopped it.
type result[T any] struct {
	val     T
	errs    diag.List
	loading bool
}

func (r *result[T]) err() error { return r.errs.Err() }

// NewLoader returns a loader over roots.
func NewLoader(roots []Root, opts Options) *Loader {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = ipc.DefaultMaxMessage
	}
	return &Loader{
		roots: roots, maxMsg: opts.MaxMessage,
		pkgs: map[string]*result[*Package]{}, classes: map[string]*result[*Class]{},
		comps: map[string]*result[[]*Endpoint]{},
	}
}

// MaxMessage returns the maximum message size the loader checks against.
func (l *Loader) MaxMessage() int { return l.maxMsg }

// Package returns the checked IDL package name ("demo.Echo" from
// demo/Echo.idl). Errors are a diag.List.
func (l *Loader) Package(name string) (*Package, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.pkg(name, diag.Pos{})
	return r.val, r.err()
}

// Class returns the checked EDL class name ("demo.EchoServer" from
// demo/EchoServer.edl), with its components and interfaces.
func (l *Loader) Class(name string) (*Class, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.class(name, diag.Pos{})
	return r.val, r.err()
}

// File loads one explicit .idl, .edl or .cdl file, resolving what it names
// through the roots. It returns a *Package, a *Class or, for a CDL file, the
// component's []*Endpoint.
func (l *Loader) File(p string) (any, error) {
	src, err := os.ReadFile(p)
	if err != nil {
		return nil, diag.List{{Pos: diag.Pos{File: p}, Msg: pathErrText(err)}}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs diag.List
	f := parseFile(p, src, &errs)
	if f.Kind == 0 || len(errs) > 0 {
		return nil, finish(errs).Err()
	}
	if want := fileKindExt[f.Kind]; path.Ext(filepath.ToSlash(p)) != want {
		errs.Addf(f.Name.Pos, "%s declares %s %s, which belongs in a %s file", p, kindWord[f.Kind], f.Name.Name, want)
		return nil, errs.Err()
	}
	if rel := relPath(f.Name.Name, f.Kind); !strings.HasSuffix("/"+filepath.ToSlash(p), "/"+rel) {
		errs.Addf(f.Name.Pos, "%s %s must be in a file %s below a search root (found in %s)", kindWord[f.Kind], f.Name.Name, rel, p)
		return nil, errs.Err()
	}
	switch f.Kind {
	case kindIDL:
		r := l.checkPackage(f, p)
		cacheIfNew(l.pkgs, f.Name.Name, r)
		return r.val, r.err()
	case kindEDL:
		r := l.checkClass(f, p)
		cacheIfNew(l.classes, f.Name.Name, r)
		return r.val, r.err()
	}
	r := l.checkComponent(f, p)
	cacheIfNew(l.comps, f.Name.Name, r)
	return r.val, r.err()
}

func cacheIfNew[T any](m map[string]*result[T], name string, r *result[T]) {
	if _, ok := m[name]; !ok {
		m[name] = r
	}
}

// CheckFiles parses and checks each file; the error lists every problem.
func (l *Loader) CheckFiles(paths []string) error {
	var all diag.List
	for _, p := range paths {
		if _, err := l.File(p); err != nil {
			var list diag.List
			if !errors.As(err, &list) {
				return fmt.Errorf("check %s: %w", p, err)
			}
			all = append(all, list...)
		}
	}
	return finish(all).Err()
}

var kindWord = map[fileKind]string{kindIDL: "package", kindEDL: "task class", kindCDL: "component"}

// relPath is the path below a root that holds name of the given kind.
func relPath(name string, k fileKind) string {
	return strings.ReplaceAll(name, ".", "/") + fileKindExt[k]
}

func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// finish sorts errs and drops exact duplicates (an imported package's errors
// reach every importer).
func finish(errs diag.List) diag.List {
	errs.Sort()
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e.Pos == errs[i-1].Pos && e.Msg == errs[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// find reads rel from the first root that holds it.
func (l *Loader) find(rel string) (display string, src []byte, err error) {
	for _, r := range l.roots {
		b, err := fs.ReadFile(r.FS, rel)
		if err == nil {
			if r.Dir == "" || r.Dir == "." {
				return rel, b, nil
			}
			return path.Join(filepath.ToSlash(r.Dir), rel), b, nil
		}
		// A path through a file ("capsim" a program, not a folder) is as
		// absent as a missing one: the next root may hold it.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", nil, fmt.Errorf("read %s in %s: %s", rel, r.Dir, pathErrText(err))
		}
	}
	return "", nil, fs.ErrNotExist
}

// neighbours lists, as dotted names, the files of rel's kind in rel's
// folder under every root: the candidates for a "did you mean".
func (l *Loader) neighbours(rel string) []string {
	dir, ext := path.Dir(rel), path.Ext(rel)
	var names []string
	for _, r := range l.roots {
		entries, err := fs.ReadDir(r.FS, dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && path.Ext(n) == ext {
				names = append(names, strings.ReplaceAll(path.Join(dir, strings.TrimSuffix(n, ext)), "/", "."))
			}
		}
	}
	return names
}

func (l *Loader) rootNames() string {
	var names []string
	for _, r := range l.roots {
		names = append(names, r.Dir)
	}
	return strings.Join(names, ", ")
}

// validName reports whether name is a dotted list of identifiers.
func validName(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "" || !isLetter(part[0]) {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isLetter(part[i]) && !isDigit(part[i]) {
				return false
			}
		}
	}
	return true
}

// parseNamed finds and parses the file for name; from positions errors.
func (l *Loader) parseNamed(name string, k fileKind, from diag.Pos, errs *diag.List) (*astFile, string) {
	if !validName(name) {
		errs.Addf(from, "invalid %s name %q", kindWord[k], name)
		return nil, ""
	}
	rel := relPath(name, k)
	display, src, err := l.find(rel)
	if errors.Is(err, fs.ErrNotExist) {
		errs.Addf(from, "%s %s not found: no %s below %s%s", kindWord[k], name, rel, l.rootNames(), suggest(name, l.neighbours(rel)))
		return nil, ""
	}
	if err != nil {
		errs.Add(from, err.Error())
		return nil, ""
	}
	f := parseFile(display, src, errs)
	if f.Kind == 0 || len(*errs) > 0 {
		return nil, ""
	}
	if f.Kind != k {
		errs.Addf(f.Name.Pos, "%s declares %s %s, which belongs in a %s file", display, kindWord[f.Kind], f.Name.Name, fileKindExt[f.Kind])
		return nil, ""
	}
	if f.Name.Name != name {
		errs.Addf(f.Name.Pos, "%s %s must be in a file %s below a search root (found in %s)", kindWord[k], f.Name.Name, relPath(f.Name.Name, k), display)
		return nil, ""
	}
	return f, display
}

// pkg loads a package by name, caching the result. Callers hold l.mu.
func (l *Loader) pkg(name string, from diag.Pos) *result[*Package] {
	if r, ok := l.pkgs[name]; ok {
		return r
	}
	r := &result[*Package]{loading: true}
	l.pkgs[name] = r
	f, display := l.parseNamed(name, kindIDL, from, &r.errs)
	if f != nil {
		*r = *l.checkPackage(f, display)
	}
	r.loading = false
	r.errs = finish(r.errs)
	return r
}

// cycle describes the import cycle that from's import of to closes: the
// path of packages being loaded from to back to from.
func (l *Loader) cycle(from, to string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s imports %s", from, to)
	if i := slices.Index(l.loading, to); i >= 0 && l.loading[len(l.loading)-1] == from {
		for _, p := range l.loading[i+1 : len(l.loading)-1] {
			fmt.Fprintf(&b, ", which imports %s", p)
		}
	}
	fmt.Fprintf(&b, ", which imports %s", from)
	return b.String()
}

// checkPackage loads the imports of a parsed IDL file and checks it.
func (l *Loader) checkPackage(f *astFile, display string) *result[*Package] {
	r := &result[*Package]{}
	self := l.pkgs[f.Name.Name]
	if self == nil { // an explicit file: mark it as loading for cycles
		self = &result[*Package]{loading: true}
		l.pkgs[f.Name.Name] = self
		defer delete(l.pkgs, f.Name.Name)
	}
	l.loading = append(l.loading, f.Name.Name)
	defer func() { l.loading = l.loading[:len(l.loading)-1] }()
	imports := map[string]*Package{}
	for _, imp := range f.Imports {
		if _, done := imports[imp.Name]; done {
			continue
		}
		if imp.Name == f.Name.Name {
			r.errs.Addf(imp.Pos, "package %s imports itself", imp.Name)
			continue
		}
		ir := l.pkg(imp.Name, imp.Pos)
		switch {
		case ir.loading:
			r.errs.Addf(imp.Pos, "import cycle: %s", l.cycle(f.Name.Name, imp.Name))
		case len(ir.errs) > 0:
			r.errs = append(r.errs, ir.errs...)
			if ir.errs[0].Pos != imp.Pos { // not just "not found" at this import
				r.errs.Addf(imp.Pos, "imported package %s has errors", imp.Name)
			}
		default:
			imports[imp.Name] = ir.val
		}
	}
	pkg := checkIDL(f, display, imports, l.maxMsg, &r.errs)
	r.errs = finish(r.errs)
	if len(r.errs) == 0 {
		r.val = pkg
	}
	return r
}
