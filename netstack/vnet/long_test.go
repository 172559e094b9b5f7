package vnet

import (
	"os"
	"testing"
	"time"
)

// TestLongLossyTransfer is the net-loss scenario's link in miniature: 4 MiB
// over TCP at 5% loss and 50 ms delay arrives intact. Run with CAPSIM_LONG=1.
func TestLongLossyTransfer(t *testing.T) {
	if os.Getenv("CAPSIM_LONG") != "1" {
		t.Skip("set CAPSIM_LONG=1 to run")
	}
	n := startNet(t, oneSegment(Impairments{Loss: 0.05, Delay: 50e6}))
	a := addSimHost(t, n, "lan", "device", "10.0.0.1/24", 1)
	b := addSimHost(t, n, "lan", "cloud", "10.0.0.2/24", 2)
	errc := serveSink(listenSim(t, b, "10.0.0.2:80"))
	// Loss-bound TCP (Mathis: MSS/RTT·1.22/√p ≈ 80 KB/s at RTT 100 ms) needs
	// about a minute for 4 MiB.
	transferWithin(t, dialSim(t, a, "10.0.0.2:80"), randomBytes(4<<20, 9), errc, 5*time.Minute)
	st := stats(t, n, "lan")
	t.Logf("stats: %+v", st)
	if st.Lost == 0 {
		t.Error("nothing lost at 5%")
	}
}
