package ping

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"capsim/entities"
	"capsim/entities/posix"
)

// Program is capsim:ping.
func Program() *entities.Program {
	return &entities.Program{Name: "ping", Class: "demo.Pinger", Summary: "ICMP echo to a simulated host through VFS_NETWORK_BACKEND",
		Usage: `capsim:ping --host HOST [--count N] [--interval D] [--timeout D]
  prints one line per reply ("reply from ADDR: seq=N time=X") and a summary
  "N packets transmitted, N received"; exits 1 unless every echo came back`,
		Run: run}
}

func run(ctx context.Context, rt *entities.Runtime, args []string) int {
	fl := flag.NewFlagSet("ping", flag.ContinueOnError)
	fl.SetOutput(rt.Stderr())
	host := fl.String("host", "", "the host to ping")
	count := fl.Int("count", 3, "echo requests to send")
	interval := fl.Duration("interval", 100*time.Millisecond, "between requests")
	timeout := fl.Duration("timeout", 2*time.Second, "to wait for each reply")
	if err := fl.Parse(args); err != nil || *host == "" {
		fmt.Fprintln(rt.Stderr(), "usage: capsim:ping --host HOST [--count N]")
		return 2
	}
	n := posix.NewNet(rt)
	addrs, err := n.LookupHost(ctx, *host)
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "ping %s: %v\n", *host, err)
		return 1
	}
	dst := addrs[0]
	v := icmpV4
	if dst.Is6() {
		v = icmpV6
	}
	fd, err := n.Socket(ctx, v.domain, syscall.SOCK_DGRAM, v.proto)
	if err != nil {
		fmt.Fprintf(rt.Stdout(), "ping %s: socket: %v\n", *host, err)
		return 1
	}
	defer n.Close(context.Background(), fd)
	c, _ := n.Client(ctx)
	received := 0
	for seq := 1; seq <= *count; seq++ {
		start := time.Now()
		req := echoRequest(v, uint16(seq))
		if _, err := c.SendTo(ctx, int32(fd), req, 0, posix.ToAddr(netip.AddrPortFrom(dst, 0))); err != nil {
			fmt.Fprintf(rt.Stdout(), "ping %s: send: %v\n", dst, err)
			return 1
		}
		rctx, cancel := context.WithTimeout(ctx, *timeout)
		err := awaitReply(rctx, n, fd, v, uint16(seq))
		cancel()
		switch {
		case err == nil:
			received++
			fmt.Fprintf(rt.Stdout(), "reply from %s: seq=%d time=%s\n", dst, seq, time.Since(start).Round(time.Microsecond))
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Fprintf(rt.Stdout(), "no reply from %s: seq=%d\n", dst, seq)
		default:
			fmt.Fprintf(rt.Stdout(), "ping %s: %v\n", dst, err)
			return 1
		}
		time.Sleep(*interval)
	}
	fmt.Fprintf(rt.Stdout(), "%d packets transmitted, %d received\n", *count, received)
	if received != *count {
		return 1
	}
	return 0
}

// icmp is what differs between ICMP (IPv4) and ICMPv6 pings.
type icmp struct {
	domain, proto     int
	request, response byte // echo message types
}

var (
	icmpV4 = icmp{domain: syscall.AF_INET, proto: syscall.IPPROTO_ICMP, request: 8, response: 0}
	icmpV6 = icmp{domain: syscall.AF_INET6, proto: syscall.IPPROTO_ICMPV6, request: 128, response: 129}
)

// echoRequest is an ICMP echo request; the stack fills in the identifier
// and checksum of an ICMP datagram socket, as Linux does.
func echoRequest(v icmp, seq uint16) []byte {
	b := make([]byte, 8+16)
	b[0] = v.request
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], "capsim ping data")
	return b
}

// awaitReply waits for the echo reply with seq, polling so that a timeout
// leaves no receive pending.
func awaitReply(ctx context.Context, n *posix.Net, fd int, v icmp, seq uint16) error {
	c, _ := n.Client(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, _, err := c.RecvFrom(ctx, int32(fd), 1500, syscall.MSG_DONTWAIT)
		if errors.Is(err, syscall.EAGAIN) {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		if len(b) >= 8 && b[0] == v.response && binary.BigEndian.Uint16(b[6:]) == seq {
			return nil
		}
	}
}
