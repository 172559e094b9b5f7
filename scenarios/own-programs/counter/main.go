// Command counter is a server entity of its own: it serves demo.Echo,
// answering Ping(v) with v plus the number of calls it has had, and it
// refuses Echo from anyone but the task named "caller" (by the badge the
// kernel gives each caller). It is run by scenarios/own-programs; see
// docs/PROGRAMS.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"

	echoapi "capsim/api/demo/echo"
	"capsim/entities"
	"capsim/ipc"
)

// counter implements echoapi.Server, the Go form of demo.Echo.
type counter struct{ calls atomic.Uint32 }

func (c *counter) Ping(ctx context.Context, v uint32) (uint32, error) {
	return v + c.calls.Add(1), nil
}

func (c *counter) Pong(ctx context.Context, v uint32) (uint32, error) { return v, nil }

func (c *counter) Echo(ctx context.Context, data []byte) ([]byte, error) {
	// The badge says who calls, as the kernel knows it.
	if b := ipc.BadgeFromContext(ctx); b == nil || b.Task != "caller" {
		return nil, syscall.EPERM // demo.Echo has no error parameters: the caller sees "invalid"
	}
	return data, nil
}

func main() {
	rt, err := entities.Open() // the kernel socket, descriptor 3
	if err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(2)
	}
	// "echo" is the endpoint's name in the class's EDL (demo.EchoServer).
	if err := rt.Handle("echo", echoapi.NewDispatcher(&counter{})); err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
	fmt.Println("counter: serving")
	if err := rt.Serve(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
}
