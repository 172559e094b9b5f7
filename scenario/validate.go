package scenario

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"capsim/diag"
)

// nameRE is the form of task, host and certificate names.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// linkNameRE is the form of link names, which name capture files.
var linkNameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// KernelTask is the task name reserved for the kernel.
const KernelTask = "kernel"

// maxChannelID is the bound of locator.Connect's id (string<64>).
const maxChannelID = 64

// validator checks a decoded scenario; it collects every error.
type validator struct {
	s     *Scenario
	errs  diag.List
	tasks map[string]*Entity
	hosts map[string]*Host
	links map[string]*Link
	// linkOf names the link of each host on one; set by network.
	linkOf map[string]string
	props  map[string]*Property
}

func (v *validator) errorf(pos diag.Pos, format string, args ...any) {
	v.errs.Addf(pos, format, args...)
}

func (v *validator) validate() {
	if v.s.Timeout <= 0 {
		v.errorf(v.s.KeyPos("timeout"), "timeout must be longer than 0s")
	}
	if p := v.s.Policy; p != "" {
		if fi, err := os.Stat(v.s.Path(p)); err != nil || fi.IsDir() {
			v.errorf(v.s.KeyPos("policy"), "policy %q: no such file in the scenario", p)
		}
	}
	for _, p := range v.s.IDLPath {
		if fi, err := os.Stat(v.s.Path(p)); err != nil || !fi.IsDir() {
			v.errorf(v.s.KeyPos("idl_path"), "idl_path %q: no such folder in the scenario", p)
		}
	}
	v.index()
	for i := range v.s.Entities {
		v.entity(&v.s.Entities[i])
	}
	v.network()
	v.certs()
	for i := range v.s.Expects {
		v.expect(&v.s.Expects[i])
	}
	for i := range v.s.Properties {
		v.property(&v.s.Properties[i])
	}
}

// index builds the name tables, checking that names are well formed and
// unique.
func (v *validator) index() {
	v.tasks = map[string]*Entity{}
	for i := range v.s.Entities {
		e := &v.s.Entities[i]
		if v.name(&e.Node, "task", e.Task, "[[entity]]", true) {
			unique(v, v.tasks, e.Task, e, &e.Node, "", "task")
		}
	}
	v.hosts = map[string]*Host{}
	for i := range v.s.Hosts {
		h := &v.s.Hosts[i]
		if v.name(&h.Node, "name", h.Name, "[[host]]", true) {
			unique(v, v.hosts, h.Name, h, &h.Node, "", "host")
		}
	}
	v.links = map[string]*Link{}
	for i := range v.s.Links {
		l := &v.s.Links[i]
		if v.name(&l.Node, "name", l.Name, "[[link]]", false) {
			if !linkNameRE.MatchString(l.Name) {
				// It names the link's capture file (run-NAME.pcap).
				v.errorf(l.KeyPos("name"), "[[link]] name %q may hold only letters, digits, '.', '_' and '-'", l.Name)
			}
			unique(v, v.links, l.Name, l, &l.Node, "", "link")
		}
	}
	v.props = map[string]*Property{}
	for i := range v.s.Properties {
		p := &v.s.Properties[i]
		if v.name(&p.Node, "name", p.Name, "[[property]]", false) {
			unique(v, v.props, p.Name, p, &p.Node, "", "property")
		}
	}
}

// name checks that an element has a name (and, if strict, a well-formed
// one that is not "kernel"); it reports whether the name may be indexed.
func (v *validator) name(n *Node, key, name, what string, strict bool) bool {
	switch {
	case name == "":
		if !n.badValue(key) {
			v.errorf(n.Pos, "%s needs a %s", what, key)
		}
		return false
	case strict && name == KernelTask:
		v.errorf(n.KeyPos(key), "%s %s %q is reserved for the kernel", what, key, name)
	case strict && !nameRE.MatchString(name):
		v.errorf(n.KeyPos(key), "%s %s %q must match [a-z][a-z0-9-]*", what, key, name)
	case strings.ContainsFunc(name, unicode.IsControl):
		// It is printed as a line of run's and verify's output: a newline
		// in it would forge another ("...: holds").
		v.errorf(n.KeyPos(key), "%s %s %q holds a control character", what, key, name)
	}
	return true
}

