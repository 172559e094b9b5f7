package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"capsim/policy"
	"capsim/scenario"
)

// TestNetworkCaveat: verify proves IPC only, so a property that holds over
// IPC between tasks on hosts joined by a link says the network could undo
// it; one that fails over IPC anyway says nothing more.
func TestNetworkCaveat(t *testing.T) {
	g, err := Load("../scenarios/tls-terminator")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		prop scenario.Property
		want string // substring of Result.Network; "" for none
	}{
		{"across the link", scenario.Property{NoPath: &scenario.NoPath{From: "client", To: "server"}},
			"client reaches device-net, and cloud-net reaches server: link wan carries data between them"},
		{"tcb across the link", scenario.Property{TCB: &scenario.TCB{Asset: "server", Expect: []string{"server"}}},
			"client"},
		{"the other way", scenario.Property{NoPath: &scenario.NoPath{From: "server", To: "client"}},
			"server reaches cloud-net, and device-net reaches client"},
		{"fails over IPC anyway", scenario.Property{NoPath: &scenario.NoPath{From: "device-net", To: "device-tls"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.prop.Name = tt.name
			r := g.CheckProperty(&tt.prop)
			if tt.want == "" && r.Network != "" || !strings.Contains(r.Network, tt.want) {
				t.Errorf("Network = %q, want %q", r.Network, tt.want)
			}
		})
	}
}

// TestChannelNamesEveryConnection: two connections of one client to one
// server share their edges (the policy sees classes, not ids), and the
// edges name both.
func TestChannelNamesEveryConnection(t *testing.T) {
	dir := t.TempDir()
	sc := `[[entity]]
task = "server"
class = "demo.EchoServer"
main = false
[[entity]]
task = "client"
class = "demo.EchoClient"
connections = [ { target = "server", id = "echo" }, { target = "server", id = "backup" } ]
`
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := g.Edge(policy.Request, "client", "server", "echo", "Ping")
	if e == nil || e.Channel != "connection echo, backup" {
		t.Fatalf("client -> server echo.Ping = %+v, want channel \"connection echo, backup\"", e)
	}
}
