package scenario

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func mustLoad(t *testing.T, path string) *Scenario {
	t.Helper()
	s, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return s
}

func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		dir      string
		entities int
		main     []string
	}{
		{"testdata/valid/echo-denied", 2, []string{"client"}},
		{"testdata/valid/tls-terminator", 9, []string{"client"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			s := mustLoad(t, tt.dir)
			if s.Name != filepath.Base(tt.dir) {
				t.Errorf("Name = %q", s.Name)
			}
			if len(s.Entities) != tt.entities {
				t.Errorf("%d entities, want %d", len(s.Entities), tt.entities)
			}
			if got := s.MainTasks(); !slices.Equal(got, tt.main) {
				t.Errorf("MainTasks() = %v, want %v", got, tt.main)
			}
			if s.File != filepath.Join(tt.dir, FileName) || s.Dir != tt.dir {
				t.Errorf("File, Dir = %q, %q", s.File, s.Dir)
			}
			if s.Timeout != DefaultTimeout || s.Seed != DefaultSeed {
				t.Errorf("defaults: timeout %v, seed %d", s.Timeout, s.Seed)
			}
		})
	}
}

func TestEchoDeniedTrace(t *testing.T) {
	s := mustLoad(t, "testdata/valid/echo-denied")
	e := s.Expects[0]
	if e.Kind != ExpectTrace || e.Min != 1 || e.Max != nil {
		t.Fatalf("expect = kind %v min %d max %v", e.Kind, e.Min, e.Max)
	}
	want := []Field{{"kind", "request"}, {"src", "client"}, {"dst", "kernel"}, {"method", "Connect"}, {"decision", "deny"}}
	if got := e.Trace.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	if p := e.KeyPos("trace"); p.Line != 16 || p.File != "testdata/valid/echo-denied/scenario.toml" {
		t.Errorf("KeyPos(trace) = %v", p)
	}
	if p := s.Entities[1].Pos; p.Line != 9 {
		t.Errorf("client Pos = %v, want line 9", p)
	}
	if p := s.Entities[1].Connections[0].KeyPos("target"); p.Line != 13 {
		t.Errorf("connection target at %v, want line 13", p)
	}
	if s.Entities[0].Main == nil || *s.Entities[0].Main || s.Entities[1].Main != nil {
		t.Errorf("main tri-state wrong: %v %v", s.Entities[0].Main, s.Entities[1].Main)
	}
}

func TestFullScenario(t *testing.T) {
	s := mustLoad(t, "testdata/valid/full/scenario.toml")
	if s.Name != "full" || s.Timeout != 30*time.Second || s.Seed != 7 || !slices.Equal(s.IDLPath, []string{"idl", "more"}) {
		t.Errorf("top level: %q %v %d %v", s.Name, s.Timeout, s.Seed, s.IDLPath)
	}
	if got := s.Path(s.Policy); got != filepath.Join("testdata/valid/full", "policy.psl") {
		t.Errorf("Path(policy) = %q", got)
	}
	c := s.Certs
	if len(c) != 5 || c[1].NotAfter != -time.Hour || !c[1].Has("not_after") || c[2].NotBefore != time.Hour ||
		c[3].Issuer != "other" || !c[4].Revoked || c[0].Has("not_after") {
		t.Errorf("certs = %+v", c)
	}
	dev := s.Host("device")
	if dev == nil || len(dev.Addresses) != 2 || dev.Addresses[1] != netip.MustParsePrefix("fd00::1/64") ||
		dev.Routes[0].Via != netip.MustParseAddr("10.0.0.254") || dev.Routes[0].To.Bits() != 0 {
		t.Errorf("host device = %+v", dev)
	}
	cl := s.Entity("client")
	wantLimits := [5]any{8, Size(512 << 10), Size(64000), Size(256 << 20), Ratio(0.5)}
	gotLimits := [5]any{cl.Limits.Inflight, cl.Limits.Queued, cl.Limits.Message, cl.Limits.Memory, cl.Limits.CPU}
	if gotLimits != wantLimits {
		t.Errorf("limits = %v, want %v", gotLimits, wantLimits)
	}
	if cl.Restart != RestartOnFailure || cl.RestartLimit != 5 || cl.Program != "capsim:http-client" || cl.Env["KEY"] == "" {
		t.Errorf("client = %+v", cl)
	}
	files := s.Entity("files")
	if files.Limits.Inflight != DefaultInflight || files.Limits.Queued != DefaultQueued || files.Limits.Message != DefaultMessage {
		t.Errorf("default limits = %+v", files.Limits)
	}
	modes := []string{files.Mounts[0].Mode, files.Mounts[1].Mode, files.Mounts[2].Mode}
	if !slices.Equal(modes, []string{"rw", "ro", "rw"}) || files.Mounts[0].Size != 64<<20 || files.Mounts[2].Source != "/tmp/x" {
		t.Errorf("mounts = %+v", files.Mounts)
	}
	if got := s.MainTasks(); !slices.Equal(got, []string{"client"}) {
		t.Errorf("MainTasks() = %v", got)
	}
	if ns := s.Netstack("cloud"); ns == nil || ns.Task != "cloud-net" {
		t.Errorf("Netstack(cloud) = %v", ns)
	}
	l := s.Links[0]
	if l.MTU != 9000 || l.Loss != 0.05 || l.Delay != 50*time.Millisecond || l.Jitter != 5*time.Millisecond ||
		l.Reorder != 0.015 || l.Duplicate != 0.001 || l.Rate != 10_000_000 ||
		!reflect.DeepEqual([]string{l.Schedule[0].Do, l.Schedule[1].Do}, []string{"partition", "heal"}) ||
		l.Schedule[1].At != 4*time.Second {
		t.Errorf("link = %+v", l)
	}
	f, eg := s.Forwards[0], s.Egress[0]
	if f.Listen != netip.MustParseAddrPort("127.0.0.1:8443") || f.To != (HostPort{"cloud", 443}) ||
		eg.To != netip.MustParseAddrPort("[::1]:4433") || eg.Address.Port() != 4433 {
		t.Errorf("forward %+v egress %+v", f, eg)
	}
	checkFullExpects(t, s)
	p := s.Properties
	if p[0].OnlyThrough.Via[0] != "files" || p[1].NoPath.To != "files" || p[2].Calls.Allow[1] != "fs.Open" ||
		len(p[3].TCB.Expect) != 2 {
		t.Errorf("properties = %+v", p)
	}
}

