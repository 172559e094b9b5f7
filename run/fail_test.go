package run_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/run"
)

// writeScenario makes a scenario folder from the echo policy and a TOML text.
func writeScenario(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	psl, err := os.ReadFile("../scenarios/echo/policy.psl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.psl"), psl, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const pongScenario = `
policy = "policy.psl"
[[entity]]
task = "server"
class = "demo.EchoServer"
main = false
[[entity]]
task = "client"
class = "demo.EchoClient"
args = ["--method", "Pong", "--count", "3"]
connections = [ { target = "server", id = "echo" } ]
[[expect]]
task = "client"
exit = 0
[[expect]]
trace = { kind = "request", method = "Pong", decision = "grant" }
[[expect]]
audit = { kind = "request", method = "Pong", decision = "deny", reason = "no rule" }
`

// A call the policy has no rule for is denied; the expectations that
// assumed otherwise fail, each saying what was expected and seen.
func TestFailedExpectationsSayWhy(t *testing.T) {
	rep, out := runScenario(t, writeScenario(t, pongScenario), run.Options{Explain: true})
	if rep.OK() {
		t.Fatalf("run passed; want two failures\n%s", out)
	}
	want := []string{
		"task client: expected exit 0, got 1",
		`expected at least 1 trace record matching {kind=request method=Pong decision=grant}, saw 0`,
	}
	if len(rep.Failures) != len(want) {
		t.Fatalf("failures = %q", rep.Failures)
	}
	for i, w := range want {
		if !strings.Contains(rep.Failures[i], w) || !strings.Contains(rep.Failures[i], "scenario.toml:") {
			t.Errorf("failure %d = %q, want it to contain %q and the position", i, rep.Failures[i], w)
		}
	}
	if !strings.Contains(out, "denied") || !strings.Contains(out, "explain") {
		t.Errorf("--explain printed nothing about the deny:\n%s", out)
	}
}

func TestTimeoutNamesWhatStillRuns(t *testing.T) {
	dir := writeScenario(t, `
timeout = "300ms"
[[entity]]
task = "server"
class = "demo.EchoServer"
`)
	rep, _ := runScenario(t, dir, run.Options{})
	if rep.OK() || !strings.Contains(rep.Failures[0], "timeout after 300ms; still running: server") {
		t.Fatalf("failures = %q", rep.Failures)
	}
}