// unique adds x to m under name, or reports a duplicate; ctx, if not empty,
// names the element that holds both ("entity \"client\": ").
func unique[T any](v *validator, m map[string]*T, name string, x *T, n *Node, ctx, what string) {
	if first, ok := m[name]; ok {
		fp := any(first).(noder).node().Pos
		v.errorf(n.Pos, "%sduplicate %s %q (first at line %d)", ctx, what, name, fp.Line)
		return
	}
	m[name] = x
}

// ref checks that name, written at key of n, is in names; what names the
// referring end, kind the referred one ("task", "host").
func ref[T any](v *validator, names map[string]*T, n *Node, key, what, kind, name string) bool {
	if _, ok := names[name]; ok {
		return true
	}
	label := key
	if key == "hosts" {
		label = "host"
	}
	v.errorf(n.KeyPos(key), "%s: %s %q is not a %s%s", what, label, name, kind, suggest(name, sortedKeys(names)))
	return false
}

func sortedKeys[T any](m map[string]*T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (v *validator) entity(e *Entity) {
	what := fmt.Sprintf("entity %q", e.Task)
	if e.Task == "" {
		what = fmt.Sprintf("the [[entity]] at line %d", e.Pos.Line) // its missing task is reported
	}
	if e.Class == "" && !e.badValue("class") {
		v.errorf(e.Pos, "%s needs a class", what)
	}
	if e.Host != "" {
		ref(v, v.hosts, &e.Node, "host", what, "host", e.Host)
	}
	v.program(e, what)
	ids := map[string]*Connection{}
	for i := range e.Connections {
		c := &e.Connections[i]
		if c.Target == "" {
			if !c.badValue("target") {
				v.errorf(c.Pos, "%s: connection needs a target", what)
			}
		} else {
			ref(v, v.tasks, &c.Node, "target", what+": connection", "task", c.Target)
		}
		switch {
		case c.ID == "" && c.badValue("id"):
		case c.ID == "":
			v.errorf(c.Pos, "%s: connection to %q needs an id", what, c.Target)
		case len(c.ID) > maxChannelID:
			v.errorf(c.KeyPos("id"), "%s: connection id %q is longer than %d bytes", what, c.ID, maxChannelID)
		default:
			unique(v, ids, c.ID, c, &c.Node, what+": ", "connection id")
		}
	}
	if e.Restart != RestartNever && e.Restart != RestartOnFailure {
		v.errorf(e.KeyPos("restart"), "%s: restart %q is not %q or %q%s", what, e.Restart,
			RestartNever, RestartOnFailure, suggest(string(e.Restart), []string{"never", "on-failure"}))
	}
	if e.RestartLimit < 0 {
		v.errorf(e.KeyPos("restart_limit"), "%s: restart_limit must not be negative", what)
	}
	v.limits(what, &e.Limits)
	v.env(what, e)
	v.mounts(what, e)
	v.fileRefs(what, e)
}

func (v *validator) limits(what string, l *Limits) {
	for _, c := range []struct {
		key string
		bad bool
	}{
		{"inflight", l.Inflight < 1},
		{"queued", l.Queued < 1},
		{"message", l.Message < 1},
		{"handles", l.Handles < 1},
	} {
		if c.bad {
			v.errorf(l.KeyPos(c.key), "%s: limits.%s must be at least 1", what, c.key)
		}
	}
}

func (v *validator) env(what string, e *Entity) {
	for _, k := range slices.Sorted(maps.Keys(e.Env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(e.Env[k], 0) {
			v.errorf(e.KeyPos("env"), "%s: env %q is not a valid variable", what, k)
		}
	}
}

func (v *validator) mounts(what string, e *Entity) {
	paths := map[string]*Mount{}
	for i := range e.Mounts {
		m := &e.Mounts[i]
		mw := fmt.Sprintf("%s: mount %q", what, m.Path)
		if !strings.HasPrefix(m.Path, "/") {
			v.errorf(m.KeyPos("path"), "%s: path must be absolute", mw)
		} else {
			unique(v, paths, path.Clean(m.Path), m, &m.Node, what+": ", "mount path")
		}
		switch m.FS {
		case "":
			if !m.Has("fs") {
				v.errorf(m.Pos, "%s: give fs (ramfs, romfs or hostdir)", mw)
			}
		case FSRamfs:
			if m.Source != "" {
				v.errorf(m.KeyPos("source"), "%s: a ramfs has no source", mw)
			}
		case FSRomfs, FSHostdir:
			v.mountSource(mw, m)
			if m.Has("size") {
				v.errorf(m.KeyPos("size"), "%s: size applies to a ramfs only", mw)
			}
		default:
			v.errorf(m.KeyPos("fs"), "%s: fs %q is not ramfs, romfs or hostdir%s", mw, m.FS,
				suggest(m.FS, []string{FSRamfs, FSRomfs, FSHostdir}))
		}
		switch {
		case m.Mode != "ro" && m.Mode != "rw":
			v.errorf(m.KeyPos("mode"), "%s: mode %q is not ro or rw", mw, m.Mode)
		case m.FS == FSRomfs && m.Mode == "rw":
			v.errorf(m.KeyPos("mode"), "%s: a romfs is read-only", mw)
		}
	}
}

func (v *validator) mountSource(what string, m *Mount) {
	if m.Source == "" {
		v.errorf(m.Pos, "%s: a %s needs a source", what, m.FS)
		return
	}
	if m.FS != FSRomfs {
		return // a hostdir folder may be made before the run; the kernel opens it
	}
	fi, err := os.Stat(v.s.Path(m.Source))
	switch {
	case err != nil:
		v.errorf(m.KeyPos("source"), "%s: source %q: no such folder in the scenario", what, m.Source)
	case !fi.IsDir():
		v.errorf(m.KeyPos("source"), "%s: source %q is not a folder", what, m.Source)
	}
}

// fileRefs checks the $CERTS and file: placeholders of args and env.
func (v *validator) fileRefs(what string, e *Entity) {
	certs := v.s.CertFiles()
	for _, r := range e.FileRefs() {
		key := "args"
		if r.Arg < 0 {
			key = "env"
		}
		pos := e.KeyPos(key)
		switch r.Kind {
		case RefCert:
			if len(certs) == 0 {
				v.errorf(pos, "%s: %s: %s: the scenario makes no certificates (give certs)", what, r.Where(), r.Key())
			} else if !slices.Contains(certs, r.Name) {
				v.errorf(pos, "%s: %s: %s names no generated file%s", what, r.Where(), r.Key(), suggest(r.Name, certs))
			}
		case RefFile:
			if r.Name == "" {
				v.errorf(pos, "%s: %s: file: needs a path", what, r.Where())
			} else if fi, err := os.Stat(v.s.Path(r.Name)); err != nil || fi.IsDir() {
				v.errorf(pos, "%s: %s: %s: no such file in the scenario", what, r.Where(), r.Key())
			}
		}
	}
}

// program checks that a program given by path (not a built-in capsim:NAME)
// exists, so that a typo is told with the scenario's other errors.
func (v *validator) program(e *Entity, what string) {
	if e.Program == "" || strings.HasPrefix(e.Program, "capsim:") {
		return
	}
	path := e.Program
	if !filepath.IsAbs(path) {
		path = v.s.Path(path)
	}
	if _, err := os.Stat(path); err == nil {
		return
	}
	var near []string
	if ents, err := os.ReadDir(filepath.Dir(path)); err == nil {
		for _, d := range ents {
			near = append(near, d.Name())
		}
	}
	hint := suggest(filepath.Base(path), near)
	v.errorf(e.KeyPos("program"), "%s: program %q: no such file or folder%s", what, e.Program, hint)
}
