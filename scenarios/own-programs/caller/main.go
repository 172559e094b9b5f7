// Command caller is a client entity of its own: it calls the counter
// through the channel its scenario connection names, then asks for a
// channel it was not given and shows the kernel's refusal. It is run by
// scenarios/own-programs; see docs/PROGRAMS.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	echoapi "capsim/api/demo/echo"
	"capsim/entities"
	"capsim/ipc"
)

func main() {
	rt, err := entities.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "caller:", err)
		os.Exit(2)
	}
	// A deadline travels with each call: the kernel enforces it too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// "counter" is the connection's id in the scenario; "demo.Echo" the
	// interface (or an endpoint name) served at its other end.
	h, ep, err := rt.Lookup(ctx, "counter", "demo.Echo")
	if err != nil {
		fmt.Println("caller: lookup:", err)
		os.Exit(1)
	}
	c := &echoapi.Client{Caller: rt, Handle: h, Endpoint: ep}
	for i := range 3 {
		v, err := c.Ping(ctx, 100)
		if err != nil {
			fmt.Println("caller: ping:", err)
			os.Exit(1)
		}
		fmt.Printf("caller: ping %d -> %d\n", i+1, v)
	}
	if data, err := c.Echo(ctx, []byte("hello")); err != nil || string(data) != "hello" {
		fmt.Println("caller: echo:", string(data), err)
		os.Exit(1)
	}
	fmt.Println("caller: echo ok")

	// A channel the scenario did not give: the policy decides the lookup.
	if _, _, err := rt.Lookup(ctx, "admin", "demo.Echo"); errors.Is(err, ipc.ErrDenied) {
		fmt.Println("caller: admin channel denied:", err)
	} else {
		fmt.Println("caller: admin channel:", err)
		os.Exit(1)
	}
}
