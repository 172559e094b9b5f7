package confine

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// libDirs are the directories a dynamically linked program may read its
// libraries from. Only those that exist are allowed.
var libDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"}

// ldCache is the dynamic loader's cache, read by a dynamic program.
const ldCache = "/etc/ld.so.cache"

// deps is what a program needs to start: files to read and execute, and
// for a dynamic program its library directories and the loader cache.
type deps struct {
	Exec      []string
	Libs      []string
	ReadFiles []string
}

// programDeps finds what the program at path needs to start. A static ELF
// needs only itself; a dynamic one its loader (PT_INTERP) and the library
// directories. A script needs its interpreter, resolved the same way.
func programDeps(path string) (*deps, error) {
	d := &deps{}
	for hops := 0; ; hops++ {
		if hops > 4 {
			return nil, fmt.Errorf("%s: interpreters nest too deep", path)
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, fmt.Errorf("program: %w", err)
		}
		d.Exec = append(d.Exec, real)
		interp, script, err := interpreter(real)
		if err != nil {
			return nil, err
		}
		if interp == "" {
			return d, nil
		}
		if !script {
			ld, err := filepath.EvalSymlinks(interp)
			if err != nil {
				return nil, fmt.Errorf("%s: loader: %w", path, err)
			}
			d.Exec = append(d.Exec, ld)
			d.Libs = existing(libDirs)
			d.ReadFiles = existing([]string{ldCache})
			return d, nil
		}
		path = interp
	}
}

// interpreter returns the program's ELF interpreter (PT_INTERP), or for a
// "#!" script the script's interpreter (script true); "" for a static ELF.
func interpreter(path string) (interp string, script bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, fmt.Errorf("program: %w", err)
	}
	defer f.Close()
	head := make([]byte, 256)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", false, fmt.Errorf("program %s: %w", path, err)
	}
	if s, ok := shebang(head[:n]); ok {
		return s, true, nil
	}
	interp, err = elfInterp(f)
	if err != nil {
		return "", false, fmt.Errorf("program %s: %w", path, err)
	}
	return interp, false, nil
}

// shebang parses a "#!" line: the interpreter's absolute path.
func shebang(b []byte) (string, bool) {
	if len(b) < 3 || b[0] != '#' || b[1] != '!' {
		return "", false
	}
	b = b[2:]
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != 0 {
		j++
	}
	s := string(b[i:j])
	if !filepath.IsAbs(s) {
		return "", false
	}
	return s, true
}

// elfInterp reads the PT_INTERP of an ELF file; "" when it has none.
func elfInterp(r io.ReaderAt) (string, error) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return "", fmt.Errorf("not an ELF file or script: %w", err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		if p.Filesz == 0 || p.Filesz > 4096 {
			return "", errors.New("PT_INTERP of a bad size")
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("PT_INTERP: %w", err)
		}
		for len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
		if !filepath.IsAbs(string(b)) {
			return "", fmt.Errorf("PT_INTERP %q is not absolute", b)
		}
		return string(b), nil
	}
	return "", nil
}

func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}
