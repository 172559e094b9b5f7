package netstack_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"capsim/entities"
	"capsim/entities/builtin"
	"capsim/entities/posix"
	"capsim/kernel/confine"
	"capsim/run"
	"capsim/scenario"
)

// The test binary serves as the capsim binary: the kernel runs the netstack
// entities and the two programs below from it.
func TestMain(m *testing.M) {
	confine.MainIfTrampoline()
	registry().MainIfEntity()
	os.Exit(m.Run())
}

// registry is the built-in programs plus the benchmark's sink and source.
func registry() *entities.Registry {
	r := builtin.Registry()
	r.Register(&entities.Program{Name: "h2h-sink", Class: "demo.HttpServer", Run: runSink,
		Summary: "benchmark: accepts TCP connections, reads each to EOF, answers the byte count"})
	r.Register(&entities.Program{Name: "h2h-source", Class: "demo.HttpClient", Run: runSource,
		Summary: "benchmark: bulk transfers or connection set-ups, timed by itself"})
	return r
}

// h2hScenario: two hosts, each with its own netstack entity, on one
// unimpaired link; the sink on cloud, the source on device.
const h2hScenario = `
name    = "host-to-host"
timeout = "600s"
[[host]]
name      = "device"
addresses = ["10.0.0.1/24"]
[[host]]
name      = "cloud"
addresses = ["10.0.0.2/24"]
[[link]]
name  = "lan"
hosts = ["device", "cloud"]
mtu   = %d
[[entity]]
task  = "device-net"
class = "capsim.Netstack"
host  = "device"
[[entity]]
task  = "cloud-net"
class = "capsim.Netstack"
host  = "cloud"
[[entity]]
task    = "sink"
class   = "demo.HttpServer"
program = "capsim:h2h-sink"
host    = "cloud"
env     = { VFS_NETWORK_BACKEND = "client:net" }
connections = [ { target = "cloud-net", id = "net" } ]
[[entity]]
task    = "source"
class   = "demo.HttpClient"
program = "capsim:h2h-source"
host    = "device"
args    = [%s]
env     = { VFS_NETWORK_BACKEND = "client:net" }
connections = [ { target = "device-net", id = "net" } ]
main    = true
[[expect]]
task = "source"
exit = 0
`

const (
	h2hPort     = "5001"
	h2hTransfer = 64 << 20 // bytes per bulk operation
	h2hConns    = 500      // connections per connections operation
)

// BenchmarkHostToHost is bulk TCP and connection set-up between entities on
// two hosts, each netstack its own process, through the kernel's switch:
// what BenchmarkInProcessStacks measures with both stacks in one process.
// Each operation is a whole run; the source entity times its own transfers
// (start-up excluded) and the figures reported are its.
func BenchmarkHostToHost(b *testing.B) {
	for _, mtu := range []int{1500, 65000} {
		b.Run(fmt.Sprintf("bulk/mtu=%d", mtu), func(b *testing.B) { benchH2HBulk(b, mtu, 1<<20) })
	}
	b.Run("bulk-64k-sends/mtu=1500", func(b *testing.B) { benchH2HBulk(b, 1500, 64<<10) })
	b.Run("connections/mtu=1500", benchH2HConns)
}

// benchH2HBulk: each op is one connection carrying h2hTransfer bytes in
// writes of chunk bytes.
func benchH2HBulk(b *testing.B, mtu, chunk int) {
	ns, ops := runH2H(b, mtu, "bulk", fmt.Sprint(b.N), fmt.Sprint(h2hTransfer), fmt.Sprint(chunk))
	perOp := ns / float64(ops)
	b.SetBytes(h2hTransfer)
	b.ReportMetric(perOp, "ns/op")
	b.ReportMetric(h2hTransfer/perOp*1e3, "MB/s")
}

// benchH2HConns: each op is one connection set up and closed (connect and
// close on the source, accept and close on the sink).
func benchH2HConns(b *testing.B) {
	ns, ops := runH2H(b, 1500, "conns", fmt.Sprint(b.N*h2hConns))
	b.ReportMetric(ns/float64(ops), "ns/op")
	b.ReportMetric(float64(ops)/(ns/1e9), "conns/s")
}

