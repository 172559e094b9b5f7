// Package builtin lists every program built into the capsim binary, so the
// command, and tests that start entities from their own binary, share one
// registry.
package builtin

import (
	"capsim/entities"
	"capsim/entities/echo"
	"capsim/entities/httpdemo"
)

// Registry returns a registry of every built-in program.
func Registry() *entities.Registry {
	r := entities.NewRegistry()
	for _, ps := range [][]*entities.Program{echo.Programs(), httpdemo.Programs()} {
		for _, p := range ps {
			r.Register(p)
		}
	}
	return r
}
