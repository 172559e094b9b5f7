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
	r.Register(&entities.Program{Name: "hostile-net", Class: "capsim.Netstack",
		Summary: "a netstack answering nonsense (hostile_test.go)", Run: runHostileNet})
	r.Register(&entities.Program{Name: "hostile-probe", Class: "demo.HttpClient",
		Summary: "checks what the VFS passes up from a hostile netstack", Run: runHostileProbe})
	return r
}
