package policy

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"capsim/idl"
)

// memClasses is a ClassSource over classes built in memory.
type memClasses map[string]*idl.Class

func (m memClasses) Class(name string) (*idl.Class, error) {
	if c, ok := m[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("no class %s", name)
}

// benchPolicy generates a policy of n request bindings over n/10 server
// classes (endpoint svc, interface bench.Svc of ten methods taking
// UInt32 a and b), each binding with two field predicates, and returns it
// with an event that matches exactly one binding.
func benchPolicy(b *testing.B, n int) (*Policy, *Event) {
	u32 := &idl.Type{Kind: idl.UInt32}
	iface := &idl.Interface{Name: "bench.Svc"}
	for i := range 10 {
		in := &idl.Type{Kind: idl.Struct, Fields: []*idl.Field{{Name: "a", Type: u32}, {Name: "b", Type: u32}}}
		empty := &idl.Type{Kind: idl.Struct}
		iface.Methods = append(iface.Methods, &idl.Method{Name: fmt.Sprintf("M%d", i), ID: i, In: in, Out: empty, Err: empty, Interface: iface})
	}
	classes := memClasses{"bench.Client": {Name: "bench.Client"}}
	var src strings.Builder
	src.WriteString("use nk.base._\nuse EDL bench.Client\n")
	servers := max(n/10, 1)
	for s := range servers {
		name := fmt.Sprintf("bench.Server%d", s)
		classes[name] = &idl.Class{Name: name, Endpoints: []*idl.Endpoint{{Name: "svc", Interface: iface}}}
		fmt.Fprintf(&src, "use EDL %s\n", name)
	}
	for i := range n {
		fmt.Fprintf(&src, "request src=bench.Client dst=bench.Server%d endpoint=svc method=M%d { assert (message.a > %d && message.b < 100) }\n",
			i/10, i%10, i%7)
	}
	p, err := CompileSource("bench.psl", src.String(), Options{Classes: classes})
	if err != nil {
		b.Fatal(err)
	}
	target := classes[fmt.Sprintf("bench.Server%d", servers/2)]
	m := iface.Methods[3]
	ev := &Event{Kind: Request, Src: Subject{Class: "bench.Client", SID: 1}, Dst: Subject{Class: target.Name, SID: 2},
		Endpoint: "svc", Interface: iface.Name, Method: m,
		Message: &idl.StructValue{Type: m.In, Fields: []any{uint64(50), uint64(7)}}}
	return p, ev
}

func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			p, ev := benchPolicy(b, n)
			if d := p.Decide(ev); !d.Grant || len(d.Rules) != 1 {
				b.Fatalf("decision %+v", d)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				p.Decide(ev)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkDecideParallel measures the same decision from all cores.
func BenchmarkDecideParallel(b *testing.B) {
	p, ev := benchPolicy(b, 1000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Decide(ev)
		}
	})
}

// BenchmarkCompile measures compiling a policy of 1000 bindings.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		benchPolicy(b, 1000)
	}
}

// cpuTime is the process's user and system CPU time. On a loaded machine
// it measures the work of a benchmark better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
