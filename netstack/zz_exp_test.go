package netstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"capsim/netstack/vnet"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
)

func TestZZExp(t *testing.T) {
	n, err := vnet.New(vnet.Config{Seed: 7, Segments: []vnet.SegmentConfig{{Name: "wan",
		Impair: vnet.Impairments{Loss: 0.05, Delay: 50 * time.Millisecond}}}, Pcap: "/tmp/exp.pcap"})
	check(t, err)
	check(t, n.Start(context.Background()))
	defer n.Close()
	tune := func(o *fdbased.Options) {
		if os.Getenv("NOGSO") != "" {
			o.GSOMaxSize = 0
			o.GVisorGSOEnabled = false
			o.GRO = false
		}
		if os.Getenv("READV") != "" {
			o.PacketDispatchMode = fdbased.Readv
		}
	}
	mk := func(name string, addr netip.Addr) (*Host, *Sockets) {
		fd, err := n.AddPort("wan", name)
		check(t, err)
		h, err := NewHost(HostConfig{Name: name, NICFD: fd, Logger: slog.New(slog.DiscardHandler),
			Addresses: []netip.Prefix{netip.PrefixFrom(addr, 24)}, tune: tune})
		check(t, err)
		t.Cleanup(func() { h.Close() })
		return h, NewSockets(h, SocketsConfig{})
	}
	ha, sa := mk("device", addrA)
	hb, sb := mk("cloud", addrB)
	p := &pair{a: ha, b: hb, sa: sa, sb: sb}
	c, srv := p.connected(t, 80)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const total = 4 << 20
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 32<<10)
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := sb.Send(ctx, 2, srv, chunk, 0); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	got := 0
	last := time.Now()
	for got < total {
		rctx, rc := context.WithTimeout(ctx, 10*time.Second)
		b, err := sa.Recv(rctx, 1, c, MaxData, 0)
		rc()
		if err != nil {
			st, _ := n.Stats("wan")
			t.Logf("stats %+v", st)
			dump(t, "server", hb)
			dump(t, "client", ha)
			t.Fatalf("recv after %d: %v", got, err)
		}
		got += len(b)
		if time.Since(last) > time.Second {
			t.Logf("got %d", got)
			last = time.Now()
		}
	}
	t.Logf("done %d", got)
	<-done
	st, _ := n.Stats("wan")
	t.Logf("stats %+v", st)
}

func dump(t *testing.T, name string, h *Host) {
	s := h.st.Stats().TCP
	t.Logf("%s: tcp %s", name, fmtStats(s))
	var st tcpip.TCPStats = s
	_ = st
}

func fmtStats(s tcpip.TCPStats) string {
	return fmt.Sprintf("segsSent=%d retrans=%d timeouts=%d fastRetrans=%d tlp=%d sackRecovery=%d fastRecovery=%d slowStartRetrans=%d segSendErrs=%d resetsSent=%d",
		s.SegmentsSent.Value(), s.Retransmits.Value(), s.Timeouts.Value(), s.FastRetransmit.Value(),
		s.TLPRecovery.Value(), s.SACKRecovery.Value(), s.FastRecovery.Value(), s.SlowStartRetransmits.Value(), s.SegmentSendErrors.Value(), s.ResetsSent.Value())
}
