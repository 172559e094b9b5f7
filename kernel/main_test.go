package kernel_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	echoapi "capsim/api/demo/echo"
	"capsim/entities"
	"capsim/entities/echo"
	"capsim/idl"
	"capsim/ipc"
	"capsim/kernel/confine"
)

// The test binary doubles as every entity program of these tests: the
// kernel re-executes it with argv[0] "capsim:NAME".
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	benchMain()
	r := entities.NewRegistry(testPrograms()...)
	for _, p := range echo.Programs() {
		r.Register(p)
	}
	r.MainIfEntity()
	os.Exit(m.Run())
}

func classes() func(string) (*idl.Class, error) {
	l := idl.NewLoader([]idl.Root{idl.DirRoot("testdata/idl"), idl.BuiltinRoot()}, idl.Options{})
	return l.Class
}

func self(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func exitf(code int, format string, args ...any) int {
	fmt.Printf(format+"\n", args...)
	return code
}

func benchEchoClient(rt *entities.Runtime, h ipc.Handle, riid uint16) *echoapi.Client {
	return &echoapi.Client{Caller: rt, Handle: h, Endpoint: riid}
}

var _ = context.Background
