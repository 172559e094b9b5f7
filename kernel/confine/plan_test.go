package confine

import (
	"strings"
	"testing"
)

func TestDecodePlan(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"ok", `{"path":"/bin/true","argv":["true"],"program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1}`, ""},
		{"probe", `{"probe":true,"granted":0,"cgroups":0,"uid":0,"gid":0,"program_fd":0}`, ""},
		{"relative path", `{"path":"true","argv":["true"],"program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1}`, "not absolute"},
		{"empty argv", `{"path":"/bin/true","program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1}`, "empty argv"},
		{"program fd among granted", `{"path":"/bin/true","argv":["x"],"program_fd":4,"granted":1,"cgroups":0,"uid":1,"gid":1}`, "out of range"},
		{"negative granted", `{"path":"/bin/true","argv":["x"],"program_fd":4,"granted":-1,"cgroups":0,"uid":1,"gid":1}`, "out of range"},
		{"negative id", `{"path":"/bin/true","argv":["x"],"program_fd":4,"granted":0,"cgroups":0,"uid":-1,"gid":1}`, "negative id"},
		{"relative lib", `{"path":"/bin/true","argv":["x"],"program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1,"libs":["lib"]}`, "not absolute"},
		{"unknown field", `{"path":"/bin/true","argv":["x"],"program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1,"evil":1}`, "unknown field"},
		{"trailing", `{"probe":true,"granted":0,"cgroups":0,"uid":0,"gid":0,"program_fd":0} {}`, "trailing"},
		{"not json", `--attack`, "invalid character"},
		{"too large", strings.Repeat(" ", maxPlan+1), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodePlan(tt.in)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("decodePlan: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("decodePlan: %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

func TestPlanRoundTrip(t *testing.T) {
	p := &plan{Path: "/usr/bin/x", Argv: []string{"capsim:echo", "--count", "3"}, ProgramFD: 6, Granted: 2,
		Proc: true, SetID: true, UID: 1, GID: 1, Caps: true, Landlock: 7, Libs: []string{"/lib"}, Seccomp: true}
	enc, err := p.encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := decodePlan(enc)
	if err != nil {
		t.Fatal(err)
	}
	if q.Path != p.Path || strings.Join(q.Argv, " ") != strings.Join(p.Argv, " ") || q.ProgramFD != 6 || q.Landlock != 7 || !q.Seccomp {
		t.Fatalf("round trip: %+v, want %+v", q, p)
	}
}

func TestWithoutEnv(t *testing.T) {
	got := withoutEnv([]string{"A=1", planEnv + "={}", planEnv + "X=2", "B=" + planEnv}, planEnv)
	if strings.Join(got, ",") != "A=1,"+planEnv+"X=2,B="+planEnv {
		t.Fatalf("withoutEnv = %q", got)
	}
}

// FuzzDecodePlan: the trampoline's decoder never panics, and what it
// accepts is checked.
func FuzzDecodePlan(f *testing.F) {
	f.Add(`{"path":"/bin/true","argv":["true"],"program_fd":4,"granted":0,"cgroups":0,"uid":1,"gid":1}`)
	f.Add(`{"probe":true,"granted":0,"cgroups":0,"uid":0,"gid":0,"program_fd":0}`)
	f.Add(`{"path":"/x","argv":[""],"program_fd":9,"granted":3,"cgroups":2,"landlock":7,"exec":["/l"],"libs":["/lib"]}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodePlan(s)
		if err != nil {
			return
		}
		if err := p.check(); err != nil {
			t.Fatalf("accepted a plan that fails its check: %v", err)
		}
	})
}
