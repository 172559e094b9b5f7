package netstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"capsim/netstack/vnet"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// BenchmarkInProcessStacks is the reference for the host-to-host figure:
// two gVisor stacks in one process, each NIC an fdbased endpoint on one end
// of a SOCK_SEQPACKET socket pair (the link entities use), driven through
// Sockets.
func BenchmarkInProcessStacks(b *testing.B) {
	for _, mtu := range []int{1500, 65000} {
		b.Run(fmt.Sprintf("bulk/mtu=%d", mtu), func(b *testing.B) { benchBulk(b, mtu) })
		b.Run(fmt.Sprintf("bulk-gonet/mtu=%d", mtu), func(b *testing.B) { benchBulkGonet(b, mtu) })
		b.Run(fmt.Sprintf("bulk-switch/mtu=%d", mtu), func(b *testing.B) { benchBulkSwitch(b, mtu) })
	}
	b.Run("connections/mtu=1500", benchConnections)
}

const bulkChunk = 64 << 10

func benchBulk(b *testing.B, mtu int) { benchBulkPair(b, newPair(b, mtu)) }

// benchBulkPair is benchBulk on the hosts of p.
func benchBulkPair(b *testing.B, p *pair) {
	ctx := testCtx(b)
	c, srv := p.connected(b, 5001)
	chunk := make([]byte, bulkChunk)
	total := int64(b.N) * bulkChunk
	done := make(chan error, 1)
	go func() {
		for got := int64(0); got < total; {
			data, err := p.sb.Recv(ctx, 2, srv, MaxData, 0)
			if err == nil && len(data) == 0 {
				err = fmt.Errorf("EOF after %d of %d bytes", got, total)
			}
			if err != nil {
				done <- err
				return
			}
			got += int64(len(data))
		}
		done <- nil
	}()
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	for range b.N {
		if _, err := p.sa.Send(ctx, 1, c, chunk, 0); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// benchConnections measures TCP connection set-up and tear-down: each
// operation is socket, connect, accept, close on both sides.
func benchConnections(b *testing.B) {
	p := newPair(b, 1500)
	ctx := testCtx(b)
	// The client loop can run ahead of the acceptor by more than a small
	// backlog (each connect waits only for the SYN-ACK); a full queue drops
	// SYNs and the client then waits a whole retransmission timeout, so the
	// listener gets the backlog the posix layer gives (128).
	l := listenBacklog(b, p.sb, 2, AF_INET, 5002, 128)
	to := netip.AddrPortFrom(addrB, 5002)
	accepted := make(chan error, 1)
	go func() {
		for range b.N {
			fd, _, err := p.sb.Accept(ctx, 2, l, 0)
			if err == nil {
				err = p.sb.Close(ctx, 2, fd)
			}
			if err != nil {
				accepted <- err
				return
			}
		}
		accepted <- nil
	}()
	b.ResetTimer()
	for range b.N {
		fd, err := p.sa.Socket(ctx, 1, AF_INET, SOCK_STREAM, 0)
		if err == nil {
			err = p.sa.Connect(ctx, 1, fd, to)
		}
		if err == nil {
			err = p.sa.Close(ctx, 1, fd)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := <-accepted; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}

// benchBulkSwitch is benchBulk with the two stacks joined through the
// virtual switch (vnet, in this process) instead of directly: what the
// switch's hop costs, apart from processes and IPC.
func benchBulkSwitch(b *testing.B, mtu int) {
	n, err := vnet.New(vnet.Config{Logger: slog.New(slog.DiscardHandler), RecordCap: -1,
		Segments: []vnet.SegmentConfig{{Name: "lan", MTU: mtu}}})
	check(b, err)
	check(b, n.Start(context.Background()))
	b.Cleanup(func() { n.Close() }) // cleanups run last first: after the hosts
	mk := func(name string, addr netip.Addr) *Host {
		fd, err := n.AddPort("lan", name)
		check(b, err)
		h, err := NewHost(HostConfig{Name: name, NICFD: fd, MTU: mtu, Logger: slog.New(slog.DiscardHandler),
			Addresses: []netip.Prefix{netip.PrefixFrom(addr, 24)}})
		check(b, err)
		b.Cleanup(func() { h.Close() })
		return h
	}
	p := &pair{a: mk("a", addrA), b: mk("b", addrB)}
	p.sa, p.sb = NewSockets(p.a, SocketsConfig{}), NewSockets(p.b, SocketsConfig{})
	benchBulkPair(b, p)
}

// benchBulkGonet is benchBulk on the bare stacks through gVisor's gonet
// adapter, without Sockets: what the socket layer itself costs.
func benchBulkGonet(b *testing.B, mtu int) {
	p := newPair(b, mtu)
	ctx := testCtx(b)
	l, err := gonet.ListenTCP(p.b.st, tcpip.FullAddress{Port: 5003}, ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	total := int64(b.N) * bulkChunk
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, err = io.CopyN(io.Discard, c, total)
			c.Close()
		}
		done <- err
	}()
	c, err := gonet.DialContextTCP(ctx, p.a.st, tcpip.FullAddress{Addr: tcpip.AddrFrom4(addrB.As4()), Port: 5003}, ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	chunk := make([]byte, bulkChunk)
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
