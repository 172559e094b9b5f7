package confine_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"capsim/entities/adversary"
	"capsim/kernel"
	"capsim/kernel/confine"
)

// listen starts a TCP listener on addr that accepts and closes.
func listen(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// escapeRun starts a sibling and an adversary running every escape
// attempt under mode, and returns the adversary's results.
func escapeRun(t *testing.T, mode kernel.IsolateMode) map[string]adversary.Result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("the scenario's own file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	c := confine.New(confine.Options{})
	t.Cleanup(func() { c.Close() })
	sib := startSystem(t, mode, c, entity(t, "sibling", "demo.EchoServer", "test-sleeper"))
	sibPID := sib.pid(t, "sibling")
	adv := entity(t, "adversary", "capsim.Adversary", "adversary", "--attack", "escape",
		"--kernel-pid", strconv.Itoa(os.Getpid()), "--sibling-pid", strconv.Itoa(sibPID),
		"--host-file", "/etc/passwd", "--host-file", filepath.Join(dir, "secret.txt"), "--host-dir", dir,
		"--tcp", listen(t, "127.0.0.1:0"), "--tcp", listen(t, "[::1]:0"))
	adv.Main = true
	s := startSystem(t, mode, c, adv)
	s.wait(t)
	out := s.k.Output("adversary")
	t.Logf("adversary (isolate %v):\n%s", mode, out)
	rs := results(t, out)
	if len(rs) == 0 {
		t.Fatalf("no results; output:\n%s", s.out.String())
	}
	return rs
}

// TestEscapesFail runs every escape attempt from inside a confined entity
// granted nothing, and checks each fails with the specific error.
func TestEscapesFail(t *testing.T) {
	rs := escapeRun(t, kernel.IsolateOn)
	want := map[string][]string{
		"escape-fds":              {"EBADF"},
		"escape-create-file":      {"EACCES"},
		"escape-read-file-0":      {"EACCES"}, // /etc/passwd
		"escape-read-file-1":      {"EACCES"}, // a file of the scenario folder
		"escape-tcp-0":            {"EACCES", "ENETUNREACH"},
		"escape-tcp-1":            {"EACCES", "ENETUNREACH", "EADDRNOTAVAIL"},
		"escape-proc-pids":        {""}, // only pid 1 visible
		"escape-caps":             {""}, // CapEff 0
		"escape-unshare":          {"EPERM"},
		"escape-setns":            {"EPERM"},
		"escape-unix-socket":      {"EPERM"},
		"escape-unix-socket-wide": {"EPERM"},
		"escape-vsock":            {"EPERM"},
		"escape-packet-socket":    {"EPERM"},
		"escape-inotify":          {"EPERM"},
		"escape-pdeathsig":        {"EPERM"},
		"escape-signal-kernel":    {"ESRCH"},
		"escape-mem-kernel":       {"ENOENT", "EACCES"},
		"escape-environ-kernel":   {"ENOENT", "EACCES"},
		"escape-signal-sibling":   {"ESRCH"},
		"escape-mem-sibling":      {"ENOENT", "EACCES"},
		"escape-ptrace-sibling":   {"EPERM"},
	}
	for name, errnos := range want {
		r, ok := rs[name]
		switch {
		case !ok:
			t.Errorf("%s: not attempted", name)
		case r.Outcome != adversary.Denied:
			t.Errorf("%s: outcome %s (%s %s), want denied", name, r.Outcome, r.Errno, r.Error)
		case !slices.Contains(errnos, r.Errno):
			t.Errorf("%s: errno %q (%s), want one of %q", name, r.Errno, r.Error, errnos)
		}
	}
}

// TestEscapesSucceedUnconfined proves the escape tests can fail: with
// --isolate off the same attempts succeed.
func TestEscapesSucceedUnconfined(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the unconfined escapes (unshare, setns, ptrace) need root")
	}
	rs := escapeRun(t, kernel.IsolateOff)
	for _, name := range []string{"escape-create-file", "escape-read-file-0", "escape-read-file-1", "escape-tcp-0",
		"escape-proc-pids", "escape-caps", "escape-unshare", "escape-setns", "escape-unix-socket",
		"escape-unix-socket-wide", "escape-inotify", "escape-pdeathsig",
		"escape-signal-kernel", "escape-environ-kernel", "escape-signal-sibling", "escape-ptrace-sibling"} {
		if r := rs[name]; r.Outcome != adversary.Succeeded {
			t.Errorf("%s: outcome %q (%s %s), want succeeded without confinement", name, r.Outcome, r.Errno, r.Error)
		}
	}
}

// TestGrantedFilesKeepTheirMode: a file the kernel opened read-only cannot
// be reopened for writing through /proc/self/fd, and a folder granted
// read-only (romfs, a hostdir without mode rw) can be read but not
// changed; a writable one can.
func TestGrantedFilesKeepTheirMode(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	ro, rw := filepath.Join(dir, "ro"), filepath.Join(dir, "rw")
	for _, d := range []string{ro, rw} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil { // only Landlock may stop the entity
			t.Fatal(err)
		}
	}
	for _, f := range []string{file, filepath.Join(ro, "inside.txt")} {
		if err := os.WriteFile(f, []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	open := func(p string) *os.File {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	c := confine.New(confine.Options{})
	t.Cleanup(func() { c.Close() })
	e := entity(t, "client", "demo.EchoClient", "test-granted")
	e.Main = true
	e.Files = []*os.File{open(file), open(ro), open(rw)}
	e.Writable = []bool{false, false, true}
	s := startSystem(t, kernel.IsolateOn, c, e)
	s.wait(t)
	out := s.k.Output("client")
	for _, want := range []string{"read-file ok", "write-file EACCES", "read-in-ro-dir ok", "create-in-ro-dir EACCES",
		"remove-in-ro-dir EACCES", "create-in-rw-dir ok"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("want %q; the entity said:\n%s", want, out)
		}
	}
}
