package kernel_test

// The kernel's path measured against its floor (docs/BENCHMARKS.md):
//
//	BenchmarkRawRoundTrip    64 bytes between two processes over a socket pair
//	BenchmarkRelayRoundTrip  the same through a bare relay process polling both sockets
//	BenchmarkCallRoundTrip   a 64-byte demo.Echo call, client entity -> kernel -> server entity
//
// Each round trip is timed where it starts: by this process for the raw and
// relay figures, by the client entity for the call (the kernel runs in this
// process, so the client is a process of its own as in the relay).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"capsim/entities"
	"capsim/kernel"
)

// benchMain runs the helper processes of the raw and relay benchmarks.
func benchMain() {
	switch os.Args[0] {
	case "bench:echo":
		buf := make([]byte, 1<<17)
		for {
			n, err := unix.Read(3, buf)
			if err != nil || n == 0 {
				os.Exit(0)
			}
			if _, err := unix.Write(3, buf[:n]); err != nil {
				os.Exit(0)
			}
		}
	case "bench:relay":
		relay(3, 4)
	}
}

// relay is the bare relay: one loop polling both sockets and copying each
// message to the other side, nothing else.
func relay(a, b int) {
	buf := make([]byte, 1<<17)
	fds := []unix.PollFd{{Fd: int32(a), Events: unix.POLLIN}, {Fd: int32(b), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			os.Exit(1)
		}
		for i, p := range fds {
			if p.Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
				os.Exit(0)
			}
			if p.Revents&unix.POLLIN == 0 {
				continue
			}
			n, err := unix.Read(int(p.Fd), buf)
			if err != nil || n == 0 {
				os.Exit(0)
			}
			if _, err := unix.Write(int(fds[1-i].Fd), buf[:n]); err != nil {
				os.Exit(0)
			}
		}
	}
}

func seqpacketPair(b *testing.B) (*os.File, *os.File) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, fd := range fds {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 1<<20)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20)
	}
	return os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
}

func helper(b *testing.B, argv0 string, files ...*os.File) *exec.Cmd {
	cmd := &exec.Cmd{Path: self(b), Args: []string{argv0}, ExtraFiles: files}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func pingPong(b *testing.B, f *os.File, size int) {
	msg := make([]byte, size)
	buf := make([]byte, size+1)
	fd := int(f.Fd())
	b.SetBytes(int64(2 * size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := unix.Write(fd, msg); err != nil {
			b.Fatal(err)
		}
		if n, err := unix.Read(fd, buf); err != nil || n != size {
			b.Fatalf("read %d, %v", n, err)
		}
	}
}

func benchSizes(b *testing.B, run func(b *testing.B, size int)) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) { run(b, size) })
	}
}

func BenchmarkRawRoundTrip(b *testing.B) {
	benchSizes(b, func(b *testing.B, size int) {
		mine, theirs := seqpacketPair(b)
		defer mine.Close()
		helper(b, "bench:echo", theirs)
		theirs.Close()
		pingPong(b, mine, size)
	})
}

func BenchmarkRelayRoundTrip(b *testing.B) {
	benchSizes(b, func(b *testing.B, size int) {
		mine, relayA := seqpacketPair(b)
		relayB, echoEnd := seqpacketPair(b)
		defer mine.Close()
		helper(b, "bench:echo", echoEnd)
		helper(b, "bench:relay", relayA, relayB)
		relayA.Close()
		relayB.Close()
		echoEnd.Close()
		pingPong(b, mine, size)
	})
}

func BenchmarkCallRoundTrip(b *testing.B) {
	benchSizes(b, func(b *testing.B, size int) {
		method := "Ping"
		if size > 64 {
			method = "Echo"
		}
		srv := entity(b, "server", "demo.EchoServer", "echo-server")
		cli := entity(b, "client", "demo.EchoClient", "bench-client", method, strconv.Itoa(size), strconv.Itoa(b.N))
		cli.Main = true
		cli.Connections = []kernel.Connection{{Target: "server", ID: "echo"}}
		var out syncBuffer
		k, err := kernel.New(kernel.Config{Entities: []kernel.EntitySpec{srv, cli}, Classes: classes(), Output: &out})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b.SetBytes(int64(2 * size))
		b.ResetTimer()
		_ = k.Start(ctx)
		if _, err := k.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		k.Stop()
		var ns float64
		if _, err := fmt.Sscanf(lastLine(k.Output("client")), "ns/op %g", &ns); err != nil {
			b.Fatalf("client output %q: %v", k.Output("client"), err)
		}
		b.ReportMetric(ns, "ns/op")
		if size > 0 {
			b.ReportMetric(float64(2*size)/ns*1e3, "MB/s")
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// runBenchClient makes N calls of a method and prints the mean time of one.
func runBenchClient(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) != 3 {
		return exitf(2, "usage: bench-client Ping|Echo SIZE N")
	}
	size, _ := strconv.Atoi(args[1])
	n, _ := strconv.Atoi(args[2])
	h, riid, err := rt.Lookup(ctx, "echo", "demo.Echo")
	if err != nil {
		return exitf(1, "%v", err)
	}
	c := benchEchoClient(rt, h, riid)
	data := make([]byte, size)
	start := time.Now()
	for i := 0; i < n; i++ {
		if args[0] == "Ping" {
			_, err = c.Ping(ctx, uint32(i))
		} else {
			_, err = c.Echo(ctx, data)
		}
		if err != nil {
			return exitf(1, "call %d: %v", i, err)
		}
	}
	return exitf(0, "ns/op %g", float64(time.Since(start).Nanoseconds())/float64(n))
}
