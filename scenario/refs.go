package scenario

import (
	"sort"
	"strconv"
	"strings"
)

// RefKind is the kind of a file placeholder in args or env.
type RefKind uint8

// Kinds of file placeholder.
const (
	RefCert RefKind = iota + 1 // $CERTS/NAME: a file the run generates
	RefFile                    // file:PATH: a file relative to the scenario folder
)

// CertsPrefix and FilePrefix start the placeholders.
const (
	CertsPrefix = "$CERTS/"
	FilePrefix  = "file:"
)

// FileRef is one placeholder in an entity's args or env. The kernel opens
// the file read-only, and the entity sees "fd:N" in place of the
// placeholder's bytes, N being the inherited descriptor.
type FileRef struct {
	Kind RefKind
	// Name is the file under $CERTS ("cloud.pem") for RefCert, the path as
	// written for RefFile.
	Name string
	// Arg is the index in Args, or -1 when the reference is in Env.
	Arg int
	// Env is the variable's name when the reference is in Env.
	Env string
	// Off and Len are the placeholder's byte range in that value.
	Off, Len int
}

// Key identifies the file: "$CERTS/cloud.pem" or "file:www/index.html".
// References with the same key name the same file.
func (r FileRef) Key() string {
	if r.Kind == RefCert {
		return CertsPrefix + r.Name
	}
	return FilePrefix + r.Name
}

// Where says where the reference is written: "args[2]" or "env FOO".
func (r FileRef) Where() string {
	if r.Arg >= 0 {
		return "args[" + strconv.Itoa(r.Arg) + "]"
	}
	return "env " + r.Env
}

// FileRefs returns the entity's placeholders in descriptor order: args in
// order, then env by variable name, each value from left to right. A
// $CERTS/NAME reference runs while the name has letters, digits, ".", "_"
// or "-"; a file:PATH reference is a whole value, or what follows the
// first "=" of a value ("--root=file:www").
func (e *Entity) FileRefs() []FileRef {
	var refs []FileRef
	for i, a := range e.Args {
		refs = appendRefs(refs, a, i, "")
	}
	keys := make([]string, 0, len(e.Env))
	for k := range e.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		refs = appendRefs(refs, e.Env[k], -1, k)
	}
	return refs
}

func appendRefs(refs []FileRef, v string, arg int, env string) []FileRef {
	start := 0
	if i := strings.IndexByte(v, '='); i >= 0 && strings.HasPrefix(v[i+1:], FilePrefix) {
		start = i + 1
	}
	if strings.HasPrefix(v[start:], FilePrefix) {
		return append(refs, FileRef{Kind: RefFile, Name: v[start+len(FilePrefix):],
			Arg: arg, Env: env, Off: start, Len: len(v) - start})
	}
	for off := 0; ; {
		i := strings.Index(v[off:], CertsPrefix)
		if i < 0 {
			return refs
		}
		i += off
		j := i + len(CertsPrefix)
		for j < len(v) && isNameByte(v[j]) {
			j++
		}
		refs = append(refs, FileRef{Kind: RefCert, Name: v[i+len(CertsPrefix) : j],
			Arg: arg, Env: env, Off: i, Len: j - i})
		off = j
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// ExpandRefs returns the entity's args and env ("KEY=VALUE", sorted by
// key) with every placeholder replaced by "fd:N", N being fd(ref); fd is
// called once per reference, in the order of FileRefs.
func (e *Entity) ExpandRefs(fd func(FileRef) int) (args, env []string) {
	refs := e.FileRefs()
	args = append([]string(nil), e.Args...)
	envVals := make(map[string]string, len(e.Env))
	for k, v := range e.Env {
		envVals[k] = v
	}
	repls := make([]string, len(refs))
	for i, r := range refs { // fd is called in descriptor order
		repls[i] = "fd:" + strconv.Itoa(fd(r))
	}
	// Replace from the right so that earlier offsets stay valid.
	for i := len(refs) - 1; i >= 0; i-- {
		r, repl := refs[i], repls[i]
		if r.Arg >= 0 {
			a := args[r.Arg]
			args[r.Arg] = a[:r.Off] + repl + a[r.Off+r.Len:]
		} else {
			v := envVals[r.Env]
			envVals[r.Env] = v[:r.Off] + repl + v[r.Off+r.Len:]
		}
	}
	keys := make([]string, 0, len(envVals))
	for k := range envVals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+envVals[k])
	}
	return args, env
}

// CertFiles returns the files that $CERTS names in this scenario: ca.pem,
// crl.pem and other-ca.pem, and NAME.pem, NAME.key and NAME.ocsp for every
// entry of certs; none when certs is empty, as no CA is made then.
func (s *Scenario) CertFiles() []string {
	if len(s.Certs) == 0 {
		return nil
	}
	files := []string{"ca.pem", "crl.pem", "other-ca.pem"}
	for _, c := range s.Certs {
		files = append(files, c.Name+".pem", c.Name+".key", c.Name+".ocsp")
	}
	return files
}
