package entity_test

// End-to-end benchmarks of the TLS terminator through real entities (issue 7):
//
//	BenchmarkTerminatorBulk       sender -> device-tls -> device-vfs -> device-net
//	                              ~~ wan ~~ cloud-net -> cloud-vfs -> cloud-tls -> receiver;
//	                              N x 1 MiB over one connection, the receiver
//	                              reads to EOF and answers one byte
//	BenchmarkPlainBulk            the same chain without the TLS entities
//	BenchmarkTerminatorHandshake  one full connect (TCP + TLS 1.3 handshake,
//	                              verified) + one byte back + close per op
//	BenchmarkPlainConnect         the same without TLS, the contrast
//	BenchmarkTerminatorHandshakeParallel  the handshakes from parallel
//	                              clients, accepted by as many goroutines
//
// The sender times its own loop, after the first connection is made, and
// prints "ns/op N"; the benchmark reports that figure, so the scenario's
// start-up is not in it. The link is perfect (no loss, delay or rate).
// With CAPSIM_BENCH_PROFILE=DIR every entity writes a CPU profile to
// DIR/<bench>-<task>.pprof covering the first 15 s of the run (entities
// then run unconfined, to write it; the run lasts at least that long).
// CAPSIM_BENCH_LOG=1 prints each run's output to stderr; =verbose also
// every trace record and the link statistics. CAPSIM_BENCH_TRACE=FILE
// writes the JSON trace (of the last run) to FILE.
// See docs/BENCHMARKS.md.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"capsim/entities"
	"capsim/entities/posix"
	"capsim/kernel"
	"capsim/run"
	"capsim/scenario"
)

const chunk = 1 << 20

// profileWindow is how long each entity profiles itself, from its start,
// with CAPSIM_BENCH_PROFILE set: choose -benchtime so the timed part fills
// most of it.
const profileWindow = "15s"

func BenchmarkTerminatorBulk(b *testing.B) {
	b.SetBytes(chunk)
	out := runChain(b, "terminator-bulk", true, "bulk")
	if got, want := field(out, "receiver", "bytes"), strconv.Itoa(b.N*chunk); got != want {
		b.Fatalf("receiver got %s bytes, want %s\n%s", got, want, out)
	}
	reportNs(b, out, "sender", chunk)
}

func BenchmarkPlainBulk(b *testing.B) {
	b.SetBytes(chunk)
	out := runChain(b, "plain-bulk", false, "bulk")
	if got, want := field(out, "receiver", "bytes"), strconv.Itoa(b.N*chunk); got != want {
		b.Fatalf("receiver got %s bytes, want %s\n%s", got, want, out)
	}
	reportNs(b, out, "sender", chunk)
}

func BenchmarkTerminatorHandshake(b *testing.B) {
	out := runChain(b, "terminator-handshake", true, "connect")
	reportNs(b, out, "sender", 0)
}

func BenchmarkPlainConnect(b *testing.B) {
	out := runChain(b, "plain-connect", false, "connect")
	reportNs(b, out, "sender", 0)
}

// BenchmarkTerminatorHandshakeParallel is BenchmarkTerminatorHandshake
// with parallel clients in the sender and as many accepting goroutines in
// the receiver: handshakes per second when latency is overlapped, bound by
// CPU. ns/op is wall time over all N ops.
func BenchmarkTerminatorHandshakeParallel(b *testing.B) {
	out := runChain(b, "terminator-handshake-parallel", true, "connect-parallel")
	reportNs(b, out, "sender", 0)
}

// runChain writes the two-host scenario (with or without the TLS
// entities) to a temporary folder, runs it with the sender in mode for b.N
// ops, and returns what the entities printed.
func runChain(b *testing.B, name string, withTLS bool, mode string) string {
	b.Helper()
	dir := b.TempDir()
	policy := "../../scenarios/tls-terminator-plaintext/policy.psl"
	if withTLS {
		policy = "../../scenarios/tls-terminator/policy.psl"
	}
	text, err := os.ReadFile(policy)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.psl"), text, 0o644); err != nil {
		b.Fatal(err)
	}
	profile := os.Getenv("CAPSIM_BENCH_PROFILE")
	if profile != "" {
		if profile, err = filepath.Abs(profile); err != nil {
			b.Fatal(err)
		}
		profile = filepath.Join(profile, name)
	}
	sc := chainScenario(withTLS, mode, b.N, profile)
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(sc), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := run.Options{Registry: registry(), Verbose: os.Getenv("CAPSIM_BENCH_LOG") == "verbose",
		TracePath: os.Getenv("CAPSIM_BENCH_TRACE")}
	if profile != "" {
		opts.Isolate = kernel.IsolateOff
	}
	return runBench(b, dir, opts)
}

