package idl

import (
	"embed"
)

// builtinFS holds the built-in interface and class files.
//
//go:embed kl capsim demo
var builtinFS embed.FS

// BuiltinRoot is the root of the built-in files (kl, capsim and demo
// trees), embedded in the binary; positions print it as "idl".
func BuiltinRoot() Root { return Root{Dir: "idl", FS: builtinFS} }
