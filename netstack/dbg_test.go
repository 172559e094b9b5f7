package netstack

import "testing"

func TestDbgStats(t *testing.T) {
	if testing.Short() {
		return
	}
	p := newPair(t, 1500)
	ctx := testCtx(t)
	c, srv := p.connected(t, 5001)
	chunk := make([]byte, 64<<10)
	go func() {
		for range 200 {
			p.sa.Send(ctx, 1, c, chunk, 0)
		}
	}()
	got := 0
	for got < 200*len(chunk) {
		d, _ := p.sb.Recv(ctx, 2, srv, MaxData, 0)
		got += len(d)
	}
	sa := p.a.st.Stats()
	sb := p.b.st.Stats()
	t.Logf("a: sent %d retrans %d fastretrans %d timeouts %d; b: recv %d dropped(nic) %d csum %d",
		sa.TCP.SegmentsSent.Value(), sa.TCP.Retransmits.Value(), sa.TCP.FastRetransmit.Value(), sa.TCP.Timeouts.Value(),
		sb.TCP.ValidSegmentsReceived.Value(), sb.NICs.Rx.Packets.Value(), sb.TCP.ChecksumErrors.Value())
	t.Logf("a link tx: %d", sa.NICs.Tx.Packets.Value())
}
