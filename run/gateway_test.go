package run_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"capsim/certs"
	"capsim/run"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveScenario runs a scenario with --serve in the background until the
// test's probe is done.
func serveScenario(t *testing.T, dir string, opts run.Options, probe func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncWriter
	var sb strings.Builder
	out.w = &sb
	go func() {
		opts.Serve = true
		opts.Timeout = 60 * time.Second
		opts.Output, opts.Stderr = &out, &out
		opts.Registry = registry()
		_, err := runDir(ctx, dir, opts)
		done <- err
	}()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = probe(); err == nil {
			break
		}
	}
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatalf("run: %v", rerr)
	}
	if err != nil {
		out.mu.Lock()
		defer out.mu.Unlock()
		t.Fatalf("probe: %v\noutput:\n%s", err, sb.String())
	}
}

func curl(args ...string) error {
	out, err := exec.Command("curl", append([]string{"-sSL", "--max-time", "5"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("curl %v: %v: %s", args, err, out)
	}
	if !strings.Contains(string(out), "<p>") {
		return fmt.Errorf("curl %v: unexpected body %q", args, out)
	}
	return nil
}

// A real curl on this machine fetches a page from a simulated HTTP server
// through --forward: loopback -> the gateway's stack -> the switch ->
// cloud's netstack -> the server entity.
func TestForwardCurlToSimulatedServer(t *testing.T) {
	needTool(t, "curl")
	port := freePort(t)
	serveScenario(t, "../scenarios/net-basic", run.Options{Forwards: []string{fmt.Sprintf("127.0.0.1:%d=cloud:80", port)}},
		func() error { return curl(fmt.Sprintf("http://127.0.0.1:%d/index.html", port)) })
}

// The same through the TLS terminator in the server role: curl speaks TLS
// to a simulated server whose own code is plaintext.
func TestForwardCurlTLSToTerminator(t *testing.T) {
	needTool(t, "curl")
	port := freePort(t)
	serveScenario(t, "../scenarios/tls-terminator", run.Options{Forwards: []string{fmt.Sprintf("127.0.0.1:%d=cloud:443", port)}},
		func() error { return curl("-k", fmt.Sprintf("https://127.0.0.1:%d/index.html", port)) })
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", name)
	}
}

const egressScenario = `
timeout = "60s"
[[host]]
name = "device"
addresses = ["10.0.0.1/24"]
[[host]]
name = "other"
addresses = ["10.0.0.9/24"]
[[link]]
name = "wan"
hosts = ["device", "other"]
[[egress]]
hosts = ["device"]
address = "10.0.0.250:4433"
to = "127.0.0.1:%d"
[[entity]]
task = "device-net"
class = "capsim.Netstack"
host = "device"
[[entity]]
task = "other-net"
class = "capsim.Netstack"
host = "other"
[[entity]]
task = "device-vfs"
class = "kl.VfsNet"
host = "device"
env = { NETSTACK_BACKEND = "client:netstack" }
connections = [ { target = "device-net", id = "netstack" } ]
[[entity]]
task = "device-tls"
class = "kl.TlsEntity"
host = "device"
args = ["--ca", "file:ca.pem"]
env = { VFS_NETWORK_BACKEND = "client:vfs" }
connections = [ { target = "device-vfs", id = "vfs" } ]
[[entity]]
task = "client"
class = "demo.HttpClient"
host = "device"
args = ["--url", "http://10.0.0.250:4433/"]
env = { VFS_NETWORK_BACKEND = "client:tls" }
connections = [ { target = "device-tls", id = "tls" } ]
main = true
[[expect]]
task = "client"
exit = 0
[[expect]]
task = "client"
output = "200 ok"
`

// Through egress, a simulated client behind the TLS entity fetches from a
// real openssl s_server on the machine's loopback, verifying its
// certificate against the CA the scenario gives the TLS entity.
func TestEgressThroughTLSToOpenSSL(t *testing.T) {
	needTool(t, "openssl")
	dir := t.TempDir()
	set, err := certs.Generate(filepath.Join(dir, "pki"), []certs.Spec{{Name: "egress", Hosts: []string{"10.0.0.250"}}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(set.Dir, "ca.pem"))
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	if err := os.WriteFile(filepath.Join(dir, "scenario.toml"), []byte(fmt.Sprintf(egressScenario, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("openssl", "s_server", "-accept", fmt.Sprint(port), "-naccept", "5", "-www",
		"-cert", filepath.Join(set.Dir, "egress.pem"), "-key", filepath.Join(set.Dir, "egress.key"))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	waitListening(t, port)
	rep, out := runScenario(t, dir, run.Options{})
	if !rep.OK() {
		t.Fatalf("failures: %q\n%s", rep.Failures, out)
	}
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d", port)
}
