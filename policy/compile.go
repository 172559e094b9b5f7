package policy

import (
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

// builtinModules are the modules `use nk.X._` brings in.
var builtinModules = map[string]string{
	"nk.base": "Base", "nk.basic": "", "nk.flow": "Flow", "nk.regex": "Regex",
	"nk.hashmap": "HashSet", "nk.staticmap": "StaticMap",
}

// coreClass is the kernel's class, always known.
const coreClass = "kl.core.Core"

// compiler holds the state of one Compile.
type compiler struct {
	opts     Options
	errs     diag.List
	p        *Policy
	included map[string]bool // used files by module name
	models   map[string]bool // models brought in by use
	known    map[string]bool // class names loaded and used
	// explainers collects, while a rule compiles, what it records when it
	// denies (see explain.go).
	explainers []explainFn
}

// Compile reads, checks and compiles the policy at path (on disk). The
// error is a diag.List of positioned errors.
func Compile(path string, opts Options) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return CompileSource(path, string(src), opts)
}

// CompileSource compiles a policy whose main file's text is src; path
// names it in positions and its folder is searched first for `use`d files.
func CompileSource(path, src string, opts Options) (*Policy, error) {
	opts.Classes = opts.classSource()
	c := &compiler{
		opts:     opts,
		p:        newPolicy(),
		included: map[string]bool{},
		models:   map[string]bool{},
		known:    map[string]bool{},
	}
	f := parseFile(path, src, &c.errs)
	c.p.Files = append(c.p.Files, f)
	if cl, err := c.opts.Classes.Class(coreClass); err == nil {
		c.p.Classes[coreClass] = cl
		c.known[coreClass] = true
	}
	if len(c.errs) == 0 {
		c.file(f)
		c.checkAudit()
		if !c.opts.SkipTests {
			c.checkTests(f)
		}
		c.p.buildIndex()
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	c.p.snapshot = c.p.saveState()
	return c.p, nil
}

// file processes the declarations of one file in source order.
func (c *compiler) file(f *File) {
	if f.Header != "" && f.Header != "kl.core.Execute" {
		c.errs.Addf(diag.Pos{File: f.Path, Line: 1, Col: 1}, "execute interface %s: only kl.core.Execute is supported", f.Header)
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *Use:
			c.use(d)
		case *ObjectDecl:
			c.declareObject(d)
		case *AuditProfile:
			c.auditProfile(d)
		case *AuditDefault:
			if c.p.auditDefault != nil {
				c.errs.Addf(d.Pos, "audit default given twice (first at %s)", c.p.auditDefault.Pos)
				continue
			}
			c.p.auditDefault = d
		case *Binding:
			c.binding(d)
		}
	}
}

func (c *compiler) use(u *Use) {
	if u.EDL {
		if _, err := c.class(u.Name, u.Pos); err == nil {
			c.known[u.Name] = true
		}
		return
	}
	if m, ok := builtinModules[u.Name]; ok {
		c.models[m] = true
		if m == "Regex" {
			c.p.addObject(newRegexObject())
		}
		return
	}
	if strings.HasPrefix(u.Name, "nk.") {
		c.errs.Addf(u.Pos, "unknown built-in module %s (%s)", u.Name, suggest(u.Name, keys(builtinModules)))
		return
	}
	if c.included[u.Name] {
		return
	}
	name, src, err := c.find(strings.ReplaceAll(u.Name, ".", "/") + ".psl")
	if err != nil {
		c.errs.Addf(u.Pos, "use %s._: %v", u.Name, err)
		return
	}
	c.included[u.Name] = true // before its uses: a cycle ends here
	n := len(c.errs)
	f := parseFile(name, src, &c.errs)
	c.p.Files = append(c.p.Files, f)
	if len(c.errs) == n {
		c.file(f)
	}
}

// find reads a policy file from the first root that has it.
func (c *compiler) find(rel string) (string, string, error) {
	for _, r := range c.opts.Roots {
		var b []byte
		var err error
		if r.FS != nil {
			b, err = fs.ReadFile(r.FS, rel)
		} else {
			b, err = os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(rel)))
		}
		if err == nil {
			return path.Join(r.Dir, rel), string(b), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
	}
	var dirs []string
	for _, r := range c.opts.Roots {
		dirs = append(dirs, r.Dir)
	}
	return "", "", fmt.Errorf("%s not found in %s", rel, strings.Join(dirs, ", "))
}

// class loads a class through the options' ClassSource.
func (c *compiler) class(name string, pos diag.Pos) (*idl.Class, error) {
	if cl, ok := c.p.Classes[name]; ok {
		return cl, nil
	}
	if c.opts.Classes == nil {
		err := fmt.Errorf("no IDL loader to resolve class %s", name)
		c.errs.Addf(pos, "%v", err)
		return nil, err
	}
	cl, err := c.opts.Classes.Class(name)
	if err != nil {
		var l diag.List
		if errors.As(err, &l) {
			for _, e := range l {
				if e.Pos.IsValid() {
					c.errs = append(c.errs, e)
				} else {
					c.errs.Addf(pos, "use EDL %s: %s", name, e.Msg)
				}
			}
		} else {
			c.errs.Addf(pos, "use EDL %s: %v", name, err)
		}
		return nil, err
	}
	c.p.Classes[name] = cl
	return cl, nil
}

// usedClass returns the class a selector names, or reports why it cannot.
func (c *compiler) usedClass(s Selector) *idl.Class {
	if s.Value == coreClass && !c.known[coreClass] {
		if cl, err := c.class(coreClass, s.Pos); err == nil {
			c.known[coreClass] = true
			return cl
		}
		return nil
	}
	if c.known[s.Value] {
		return c.p.Classes[s.Value]
	}
	if c.opts.Classes != nil {
		if _, err := c.opts.Classes.Class(s.Value); err == nil {
			c.errs.Addf(s.Pos, "class %s is not used; add `use EDL %s` before this line", s.Value, s.Value)
			return nil
		}
	}
	c.errs.Addf(s.Pos, "unknown class %s (%s)", s.Value, suggest(s.Value, keys(c.known)))
	return nil
}