// runH2H runs the scenario with the source's arguments and returns the
// nanoseconds and operations the source reported.
func runH2H(b *testing.B, mtu int, args ...string) (float64, int) {
	b.Helper()
	dir := b.TempDir()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	text := fmt.Sprintf(h2hScenario, mtu, strings.Join(append([]string{`"10.0.0.2:` + h2hPort + `"`}, quoted...), ", "))
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	sc, err := scenario.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	var out lockedBuffer
	b.ResetTimer()
	rep, err := run.Run(context.Background(), sc, run.Options{Registry: registry(), Output: &out, Stderr: &out})
	b.StopTimer()
	if err != nil {
		b.Fatalf("run: %v\n%s", err, out.String())
	}
	if testing.Verbose() {
		b.Logf("output:\n%s", out.String())
	}
	if !rep.OK() {
		b.Fatalf("run failed: %q\n%s", rep.Failures, out.String())
	}
	var ns float64
	var ops int
	for line := range strings.Lines(out.String()) {
		if _, rest, ok := strings.Cut(line, "h2h: "); ok {
			if _, err := fmt.Sscanf(rest, "ops %d ns %g", &ops, &ns); err != nil {
				b.Fatalf("source line %q: %v", line, err)
			}
		}
	}
	if ops == 0 || ns <= 0 {
		b.Fatalf("no figures from the source:\n%s", out.String())
	}
	return ns, ops
}

type lockedBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb.String()
}

// runSink accepts connections on h2hPort; it reads each to its end and
// answers the number of bytes read (8 bytes, little-endian).
func runSink(ctx context.Context, rt *entities.Runtime, args []string) int {
	ln, err := posix.NewNet(rt).ListenTCP(ctx, ":"+h2hPort)
	if err != nil {
		fmt.Fprintf(rt.Stderr(), "h2h-sink: %v\n", err)
		return 1
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(rt.Stderr(), "h2h-sink: accept: %v\n", err)
			return 1
		}
		go func() {
			defer c.Close()
			n, reads := drain(c)
			_, _ = c.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
			if n > 0 {
				fmt.Fprintf(rt.Stdout(), "h2h-sink: %d bytes in %d reads\n", n, reads)
			}
		}()
	}
}

// drain reads r to its end in reads of up to 1 MiB (the largest Recv);
// not io.Copy to io.Discard, whose ReadFrom reads 8 KiB at a time.
func drain(r io.Reader) (n int64, reads int) {
	buf := make([]byte, 1<<20)
	for {
		k, err := r.Read(buf)
		n += int64(k)
		reads++
		if err != nil {
			return n, reads
		}
	}
}

// runSource: ADDR bulk OPS BYTES CHUNK, or ADDR conns OPS. It prints
// "h2h: ops N ns T", T the time its operations took.
func runSource(ctx context.Context, rt *entities.Runtime, args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(rt.Stderr(), "h2h-source: "+format+"\n", a...)
		return 1
	}
	fl := flag.NewFlagSet("h2h-source", flag.ContinueOnError)
	if err := fl.Parse(args); err != nil || fl.NArg() < 3 {
		return fail("usage: ADDR bulk OPS BYTES CHUNK | ADDR conns OPS")
	}
	n := posix.NewNet(rt)
	addr := fl.Arg(0)
	var ops, size, chunk int
	fmt.Sscan(fl.Arg(2), &ops)
	if c, err := dialRetry(ctx, n, addr); err != nil { // the sink is listening
		return fail("%v", err)
	} else {
		c.Close()
	}
	var op func() error
	switch fl.Arg(1) {
	case "bulk":
		if fl.NArg() != 5 {
			return fail("bulk needs OPS BYTES CHUNK")
		}
		fmt.Sscan(fl.Arg(3), &size)
		fmt.Sscan(fl.Arg(4), &chunk)
		buf := make([]byte, chunk)
		op = func() error { return transfer(ctx, n, addr, buf, size) }
	case "conns":
		op = func() error {
			c, err := n.Dial(ctx, "tcp", addr)
			if err == nil {
				err = c.Close()
			}
			return err
		}
	default:
		return fail("unknown mode %q", fl.Arg(1))
	}
	start := time.Now()
	for i := range ops {
		if err := op(); err != nil {
			return fail("op %d: %v", i, err)
		}
	}
	fmt.Fprintf(rt.Stdout(), "h2h: ops %d ns %d\n", ops, time.Since(start).Nanoseconds())
	return 0
}

// transfer sends size bytes in writes of len(buf) on a new connection and
// waits for the sink to confirm them.
func transfer(ctx context.Context, n *posix.Net, addr string, buf []byte, size int) error {
	c, err := n.Dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for left := size; left > 0; {
		k, err := c.Write(buf[:min(left, len(buf))])
		if err != nil {
			return err
		}
		left -= k
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return err
	}
	var got [8]byte
	if _, err := io.ReadFull(bufio.NewReader(c), got[:]); err != nil {
		return fmt.Errorf("sink's count: %w", err)
	}
	if v := binary.LittleEndian.Uint64(got[:]); v != uint64(size) {
		return fmt.Errorf("sink read %d bytes, want %d", v, size)
	}
	return nil
}

// dialRetry dials until the sink listens (it starts at the same time).
func dialRetry(ctx context.Context, n *posix.Net, addr string) (net.Conn, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := n.Dial(ctx, "tcp", addr)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
