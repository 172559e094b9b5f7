package run_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"capsim/entities"
	"capsim/ipc"
	"capsim/run"
)

// runAsk asks the security module, through its class's security interface
// (method 0, Check(in UInt32 port)), about each port in its args, and
// prints each answer.
func runAsk(ctx context.Context, rt *entities.Runtime, args []string) int {
	for _, a := range args {
		var port uint32
		fmt.Sscan(a, &port)
		err := rt.Security(ctx, 0, binary.LittleEndian.AppendUint32(nil, port))
		switch {
		case err == nil:
			fmt.Printf("port %d: granted\n", port)
		case errors.Is(err, ipc.ErrDenied):
			fmt.Printf("port %d: denied (%v)\n", port, err)
		default:
			fmt.Printf("port %d: error %v\n", port, err)
			return 1
		}
	}
	return 0
}

var securityFiles = map[string]string{
	"test/Approve.idl": `package test.Approve
interface {
    Check(in UInt32 port);
}
`,
	"test/Verifier.edl": `task class test.Verifier
security test.Approve
`,
	"policy.psl": `execute: kl.core.Execute
use nk.base._
use EDL test.Verifier
execute { grant () }
security src=test.Verifier method=Check { assert (message.port > 1024) }
`,
	"scenario.toml": `policy = "policy.psl"
[[entity]]
task = "asker"
class = "test.Verifier"
program = "capsim:test-ask"
args = ["8080", "80"]
[[expect]]
task = "asker"
output = "port 8080: granted"
[[expect]]
task = "asker"
output = "port 80: denied"
[[expect]]
trace = { kind = "security", src = "asker", method = "Check", decision = "grant" }
[[expect]]
trace = { kind = "security", src = "asker", method = "Check", decision = "deny", reason = "denied by " }
`,
}

// An entity asks the security module a question through its EDL's
// security interface (a security event) and gets the decision back.
func TestSecurityInterface(t *testing.T) {
	dir := t.TempDir()
	for name, text := range securityFiles {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, out := runScenario(t, dir, run.Options{})
	if !rep.OK() {
		t.Fatalf("failures: %q\n%s", rep.Failures, out)
	}
}
