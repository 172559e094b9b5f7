package kernel_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"capsim/kernel"
	"capsim/policy"
)

// system is a kernel under test with the records it traced.
type system struct {
	k   *kernel.Kernel
	mu  sync.Mutex
	rec []kernel.Record
	out syncBuffer
	// onRecord, when set, sees each record (under the tracer's lock).
	onRecord func(r *kernel.Record)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func entity(t testing.TB, task, class, program string, args ...string) kernel.EntitySpec {
	return kernel.EntitySpec{Task: task, Class: class, Path: self(t), Argv0: "capsim:" + program, Args: args}
}

func startSystem(t *testing.T, cfg kernel.Config, onRecord func(*kernel.Record)) *system {
	t.Helper()
	s := &system{onRecord: onRecord}
	cfg.Classes = classes()
	cfg.Output = &s.out
	cfg.Tracer = kernel.NewTracer(kernel.SinkFunc(func(r *kernel.Record) {
		s.mu.Lock()
		s.rec = append(s.rec, *r)
		s.mu.Unlock()
		if s.onRecord != nil {
			s.onRecord(r)
		}
	}))
	k, err := kernel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.k = k
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	return s
}

func (s *system) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if running, err := s.k.Wait(ctx); err != nil {
		t.Fatalf("still running after 30s: %v\noutput:\n%s", running, s.out.String())
	}
}

func (s *system) records(match func(r *kernel.Record) bool) []kernel.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []kernel.Record
	for _, r := range s.rec {
		if match(&r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *system) expectExit(t *testing.T, task string, code int) {
	t.Helper()
	st, ok := s.k.Exit(task)
	if !ok {
		t.Fatalf("%s: still running", task)
	}
	if st.Code != code {
		t.Fatalf("%s: exit %+v, want code %d\noutput:\n%s", task, st, code, s.out.String())
	}
}

func echoPair(t *testing.T, server, client string, clientArgs ...string) kernel.Config {
	srv := entity(t, "server", "demo.EchoServer", server)
	cli := entity(t, "client", "demo.EchoClient", client, clientArgs...)
	cli.Main = true
	cli.Connections = []kernel.Connection{{Target: "server", ID: "echo"}}
	return kernel.Config{Entities: []kernel.EntitySpec{srv, cli}}
}

func TestEchoEveryEntityIsAProcess(t *testing.T) {
	s := startSystem(t, echoPair(t, "echo-server", "echo-client", "--count", "50"), nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	if out := s.k.Output("client"); !strings.Contains(out, "round trips: 50") {
		t.Errorf("client output = %q", out)
	}
	pids := map[int]string{}
	for _, r := range s.records(func(r *kernel.Record) bool { return r.Kind == "execute" }) {
		if r.PID == 0 || pids[r.PID] != "" {
			t.Errorf("execute %s: pid %d not a separate process (%v)", r.Dst, r.PID, pids)
		}
		pids[r.PID] = r.Dst
	}
	if len(pids) != 2 {
		t.Errorf("execute records for %d processes, want 2", len(pids))
	}
	granted := s.records(func(r *kernel.Record) bool {
		return r.Kind == "response" && r.Src == "server" && r.Method == "Ping" && r.Decision == "grant"
	})
	if len(granted) != 50 {
		t.Errorf("%d granted Ping responses, want 50", len(granted))
	}
	if denies := s.records(func(r *kernel.Record) bool { return r.Decision == "deny" }); len(denies) != 0 {
		t.Errorf("unexpected denies: %+v", denies)
	}
}

func TestAllowListDeniesAChannelNotGiven(t *testing.T) {
	s := startSystem(t, echoPair(t, "echo-server", "echo-client", "--channel", "admin", "--expect-denied"), nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	denied := s.records(func(r *kernel.Record) bool {
		return r.Kind == "request" && r.Dst == "kernel" && r.Method == "Connect" && r.Decision == "deny"
	})
	if len(denied) != 1 || denied[0].Reason != "no rule" {
		t.Fatalf("denied Connect records: %+v", denied)
	}
	if got := s.records(func(r *kernel.Record) bool { return r.Kind == "request" && r.Dst == "server" }); len(got) != 0 {
		t.Errorf("the server saw requests: %+v", got)
	}
}

func TestKilledServerPeerGoneAndRestart(t *testing.T) {
	cfg := echoPair(t, "test-hold-server", "test-restart-client")
	cfg.Entities[0].Restart, cfg.Entities[0].RestartLimit = true, 2
	held := make(chan struct{}, 1)
	s := startSystem(t, cfg, func(r *kernel.Record) {
		if r.Kind == "request" && r.Dst == "server" && r.Method == "Ping" && r.Decision == "grant" {
			select {
			case held <- struct{}{}:
			default:
			}
		}
	})
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatalf("the held call never reached the server\n%s", s.out.String())
	}
	firstPID := s.k.PID("server")
	if err := s.k.Kill("server"); err != nil {
		t.Fatal(err)
	}
	s.wait(t)
	s.expectExit(t, "client", 0)
	out := s.k.Output("client")
	if !strings.Contains(out, "held call: peer gone") || !strings.Contains(out, "server back") {
		t.Errorf("client output = %q", out)
	}
	gone := s.records(func(r *kernel.Record) bool { return r.Reason == "peer gone" && r.Dst == "client" })
	if len(gone) != 1 {
		t.Errorf("peer-gone records: %+v", gone)
	}
	execs := s.records(func(r *kernel.Record) bool { return r.Kind == "execute" && r.Dst == "server" })
	if len(execs) != 2 || execs[1].PID == firstPID {
		t.Errorf("server executes: %+v (first pid %d)", execs, firstPID)
	}
}

func TestMalformedFramesAndForgedHandles(t *testing.T) {
	cfg := echoPair(t, "echo-server", "test-raw")
	cfg.Entities[1].Limits.Message = 64
	s := startSystem(t, cfg, nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	for _, reason := range []string{"bad handle", "invalid message: ", "limit: message"} {
		got := s.records(func(r *kernel.Record) bool {
			return r.Src == "client" && r.Decision == "deny" && strings.HasPrefix(r.Reason, reason)
		})
		if len(got) == 0 {
			t.Errorf("no deny with reason %q traced", reason)
		}
	}
	forged := s.records(func(r *kernel.Record) bool {
		return r.Kind == "response" && r.Src == "client" && strings.Contains(r.Reason, "reply to no call")
	})
	if len(forged) != 1 {
		t.Errorf("forged reply records: %+v", forged)
	}
}

func TestIsolatedEntityCannotReachHostLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, tc := range []struct {
		mode kernel.IsolateMode
		code int
	}{{kernel.IsolateOn, 0}, {kernel.IsolateOff, 3}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			probe := entity(t, "probe", "demo.EchoClient", "test-net-probe", ln.Addr().String())
			probe.Main = true
			s := startSystem(t, kernel.Config{Entities: []kernel.EntitySpec{probe}, Isolate: tc.mode}, nil)
			s.wait(t)
			s.expectExit(t, "probe", tc.code)
		})
	}
}

