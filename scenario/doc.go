// Package scenario is capsim's scenario file: the one schema that capsim
// run, test, verify and diagram read, its loader and its checks.
//
// A scenario is a folder holding scenario.toml (or a single .toml file):
// hosts, entities and their channels, the virtual network, certificates,
// the policy, expectations and properties. Load parses it with
// BurntSushi/toml, converts every value to its type (durations, sizes,
// rates, percentages, addresses), applies the documented defaults and
// checks everything that can be checked without the IDL and the policy:
// names, references between elements, the network's shape, mounts and file
// placeholders. Every problem comes back at once, in a sorted diag.List of
// "file:line:col: message" errors, unknown keys included ("did you mean ...?").
//
// Each element keeps where it was written (Node.Pos, Node.KeyPos), so a
// caller that checks classes, IDL and policy files reports its own errors
// at the right line. docs/SCENARIO.md is the user documentation of every
// key.
package scenario
