package policy

import "capsim/idl"

// ClassSource resolves EDL class names to checked classes; *idl.Loader
// satisfies it.
type ClassSource interface {
	Class(name string) (*idl.Class, error)
}

// Options configure Compile.
type Options struct {
	// Roots are searched in order for `use a.b.c._` files (a/b/c.psl) and,
	// when Loader is nil, for EDL and IDL files: the scenario folder (or
	// -I folders) first, then idl_path, then idl.BuiltinRoot().
	Roots []idl.Root
	// Loader resolves `use EDL` names; nil means a new loader over Roots.
	Loader *idl.Loader
	// Classes, when set, resolves classes instead of Loader (tools and
	// tests that hold classes in memory).
	Classes ClassSource
	// SkipTests leaves the main file's assert blocks unchecked: a system
	// that runs under the policy never runs them (REFERENCE §2: `policy
	// test` runs them, `run` ignores them), so a mistake in a test must not
	// stop it. They must still parse.
	SkipTests bool
	// Explain makes a rule that denies record the state it depended on (a
	// choice's branch, a HashSet's entries, a Flow's transitions), for
	// Policy.Explain. It costs on every denied decision — a set's entries
	// are sorted — so a run that does not explain leaves it off: a hostile
	// entity's denied flood must not make the kernel do more.
	Explain bool
}

// classSource returns what resolves classes for these options.
func (o Options) classSource() ClassSource {
	switch {
	case o.Classes != nil:
		return o.Classes
	case o.Loader != nil:
		return o.Loader
	}
	return idl.NewLoader(o.Roots, idl.Options{})
}
