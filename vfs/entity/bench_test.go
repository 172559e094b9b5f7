package entity_test

// BenchmarkReadFile16MiB reads one 16 MiB file whole, end to end:
//
//	vfs  an entity (capsim:bench-read) runs fs.ReadFile over
//	     posix.NewFiles(rt).FS(): Open, FStat, 17 PReads of up to 1 MiB,
//	     Close, each an IPC call through the kernel (policy decided, traced)
//	     to a kl.VfsRamFs entity serving a romfs mount of the scenario
//	     folder, which reads the host file with pread(2).
//	os   os.ReadFile of the same file in this process: the floor.
//
// The entity times its own loop (the first read, which also looks the
// channel up, is left out) and prints "ns/op N"; the benchmark reports that
// figure, so the scenario's start-up is not in it. See docs/BENCHMARKS.md.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"capsim/entities"
	"capsim/entities/posix"
	"capsim/run"
	"capsim/scenario"
)

const fileSize = 16 << 20

const readScenario = `name    = "bench-vfs-read"
policy  = "policy.psl"
timeout = "3m"

[[entity]]
task   = "files"
class  = "kl.VfsRamFs"
mounts = [ { path = "/www", fs = "romfs", source = "www" } ]

[[entity]]
task    = "reader"
class   = "demo.HttpServer"
program = "capsim:bench-read"
args    = ["/www/blob.bin", "%d"]
env     = { VFS_FILESYSTEM_BACKEND = "client:files" }
connections = [ { target = "files", id = "files" } ]
main    = true

[[expect]]
task = "reader"
exit = 0
`

func BenchmarkReadFile16MiB(b *testing.B) {
	dir := b.TempDir()
	data := blob(fileSize)
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "www", "blob.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		b.Fatal(err)
	}
	// The policy of the shipped http-files scenario: the reader may open
	// read-only, PRead, FStat and Close on its file backend.
	copyFile(b, "../../scenarios/http-files/policy.psl", filepath.Join(dir, "policy.psl"))
	sum := sha256.Sum256(data)

	b.Run("vfs", func(b *testing.B) {
		writeFile(b, filepath.Join(dir, "scenario.toml"), fmt.Sprintf(readScenario, b.N))
		b.SetBytes(fileSize)
		out := runBench(b, dir)
		if got := field(out, "reader", "sha256"); got != hex.EncodeToString(sum[:]) {
			b.Fatalf("the entity read sha256 %q, want %x\n%s", got, sum, out)
		}
		reportNs(b, out, "reader", fileSize)
	})
	b.Run("os", func(b *testing.B) {
		b.SetBytes(fileSize)
		for b.Loop() {
			got, err := os.ReadFile(file)
			if err != nil || len(got) != fileSize {
				b.Fatalf("os.ReadFile: %d bytes, %v", len(got), err)
			}
		}
	})
}

// runBenchRead is capsim:bench-read PATH N: it reads PATH once (looking the
// backend up, and printing its SHA-256), then N times timed.
func runBenchRead(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(rt.Stderr(), "usage: bench-read PATH N")
		return 2
	}
	name := strings.TrimPrefix(args[0], "/")
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		fmt.Fprintf(rt.Stderr(), "bench-read: bad N %q\n", args[1])
		return 2
	}
	fsys := posix.NewFiles(rt).FS()
	first, err := fs.ReadFile(fsys, name)
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "bench-read: %v\n", err)
		return 1
	}
	sum := sha256.Sum256(first)
	fmt.Fprintf(rt.Stdout(), "sha256 %x\n", sum)
	start := time.Now()
	for range n {
		data, err := fs.ReadFile(fsys, name)
		if err != nil || len(data) != len(first) {
			fmt.Fprintf(rt.Stdout(), "bench-read: %d bytes, %v\n", len(data), err)
			return 1
		}
	}
	fmt.Fprintf(rt.Stdout(), "ns/op %d\n", time.Since(start).Nanoseconds()/int64(n))
	return 0
}

// runBench runs the scenario in dir and returns everything the entities
// printed, as the kernel prefixes it ("task | line").
func runBench(b *testing.B, dir string) string {
	b.Helper()
	sc, err := scenario.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	out := &syncBuffer{}
	rep, err := run.Run(context.Background(), sc, run.Options{Registry: registry(), Output: out, Stderr: out})
	if err != nil {
		b.Fatalf("run: %v\n%s", err, out.String())
	}
	if !rep.OK() {
		b.Fatalf("failures:\n%s\noutput:\n%s", strings.Join(rep.Failures, "\n"), out.String())
	}
	return out.String()
}

// reportNs reports the "ns/op" line task printed, and MB/s for size bytes
// per op.
func reportNs(b *testing.B, out, task string, size int) {
	b.Helper()
	ns, err := strconv.ParseFloat(field(out, task, "ns/op"), 64)
	if err != nil || ns <= 0 {
		b.Fatalf("no ns/op from %s: %v\n%s", task, err, out)
	}
	b.ReportMetric(ns, "ns/op")
	b.ReportMetric(float64(size)/ns*1e3, "MB/s")
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

// blob returns n pseudo-random bytes, the same every run.
func blob(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	return data
}

func writeFile(b *testing.B, path, text string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	writeFile(b, to, string(data))
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
