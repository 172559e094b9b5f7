package echo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	echoapi "capsim/api/demo/echo"
	"capsim/entities"
	"capsim/ipc"
)

// Programs returns the echo server and client.
func Programs() []*entities.Program {
	return []*entities.Program{
		{Name: "echo-server", Class: "demo.EchoServer", Summary: "serves demo.Echo: Ping and Pong answer value+1, Echo returns its data",
			Usage: "capsim:echo-server (no flags; prints nothing)", Run: runServer},
		{Name: "echo-client", Class: "demo.EchoClient", Summary: "calls demo.Echo in a loop and prints the median round trip",
			Usage: clientUsage, Run: runClient},
	}
}

const clientUsage = `capsim:echo-client [--channel ID] [--count N] [--method Ping|Pong|Echo|Alternate] [--sequence M,M,...] [--size BYTES] [--expect-denied]
  prints "round trips: N, median: X µs", or the denial
  --channel ID       the channel to the server (default echo)
  --count N          calls to make (default 10)
  --method M         Ping, Pong, Echo (with --size bytes of data) or Alternate (Ping, Pong, Ping, ...)
  --sequence LIST    call these methods in this order instead (Ping,Pong,Ping,Ping); overrides --count and --method
  --size BYTES       data size for Echo (default 64)
  --expect-denied    a denied call is success (exit 0), anything else failure`

// Server implements demo.Echo.
type Server struct{}

var _ echoapi.Server = Server{}

func (Server) Ping(ctx context.Context, value uint32) (uint32, error) { return value + 1, nil }
func (Server) Pong(ctx context.Context, value uint32) (uint32, error) { return value + 1, nil }
func (Server) Echo(ctx context.Context, data []byte) ([]byte, error)  { return data, nil }

func runServer(ctx context.Context, rt *entities.Runtime, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(rt.Stderr(), "echo-server takes no arguments, got %q\n", args)
		return 2
	}
	if err := rt.Handle("demo.Echo", entities.Inline(echoapi.NewDispatcher(Server{}))); err != nil {
		fmt.Fprintln(rt.Stderr(), err)
		return 1
	}
	if err := rt.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 1
	}
	return 0
}

type clientFlags struct {
	channel      string
	count        int
	method       string
	size         int
	sequence     []string
	expectDenied bool
}

func parseClient(args []string, stderr io.Writer) (*clientFlags, error) {
	fs := flag.NewFlagSet("echo-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f clientFlags
	fs.StringVar(&f.channel, "channel", "echo", "the channel to the server")
	fs.IntVar(&f.count, "count", 10, "calls to make")
	fs.StringVar(&f.method, "method", "Ping", "Ping, Pong, Echo or Alternate")
	fs.IntVar(&f.size, "size", 64, "data size for Echo")
	fs.BoolVar(&f.expectDenied, "expect-denied", false, "a denied call is success")
	seq := fs.String("sequence", "", "methods to call in order, comma-separated")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *seq != "" {
		f.sequence = strings.Split(*seq, ",")
		f.count = len(f.sequence)
		for _, m := range f.sequence {
			if m != "Ping" && m != "Pong" && m != "Echo" {
				return nil, fmt.Errorf("--sequence: unknown method %q: want Ping, Pong or Echo", m)
			}
		}
	}
	switch f.method {
	case "Ping", "Pong", "Echo", "Alternate":
	default:
		return nil, fmt.Errorf("--method %q: want Ping, Pong, Echo or Alternate", f.method)
	}
	return &f, nil
}

func runClient(ctx context.Context, rt *entities.Runtime, args []string) int {
	out := rt.Stdout()
	f, err := parseClient(args, rt.Stderr())
	if err != nil {
		fmt.Fprintln(rt.Stderr(), err)
		return 2
	}
	err = callLoop(ctx, rt, f, out)
	switch {
	case err == nil && f.expectDenied:
		fmt.Fprintln(out, "expected a denial, but every call was granted")
		return 1
	case err == nil:
		return 0
	case f.expectDenied && errors.Is(err, ipc.ErrDenied):
		fmt.Fprintf(out, "denied as expected: %v\n", err)
		return 0
	}
	fmt.Fprintf(out, "error: %v\n", err)
	return 1
}

func callLoop(ctx context.Context, rt *entities.Runtime, f *clientFlags, out io.Writer) error {
	h, riid, err := rt.Lookup(ctx, f.channel, "demo.Echo")
	if err != nil {
		return err
	}
	c := &echoapi.Client{Caller: rt, Handle: h, Endpoint: riid}
	data := make([]byte, f.size)
	times := make([]time.Duration, 0, f.count)
	for i := 0; i < f.count; i++ {
		start := time.Now()
		var err error
		method := f.method
		if f.sequence != nil {
			method = f.sequence[i]
		} else if method == "Alternate" {
			method = [2]string{"Ping", "Pong"}[i%2]
		}
		switch method {
		case "Echo":
			var got []byte
			got, err = c.Echo(ctx, data)
			if err == nil && len(got) != len(data) {
				err = fmt.Errorf("Echo returned %d bytes, sent %d", len(got), len(data))
			}
		case "Pong":
			_, err = c.Pong(ctx, uint32(i))
		default:
			var r uint32
			r, err = c.Ping(ctx, uint32(i))
			if err == nil && r != uint32(i)+1 {
				err = fmt.Errorf("Ping(%d) = %d, want %d", i, r, i+1)
			}
		}
		if err != nil {
			return fmt.Errorf("call %d (%s): %w", i+1, method, err)
		}
		times = append(times, time.Since(start))
	}
	fmt.Fprintf(out, "round trips: %d, median: %.1f µs\n", len(times), median(times).Seconds()*1e6)
	return nil
}

func median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}
