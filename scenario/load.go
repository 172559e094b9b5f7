package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"

	"capsim/diag"
)

// FileName is the scenario file looked for in a scenario folder.
const FileName = "scenario.toml"

// Load reads the scenario at path: a folder holding scenario.toml, or a
// .toml file. Errors in the file come back as a diag.List, sorted, each
// "file:line:col: message", the column that of the key or table the error
// is about (of the file's start for a missing top-level key); the Scenario
// returned with such a list is the partial result, for tools that show what
// they can. An unreadable file returns a nil Scenario.
func Load(path string) (*Scenario, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load scenario: %s does not exist%s; a scenario is a folder holding %s, or a .toml file",
			path, suggestPath(path), FileName)
	}
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	file, dir := path, filepath.Dir(path)
	if fi.IsDir() {
		file, dir = filepath.Join(path, FileName), path
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load scenario: %s holds no %s%s", path, FileName, scenariosBelow(path))
		}
	} else if filepath.Ext(path) != ".toml" {
		return nil, fmt.Errorf("load scenario: %s is not a scenario file: a scenario is a folder holding %s, or a .toml file", path, FileName)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(file, dir, src)
}

// suggestPath names the entry of path's folder closest to a mistyped
// last element: ` (did you mean "scenarios/echo"?)`, or "".
func suggestPath(path string) string {
	parent, base := filepath.Split(filepath.Clean(path))
	entries, err := os.ReadDir(filepath.Clean(parent + "."))
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if best, ok := diag.Closest(base, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", filepath.Join(parent, best))
	}
	return ""
}

// scenariosBelow tells, for a folder without scenario.toml, where the
// scenarios below it are: run one, or test them all.
func scenariosBelow(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var found []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), FileName)); err == nil {
			found = append(found, e.Name())
		}
	}
	if len(found) == 0 {
		return ""
	}
	return fmt.Sprintf("; its subfolders are scenarios: run one (%s), or all of them with capsim test %s",
		filepath.Join(dir, found[0]), dir)
}

// Parse reads a scenario from src, named file in its errors, whose
// relative paths resolve against dir.
func Parse(file, dir string, src []byte) (*Scenario, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, diag.List{diag.Errorf(tomlErrorPos(file, string(src), pe.Position), "%s", printable(pe.Message))}
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d := &decoder{file: file, idx: indexPositions(string(src))}
	s := &Scenario{}
	d.decode(nil, raw, reflect.ValueOf(s).Elem())
	s.File, s.Dir = file, dir
	s.Pos = diag.Pos{File: file, Line: 1, Col: 1}
	s.applyDefaults()
	v := validator{s: s, errs: d.errs}
	v.validate()
	v.errs.Sort()
	return s, v.errs.Err()
}

// tomlErrorPos is the position of a TOML syntax error, worked out from
// its byte offset: for a backslash at the end of the file the TOML
// library's line is one short (0 on the first line).
func tomlErrorPos(file, src string, p toml.Position) diag.Pos {
	if p.Start < 0 || p.Start > len(src) {
		return diag.Pos{File: file, Line: max(p.Line, 1), Col: max(p.Col, 1)}
	}
	before := src[:p.Start]
	return diag.Pos{File: file, Line: 1 + strings.Count(before, "\n"), Col: len(before) - strings.LastIndexByte(before, '\n')}
}

// printable escapes the control characters of a TOML error message (the
// library quotes the end of the file as a NUL).
func printable(msg string) string {
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// defaultName is the folder's name, or the file's name without .toml when
// the scenario is a file other than scenario.toml.
func defaultName(file, dir string) string {
	if base := filepath.Base(file); base != FileName {
		return strings.TrimSuffix(base, filepath.Ext(base))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Base(dir)
	}
	return filepath.Base(abs)
}

func (s *Scenario) applyDefaults() {
	if s.Name == "" {
		s.Name = defaultName(s.File, s.Dir)
	}
	if !s.given("timeout") {
		s.Timeout = DefaultTimeout
	}
	if !s.given("seed") {
		s.Seed = DefaultSeed
	}
	for i := range s.Entities {
		e := &s.Entities[i]
		if e.Restart == "" {
			e.Restart = RestartNever
		}
		if !e.given("restart_limit") {
			e.RestartLimit = DefaultRestartLimit
		}
		e.Limits.applyDefaults()
		for j := range e.Mounts {
			m := &e.Mounts[j]
			if m.Mode == "" && m.FS == FSRamfs {
				m.Mode = "rw"
			} else if m.Mode == "" {
				m.Mode = "ro"
			}
		}
	}
	for i := range s.Links {
		if !s.Links[i].given("mtu") {
			s.Links[i].MTU = DefaultMTU
		}
	}
	for i := range s.Expects {
		s.Expects[i].applyDefaults()
	}
}

func (l *Limits) applyDefaults() {
	if !l.given("inflight") {
		l.Inflight = DefaultInflight
	}
	if !l.given("queued") {
		l.Queued = DefaultQueued
	}
	if !l.given("message") {
		l.Message = DefaultMessage
	}
	if !l.given("handles") {
		l.Handles = DefaultHandles
	}
}

func (e *Expect) applyDefaults() {
	if !e.given("min") {
		e.Min = 1
		if e.Max != nil && *e.Max < 1 {
			e.Min = 0
		}
	}
	if !e.given("holds") {
		e.Holds = true
	}
}

// Path resolves rel against the scenario folder; an absolute path stays as
// it is.
func (s *Scenario) Path(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(s.Dir, rel)
}

// MainTasks returns the tasks whose exit ends the run, in file order: those
// that set main = true if any does, otherwise every task not set main =
// false.
func (s *Scenario) MainTasks() []string {
	var explicit, implicit []string
	for _, e := range s.Entities {
		switch {
		case e.Main == nil:
			implicit = append(implicit, e.Task)
		case *e.Main:
			explicit = append(explicit, e.Task)
		}
	}
	if len(explicit) > 0 {
		return explicit
	}
	return implicit
}

// Entity returns the entity running task, or nil.
func (s *Scenario) Entity(task string) *Entity {
	for i := range s.Entities {
		if s.Entities[i].Task == task {
			return &s.Entities[i]
		}
	}
	return nil
}

// Host returns the host called name, or nil.
func (s *Scenario) Host(name string) *Host {
	for i := range s.Hosts {
		if s.Hosts[i].Name == name {
			return &s.Hosts[i]
		}
	}
	return nil
}

// Link returns the link with the given name, or nil.
func (s *Scenario) Link(name string) *Link {
	for i := range s.Links {
		if s.Links[i].Name == name {
			return &s.Links[i]
		}
	}
	return nil
}

// Netstack returns the capsim.Netstack entity of host, or nil.
func (s *Scenario) Netstack(host string) *Entity {
	for i := range s.Entities {
		if e := &s.Entities[i]; e.Host == host && e.Class == NetstackClass {
			return e
		}
	}
	return nil
}

// NetstackClass is the class of a host's netstack entity.
const NetstackClass = "capsim.Netstack"