// chainScenario is the scenario text: tls-terminator's shape, or the
// plaintext variant's (backends point at the VFS).
func chainScenario(withTLS bool, mode string, n int, profile string) string {
	var s strings.Builder
	s.WriteString(`name    = "bench-chain"
policy  = "policy.psl"
timeout = "3m"
certs   = [ { name = "cloud", hosts = ["cloud"] } ]

[[host]]
name      = "device"
addresses = ["10.0.0.1/24"]

[[host]]
name      = "cloud"
addresses = ["10.0.0.2/24"]

[[link]]
name  = "wan"
hosts = ["device", "cloud"]
`)
	env := func(task string, kv ...string) string {
		if profile != "" {
			kv = append(kv, profileVar, profile+"-"+task+".pprof", profileForVar, profileWindow)
		}
		var parts []string
		for i := 0; i+1 < len(kv); i += 2 {
			parts = append(parts, fmt.Sprintf("%s = %q", kv[i], kv[i+1]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	entity := func(task, class, host, program string, args []string, env, conns string) {
		fmt.Fprintf(&s, "\n[[entity]]\ntask  = %q\nclass = %q\nhost  = %q\n", task, class, host)
		if program != "" {
			fmt.Fprintf(&s, "program = %q\n", program)
		}
		if args != nil {
			fmt.Fprintf(&s, "args  = [%s]\n", quoteAll(args))
		}
		fmt.Fprintf(&s, "env   = %s\n", env)
		if conns != "" {
			fmt.Fprintf(&s, "connections = [ %s ]\n", conns)
		}
	}
	backend := "vfs"
	for _, h := range []string{"device", "cloud"} {
		entity(h+"-net", "capsim.Netstack", h, "", nil, env(h+"-net"), "")
		entity(h+"-vfs", "kl.VfsNet", h, "", nil, env(h+"-vfs", "NETSTACK_BACKEND", "client:netstack"),
			fmt.Sprintf("{ target = %q, id = \"netstack\" }", h+"-net"))
		if withTLS {
			args := []string{"--ca", "$CERTS/ca.pem"}
			if h == "cloud" {
				args = []string{"--cert", "$CERTS/cloud.pem", "--key", "$CERTS/cloud.key"}
			}
			entity(h+"-tls", "kl.TlsEntity", h, "", args, env(h+"-tls", "VFS_NETWORK_BACKEND", "client:vfs"),
				fmt.Sprintf("{ target = %q, id = \"vfs\" }", h+"-vfs"))
			backend = "tls"
		}
	}
	entity("receiver", "demo.HttpServer", "cloud", "capsim:bench-recv", []string{mode, ":443"},
		env("receiver", "VFS_NETWORK_BACKEND", "client:"+backend),
		fmt.Sprintf("{ target = %q, id = %q }", "cloud-"+backend, backend))
	entity("sender", "demo.HttpClient", "device", "capsim:bench-send", []string{mode, "cloud:443", strconv.Itoa(n)},
		env("sender", "VFS_NETWORK_BACKEND", "client:"+backend),
		fmt.Sprintf("{ target = %q, id = %q }", "device-"+backend, backend))
	s.WriteString("main  = true\n\n[[expect]]\ntask = \"sender\"\nexit = 0\n")
	return s.String()
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, ", ")
}

// parallel is the number of clients (and of accepting goroutines) of
// mode connect-parallel.
const parallel = 4

// runBenchSend is capsim:bench-send MODE ADDR N.
//
//	bulk              one connection: N writes of 1 MiB, a half-close, then
//	                  one byte back from the receiver ends the timed part
//	connect           N times: connect (the TLS handshake, behind a TLS
//	                  entity), read the receiver's one byte, close
//	connect-parallel  the same N ops from `parallel` goroutines
//
// It prints "ns/op X" for the timed part.
func runBenchSend(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(rt.Stderr(), "usage: bench-send bulk|connect|connect-parallel ADDR N")
		return 2
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 1 {
		fmt.Fprintf(rt.Stderr(), "bench-send: bad N %q\n", args[2])
		return 2
	}
	nw := posix.NewNet(rt)
	c, err := dialRetry(ctx, nw, args[1])
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-send: %v\n", err)
		return 1
	}
	var ns int64
	switch args[0] {
	case "bulk":
		ns, err = sendBulk(c, n)
	case "connect":
		ns, err = connectLoop(ctx, nw, c, args[1], n, 1)
	case "connect-parallel":
		ns, err = connectLoop(ctx, nw, c, args[1], n, parallel)
	default:
		err = fmt.Errorf("unknown mode %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-send: %v\n", err)
		return 1
	}
	fmt.Fprintf(rt.Stdout(), "ns/op %d\n", ns)
	return 0
}

// dialRetry connects, retrying while the receiver is not yet listening.
func dialRetry(ctx context.Context, nw *posix.Net, addr string) (net.Conn, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := nw.Dial(ctx, "tcp", addr)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sendBulk(c net.Conn, n int) (int64, error) {
	defer c.Close()
	buf := bytes.Repeat([]byte("capsim bulk data"), chunk/16)
	start := time.Now()
	for range n {
		if _, err := c.Write(buf); err != nil {
			return 0, fmt.Errorf("write: %w", err)
		}
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return 0, fmt.Errorf("half-close: %w", err)
	}
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		return 0, fmt.Errorf("the receiver's answer: %w", err)
	}
	return time.Since(start).Nanoseconds() / int64(n), nil
}

// connectLoop finishes the first connection (untimed), then times n ops
// spread over p goroutines.
func connectLoop(ctx context.Context, nw *posix.Net, first net.Conn, addr string, n, p int) (int64, error) {
	if err := oneByteAndClose(first); err != nil {
		return 0, err
	}
	var next atomic.Int64
	errs := make(chan error, p)
	start := time.Now()
	for range p {
		go func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				c, err := nw.Dial(ctx, "tcp", addr)
				if err == nil {
					err = oneByteAndClose(c)
				}
				if err != nil {
					errs <- fmt.Errorf("connect %d: %w", i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range p {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return time.Since(start).Nanoseconds() / int64(n), nil
}

func oneByteAndClose(c net.Conn) error {
	var b [1]byte
	_, err := io.ReadFull(c, b[:])
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// runBenchRecv is capsim:bench-recv MODE ADDR: it listens on ADDR; in bulk
// mode it reads the first connection to EOF, prints "bytes N" and answers
// one byte; otherwise it answers one byte on every connection and closes
// it, until stopped (with `parallel` accepting goroutines in mode
// connect-parallel).
func runBenchRecv(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(rt.Stderr(), "usage: bench-recv bulk|connect|connect-parallel ADDR")
		return 2
	}
	ln, err := posix.NewNet(rt).ListenTCP(ctx, args[1])
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-recv: %v\n", err)
		return 1
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	if args[0] == "bulk" {
		return recvBulk(ctx, rt, ln)
	}
	p := 1
	if args[0] == "connect-parallel" {
		p = parallel
	}
	codes := make(chan int, p)
	for range p {
		go func() { codes <- answerEach(ctx, rt, ln) }()
	}
	code := 0
	for range p {
		code = max(code, <-codes)
	}
	return code
}

// answerEach accepts connections and answers each with one byte.
func answerEach(ctx context.Context, rt *entities.Runtime, ln net.Listener) int {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return 0
			}
			fmt.Fprintf(rt.Stdout(), "bench-recv: %v\n", err)
			return 1
		}
		_, _ = c.Write([]byte{1})
		c.Close()
	}
}

// recvBulk reads the first connection to EOF and answers one byte.
func recvBulk(ctx context.Context, rt *entities.Runtime, ln net.Listener) int {
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-recv: %v\n", err)
		return 1
	}
	total, err := drain(c)
	fmt.Fprintf(rt.Stdout(), "bytes %d\n", total)
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-recv: %v\n", err)
		return 1
	}
	_, err = c.Write([]byte{1})
	c.Close()
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-recv: answer: %v\n", err)
		return 1
	}
	<-ctx.Done()
	return 0
}

