package entity

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestNICSurvivesGC is the net-loss stall's regression test: the NIC
// descriptor the host is given must stay open across garbage collections.
// It used to be the number inside an unreachable *os.File, whose cleanup
// closed it at the first collection after start-up.
func TestNICSurvivesGC(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	cfg, err := parseArgs([]string{"--nic", fmt.Sprintf("fd:%d", fds[1]), "--address", "10.0.0.1/24"}, "h", io.Discard, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cfg.NICFD)
	for range 3 {
		runtime.GC()
	}
	if _, err := unix.Write(fds[0], []byte("frame")); err != nil {
		t.Fatalf("write to the switch end: %v", err)
	}
	buf := make([]byte, 16)
	n, err := unix.Read(cfg.NICFD, buf)
	if err != nil {
		t.Fatalf("NIC descriptor %d after GC: %v", cfg.NICFD, err)
	}
	if !bytes.Equal(buf[:n], []byte("frame")) {
		t.Fatalf("NIC read %q, want %q", buf[:n], "frame")
	}
}

func TestParseArgs(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	nic := fmt.Sprintf("fd:%d", fds[1])
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, name string, mtu int, addrs []netip.Prefix, routes int, hosts int)
	}{
		{"no nic", []string{"--address", "10.0.0.1/24"}, true, nil},
		{"bad address", []string{"--nic", nic, "--address", "10.0.0.1"}, true, nil},
		{"bad route", []string{"--nic", nic, "--address", "10.0.0.1/24", "--route", "0.0.0.0/0"}, true, nil},
		{"bad host", []string{"--nic", nic, "--address", "10.0.0.1/24", "--host", "cloud"}, true, nil},
		{"bad nic", []string{"--nic", "fd:x", "--address", "10.0.0.1/24"}, true, nil},
		{"full", []string{"--nic", nic, "--name", "dev", "--mtu", "9000", "--address", "10.0.0.1/24",
			"--route", "0.0.0.0/0=10.0.0.254", "--host", "cloud=10.0.0.2,fd00::2"}, false,
			func(t *testing.T, name string, mtu int, addrs []netip.Prefix, routes, hosts int) {
				if name != "dev" || mtu != 9000 || len(addrs) != 1 || routes != 1 || hosts != 2 {
					t.Errorf("got name %q mtu %d addrs %v routes %d host addrs %d", name, mtu, addrs, routes, hosts)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseArgs(tc.args, "task", io.Discard, discard())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			defer unix.Close(cfg.NICFD)
			if cfg.NICFD == fds[1] {
				t.Errorf("NICFD is the inherited descriptor %d, want a duplicate", fds[1])
			}
			tc.check(t, cfg.Name, cfg.MTU, cfg.Addresses, len(cfg.Routes), len(cfg.Hosts["cloud"]))
		})
	}
}
