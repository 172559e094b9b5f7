package entity

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"capsim/netstack"
)

// hostArgs writes cfg back as the netstack program's flags.
func hostArgs(cfg *netstack.HostConfig) []string {
	args := []string{"--name=" + cfg.Name, fmt.Sprintf("--mtu=%d", cfg.MTU), fmt.Sprintf("--seed=%d", cfg.Seed)}
	for _, a := range cfg.Addresses {
		args = append(args, "--address="+a.String())
	}
	for _, r := range cfg.Routes {
		args = append(args, "--route="+r.To.String()+"="+r.Via.String())
	}
	for _, n := range slices.Sorted(maps.Keys(cfg.Hosts)) {
		var list []string
		for _, a := range cfg.Hosts[n] {
			list = append(list, a.String())
		}
		args = append(args, "--host="+n+"="+strings.Join(list, ","))
	}
	return args
}

// FuzzParseArgs parses arbitrary netstack program flags (NUL separates
// the arguments; --nic is always a fresh descriptor of a socket pair, so
// that the fuzzer never closes one of the test's): no panic, an address,
// route or host error names its flag, and a configuration that parses,
// written back as flags, parses to itself.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"--address\x0010.0.0.1/24\x00--route\x000.0.0.0/0=10.0.0.254\x00--host\x00cloud=10.0.0.2,fd00::2",
		"--name\x00dev\x00--mtu\x009000\x00--seed\x007\x00--address=fd00::1/64", "--host\x00cloud", "--route\x00x=y", "--address=fe80::1%eth0/64",
		"--host\x00=1.2.3.4", "-h", "extra"} {
		f.Add(s)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	parse := func(t *testing.T, args []string) (*netstack.HostConfig, error) {
		nic, err := unix.FcntlInt(uintptr(fds[1]), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := parseArgs(append(args, fmt.Sprintf("--nic=fd:%d", nic)), "task", io.Discard, discard())
		switch {
		case err == nil:
			unix.Close(cfg.NICFD) // nicFD closed nic
		case !strings.HasPrefix(err.Error(), "--nic fd:"):
			unix.Close(nic) // parsing stopped before nicFD
		}
		return cfg, err
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		for _, a := range args {
			if strings.Contains(a, "nic") {
				return
			}
		}
		cfg, err := parse(t, args)
		if err != nil {
			for _, fl := range []string{"address", "route", "host"} {
				if strings.Contains(err.Error(), "--"+fl+" ") && !strings.HasPrefix(err.Error(), "--"+fl+" ") {
					t.Fatalf("error %q does not start with its flag", err)
				}
			}
			return
		}
		if cfg.Name == "" {
			t.Fatalf("%q: no host name", args)
		}
		again, err := parse(t, hostArgs(cfg))
		if err != nil {
			t.Fatalf("%q parses, written back as %q fails: %v", args, hostArgs(cfg), err)
		}
		cfg.NICFD, again.NICFD = 0, 0
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("%q parses to %+v, written back as %q to %+v", args, cfg, hostArgs(cfg), again)
		}
	})
}

// TestParseArgsRefusesPositional: an argument that is not a flag is an
// error; it used to be ignored, and with it every flag after it
// (FuzzParseArgs/771e938e4458e983).
func TestParseArgsRefusesPositional(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	args := []string{"--nic", fmt.Sprintf("fd:%d", fds[1]), "extra", "--address", "10.0.0.1/24"}
	if _, err := parseArgs(args, "h", io.Discard, discard()); err == nil || !strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Fatalf("parseArgs(%q) = %v, want an unexpected-argument error", args, err)
	}
}