// drain reads c to EOF in 1 MiB reads and returns the byte count.
func drain(c net.Conn) (int64, error) {
	buf := make([]byte, chunk)
	var total int64
	for {
		n, err := c.Read(buf)
		total += int64(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// runBench runs the scenario in dir and returns everything the entities
// printed, as the kernel prefixes it ("task | line").
func runBench(b *testing.B, dir string, opts run.Options) string {
	b.Helper()
	sc, err := scenario.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	out := &syncBuffer{}
	opts.Output, opts.Stderr = out, out
	start := time.Now()
	rep, err := run.Run(context.Background(), sc, opts)
	if err != nil {
		b.Fatalf("run: %v\n%s", err, out.String())
	}
	if !rep.OK() {
		b.Fatalf("failures:\n%s\noutput:\n%s", strings.Join(rep.Failures, "\n"), out.String())
	}
	if os.Getenv("CAPSIM_BENCH_LOG") != "" {
		fmt.Fprintf(os.Stderr, "--- %s: run of %s:\n%s", b.Name(), time.Since(start).Round(time.Millisecond), out.String())
	}
	return out.String()
}

// reportNs reports the "ns/op" line task printed, and MB/s for size bytes
// per op (none when size is 0).
func reportNs(b *testing.B, out, task string, size int) {
	b.Helper()
	ns, err := strconv.ParseFloat(field(out, task, "ns/op"), 64)
	if err != nil || ns <= 0 {
		b.Fatalf("no ns/op from %s: %v\n%s", task, err, out)
	}
	b.ReportMetric(ns, "ns/op")
	if size > 0 {
		b.ReportMetric(float64(size)/ns*1e3, "MB/s")
	} else {
		b.ReportMetric(1e9/ns, "ops/s")
	}
}

// field returns the value of the last "key value" line task printed.
func field(out, task, key string) string {
	val := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		who, line, ok := strings.Cut(sc.Text(), "| ")
		if !ok || strings.TrimSpace(who) != task {
			continue
		}
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			val = strings.TrimSpace(v)
		}
	}
	return val
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
