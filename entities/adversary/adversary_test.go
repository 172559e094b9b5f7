package adversary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"capsim/ipc"

	"golang.org/x/sys/unix"
)

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"--attack", "ipc-flood", "--attack", "escape", "--target", "srv", "--tcp", "127.0.0.1:1", "--kernel-pid", "7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.attacks, ",") != "ipc-flood,escape" || c.target != "srv" || c.dead != "dead" ||
		c.targets.KernelPID != 7 || strings.Join(c.targets.TCP, ",") != "127.0.0.1:1" || c.targets.HostFiles[0] != "/etc/passwd" {
		t.Fatalf("parseArgs = %+v", c)
	}
	for _, bad := range [][]string{{"--nope"}, {"extra"}, {"--kernel-pid", "x"}} {
		if _, err := parseArgs(bad, io.Discard); err == nil {
			t.Errorf("parseArgs(%q): no error", bad)
		}
	}
}

func TestSelected(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []string
		want     bool
	}{
		{"ipc-flood", nil, true},
		{"ipc-flood", []string{"ipc"}, true},
		{"escape-caps", []string{"ipc"}, false},
		{"escape-caps", []string{"ipc", "escape-c"}, true},
	}
	for _, tt := range tests {
		if got := selected(tt.name, tt.prefixes); got != tt.want {
			t.Errorf("selected(%q, %q) = %v", tt.name, tt.prefixes, got)
		}
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		got   Result
		want  string
		errno string
	}{
		{"escape worked", fromErr(nil), Succeeded, ""},
		{"landlock", fromErr(fmt.Errorf("open: %w", unix.EACCES)), Denied, "EACCES"},
		{"seccomp", fromErr(unix.EPERM), Denied, "EPERM"},
		{"other pid ns", fromErr(unix.ESRCH), Denied, "ESRCH"},
		{"refused port", fromErr(unix.ECONNREFUSED), Error, "ECONNREFUSED"},
		{"no errno", fromErr(errors.New("odd")), Error, ""},
		{"kernel refusal", fromCall(nil, &ipc.Error{Status: ipc.BadHandle}), Denied, "bad handle"},
		{"limit", fromCall(nil, &ipc.Error{Status: ipc.Limit}), Denied, "limit reached"},
		{"server answered", fromCall(&ipc.Message{}, nil), Succeeded, ""},
		{"transport", fromCall(nil, errors.New("broken pipe")), Error, ""},
		// A reset from the host's loopback: the escape reached it.
		{"reached a host port", dialTCP(context.Background(), closedPort(t)), Succeeded, "ECONNREFUSED"},
	}
	for _, tt := range tests {
		if tt.got.Outcome != tt.want || tt.got.Errno != tt.errno {
			t.Errorf("%s: %+v, want %s %q", tt.name, tt.got, tt.want, tt.errno)
		}
	}
}
