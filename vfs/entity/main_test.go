package entity_test

import (
	"os"
	"testing"

	"capsim/entities"
	"capsim/entities/builtin"
	"capsim/kernel/confine"
)

// The test binary serves as the capsim binary: the kernel starts the
// built-in programs and this package's test-only programs from it.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

// registry is the built-in programs plus the benchmark's own.
func registry() *entities.Registry {
	r := builtin.Registry()
	r.Register(&entities.Program{Name: "bench-read", Class: "demo.HttpServer",
		Summary: "reads one file N times through VFS_FILESYSTEM_BACKEND and prints ns/op",
		Run:     runBenchRead})
	return r
}