// An entity holds 0-3 and nothing else, even unconfined, even when the
// kernel itself inherited more (this test opens a descriptor without
// close-on-exec first).
func TestEntityInheritsNoStrayDescriptors(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// ls, not a Go program: the Go runtime opens descriptors of its own.
	probe := kernel.EntitySpec{Task: "probe", Class: "demo.EchoClient", Path: "/bin/ls", Argv0: "ls", Args: []string{"/proc/self/fd"}, Main: true}
	s := startSystem(t, kernel.Config{Entities: []kernel.EntitySpec{probe}, Isolate: kernel.IsolateOff}, nil)
	s.wait(t)
	s.expectExit(t, "probe", 0)
	// 0-3, and the descriptor ls opened to list the folder.
	if got := strings.Fields(s.k.Output("probe")); strings.Join(got, " ") != "0 1 2 3 4" {
		t.Errorf("the entity holds descriptors %v, want 0 1 2 3 (and ls's own 4)", got)
	}
}

// When a caller ends, the servers it called hear of it (a gone notice for
// its badge), so they can drop what they kept for it.
func TestServersHearOfAnEndedCaller(t *testing.T) {
	s := startSystem(t, echoPair(t, "test-gone-server", "echo-client", "--count", "3"), nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.k.Output("server"), "gone: client (badge 1, channel echo)") {
		if time.Now().After(deadline) {
			t.Fatalf("the server heard nothing of the client's end; its output:\n%s", s.k.Output("server"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// panickingPolicy grants everything but Ping requests, on which it panics:
// a security module with a bug.
type panickingPolicy struct{}

func (panickingPolicy) Decide(ev *policy.Event) policy.Decision {
	if ev.Kind == policy.Request && ev.Method != nil && ev.Method.Name == "Ping" {
		panic("index out of range")
	}
	return policy.Decision{Grant: true}
}

func TestPanickingPolicyDeniesAndKernelGoesOn(t *testing.T) {
	cfg := echoPair(t, "echo-server", "echo-client", "--count", "3", "--expect-denied")
	cfg.Policy = panickingPolicy{}
	s := startSystem(t, cfg, nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	denied := s.records(func(r *kernel.Record) bool {
		return r.Kind == "request" && r.Method == "Ping" && r.Decision == "deny"
	})
	if len(denied) == 0 || !strings.HasPrefix(denied[0].Reason, "policy error: index out of range") {
		t.Fatalf("denied Ping records: %+v", denied)
	}
	if out := s.out.String(); strings.Count(out, "capsim bug: the security module failed") != 1 {
		t.Errorf("kernel output should say once that the policy failed:\n%s", out)
	}
}

func TestHandleLimit(t *testing.T) {
	cfg := echoPair(t, "echo-server", "test-handle-limit")
	cfg.Entities[1].Limits.Handles = 16
	s := startSystem(t, cfg, nil)
	s.wait(t)
	s.expectExit(t, "client", 0)
	out := s.k.Output("client")
	if want := fmt.Sprintf("refused at 16 handles: errno %d", syscall.EMFILE); !strings.Contains(out, want) {
		t.Errorf("client output %q does not say %q", out, want)
	}
	refused := s.records(func(r *kernel.Record) bool {
		return r.Kind == "error" && r.Dst == "client" && r.Method == "Dup" && r.Reason == "limit: handles"
	})
	if len(refused) != 1 || refused[0].Errno != "EMFILE" {
		t.Errorf("refused Dup records: %+v", refused)
	}
}
