// Package builtin lists every program built into the capsim binary, so the
// command, and tests that start entities from their own binary, share one
// registry.
package builtin

import (
	"capsim/entities"
	"capsim/entities/echo"
)

// Registry returns a registry of every built-in program.
func Registry() *entities.Registry {
	r := entities.NewRegistry()
	for _, p := range echo.Programs() {
		r.Register(p)
	}
	return r
}
