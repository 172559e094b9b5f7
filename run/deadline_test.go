package run_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"capsim/entities"
	"capsim/entities/posix"
	"capsim/run"
)

func testPrograms() []*entities.Program {
	return []*entities.Program{
		{Name: "test-deadlines", Class: "demo.HttpClient", Run: runDeadlines},
		{Name: "test-ask", Class: "test.Verifier", Run: runAsk},
		{Name: "test-files", Class: "demo.HttpServer", Run: runFiles},
	}
}

// runDeadlines checks net.Conn deadlines over the client API, on the
// netstack's own loopback: a read with nothing to read times out as
// net.Error.Timeout, the connection then still works and loses no byte, an
// expired deadline fails at once, and a listener's Accept ends when it is
// closed.
func runDeadlines(ctx context.Context, rt *entities.Runtime, args []string) int {
	n := posix.NewNet(rt)
	fail := func(format string, a ...any) int { fmt.Printf("FAIL "+format+"\n", a...); return 1 }
	ln, err := n.ListenTCP(ctx, "127.0.0.1:9000")
	if err != nil {
		return fail("listen: %v", err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := n.Dial(ctx, "tcp", "127.0.0.1:9000")
	if err != nil {
		return fail("dial: %v", err)
	}
	srv := <-accepted
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		return fail("read with nothing to read: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		return fail("read timed out after %v, before its deadline", d)
	}
	fmt.Println("ok read deadline")
	if _, err := srv.Write([]byte("after the timeout")); err != nil {
		return fail("server write: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	got, err := io.ReadAtLeast(c, buf, len("after the timeout"))
	if err != nil || string(buf[:got]) != "after the timeout" {
		return fail("read after the deadline was cleared: %q, %v", buf[:got], err)
	}
	fmt.Println("ok no byte lost")
	c.SetDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		return fail("read past an expired deadline: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		return fail("write past an expired deadline: %v", err)
	}
	fmt.Println("ok expired deadline")
	done := make(chan error, 1)
	go func() { _, err := ln.Accept(); done <- err }()
	time.Sleep(100 * time.Millisecond)
	ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			return fail("accept after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		return fail("accept still blocked 5s after the listener closed")
	}
	fmt.Println("ok accept ends on close")
	return 0
}

const deadlineScenario = `
[[host]]
name = "solo"
addresses = ["10.0.9.1/24"]
[[host]]
name = "peer"
addresses = ["10.0.9.2/24"]
[[link]]
name = "lan"
hosts = ["solo", "peer"]
[[entity]]
task = "solo-net"
class = "capsim.Netstack"
host = "solo"
[[entity]]
task = "peer-net"
class = "capsim.Netstack"
host = "peer"
[[entity]]
task = "probe"
class = "demo.HttpClient"
program = "capsim:test-deadlines"
host = "solo"
env = { VFS_NETWORK_BACKEND = "client:net" }
connections = [ { target = "solo-net", id = "net" } ]
main = true
[[expect]]
task = "probe"
exit = 0
`

func TestConnDeadlines(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/scenario.toml", []byte(deadlineScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, out := runScenario(t, dir, run.Options{})
	if !rep.OK() {
		t.Fatalf("failures: %q\n%s", rep.Failures, out)
	}
}
