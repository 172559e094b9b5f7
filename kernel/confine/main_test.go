package confine_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"capsim/entities"
	"capsim/entities/adversary"
	"capsim/entities/echo"
	"capsim/kernel/confine"
)

// The test binary is the trampoline and every entity program of these
// tests.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

func registry() *entities.Registry {
	r := entities.NewRegistry(adversary.Program(), sleeper(), exiter(), hog())
	for _, p := range echo.Programs() {
		r.Register(p)
	}
	return r
}

// sleeper serves nothing until the kernel stops it: a sibling to attack.
func sleeper() *entities.Program {
	return &entities.Program{Name: "test-sleeper", Class: "demo.EchoServer",
		Run: func(ctx context.Context, rt *entities.Runtime, args []string) int {
			fmt.Println("sleeping")
			_ = rt.Serve(ctx)
			return 0
		}}
}

// exiter exits at once: the entity start benchmark.
func exiter() *entities.Program {
	return &entities.Program{Name: "test-exit", Class: "demo.EchoClient",
		Run: func(context.Context, *entities.Runtime, []string) int { return 0 }}
}

// hog allocates and touches memory until it is stopped.
func hog() *entities.Program {
	return &entities.Program{Name: "test-hog", Class: "demo.EchoClient",
		Run: func(context.Context, *entities.Runtime, []string) int {
			var keep [][]byte
			for i := 0; i < 1024; i++ {
				b := make([]byte, 1<<20)
				for j := range b {
					b[j] = byte(j)
				}
				keep = append(keep, b)
			}
			fmt.Printf("allocated %d MiB\n", len(keep))
			return 0
		}}
}