func checkFullExpects(t *testing.T, s *Scenario) {
	kinds := []ExpectKind{ExpectTask, ExpectTask, ExpectTrace, ExpectAudit, ExpectLink, ExpectKernelRSS, ExpectProperty}
	for i, e := range s.Expects {
		if e.Kind != kinds[i] {
			t.Errorf("expect %d: kind %v, want %v", i, e.Kind, kinds[i])
		}
	}
	ex := s.Expects
	if *ex[0].Exit != 0 || *ex[1].Output != "sha256 ok" {
		t.Errorf("task expects: %+v %+v", ex[0], ex[1])
	}
	if ex[2].Min != 2 || *ex[2].Max != 5 || ex[3].Min != 0 || *ex[3].Max != 0 {
		t.Errorf("counts: %d..%v, %d..%v", ex[2].Min, *ex[2].Max, ex[3].Min, *ex[3].Max)
	}
	contains, absent := ex[4].Patterns()
	if !reflect.DeepEqual(contains, [][]byte{{0x16, 0x03}, {0x16, 0x03, 0x01}}) ||
		!reflect.DeepEqual(absent, [][]byte{[]byte("GET /"), []byte("GET")}) {
		t.Errorf("patterns = %q, %q", contains, absent)
	}
	if ex[5].KernelMaxRSS != 256<<20 || ex[6].Holds || ex[6].Property != "only through" {
		t.Errorf("rss/property: %+v %+v", ex[5], ex[6])
	}
}

func TestMatch(t *testing.T) {
	kind, reason := "request", "denied by"
	bytes := int64(64)
	m := &Match{Kind: &kind, Reason: &reason, Bytes: &bytes}
	rec := map[string]string{"kind": "request", "reason": "denied by policy.psl:3:1", "bytes": "64", "src": "a"}
	get := func(name string) (string, bool) { v, ok := rec[name]; return v, ok }
	if !m.Matches(get) {
		t.Error("record should match (reason by prefix)")
	}
	rec["bytes"] = "65"
	if m.Matches(get) {
		t.Error("record with other bytes matched")
	}
	rec["bytes"] = "64"
	delete(rec, "reason")
	if m.Matches(get) {
		t.Error("record without reason matched")
	}
}

func TestMainTasks(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		main []*bool
		want []string
	}{
		{[]*bool{nil, nil}, []string{"t0", "t1"}},
		{[]*bool{nil, &no}, []string{"t0"}},
		{[]*bool{nil, &yes, &no}, []string{"t1"}},
		{[]*bool{&no, &no}, nil},
	}
	for _, tt := range tests {
		s := &Scenario{}
		for i, m := range tt.main {
			s.Entities = append(s.Entities, Entity{Task: "t" + string(rune('0'+i)), Main: m})
		}
		if got := s.MainTasks(); !slices.Equal(got, tt.want) {
			t.Errorf("MainTasks(%v) = %v, want %v", tt.main, got, tt.want)
		}
	}
}

func TestNameDefault(t *testing.T) {
	s, err := Parse("x/other.toml", "x", []byte(""))
	if err != nil || s.Name != "other" {
		t.Errorf("Parse(other.toml) = %v, %v", s, err)
	}
	s, err = Parse("x/y/scenario.toml", "x/y", []byte(""))
	if err != nil || s.Name != "y" {
		t.Errorf("Parse(scenario.toml) = %v, %v", s, err)
	}
	if got := s.Path("/abs/p"); got != "/abs/p" {
		t.Errorf("Path(abs) = %q", got)
	}
}
