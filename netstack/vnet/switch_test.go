package vnet

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func oneSegment(im Impairments) Config {
	return Config{Seed: 1, Segments: []SegmentConfig{{Name: "lan", Impair: im}}}
}

func TestSwitchLearnsAndFloods(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	c := addRawPort(t, n, "lan", "c", 3)

	// Unknown destination: flooded to b and c.
	a.send(b.mac, 1, 60)
	for _, p := range []*rawPort{b, c} {
		if got := seqOf(p.recv()); got != 1 {
			t.Fatalf("flood: got seq %d", got)
		}
	}
	// b answers a, whose MAC is now known: only a gets it.
	b.send(a.mac, 2, 60)
	if got := seqOf(a.recv()); got != 2 {
		t.Fatalf("unicast: got seq %d", got)
	}
	// a to b, now learned: c must not see it. A later broadcast from a
	// reaches c, and it must be the first frame c gets.
	a.send(b.mac, 3, 60)
	if got := seqOf(b.recv()); got != 3 {
		t.Fatalf("unicast: got seq %d", got)
	}
	a.send(broadcast, 4, 60)
	if got := seqOf(c.recv()); got != 4 {
		t.Fatalf("c got seq %d, want the broadcast 4 (unicast leaked)", got)
	}
	if got := seqOf(b.recv()); got != 4 {
		t.Fatalf("b got seq %d, want broadcast 4", got)
	}
	// The counters move just after the writes the reads above saw.
	waitFor(t, "counters", func() bool { return stats(t, n, "lan").Delivered == 6 })
	st := stats(t, n, "lan")
	if st.Frames != 4 || st.Flooded != 2 || st.Delivered != 6 {
		t.Errorf("stats = %+v, want 4 frames, 2 flooded, 6 delivered", st)
	}
}

func TestSwitchDropsMalformed(t *testing.T) {
	n := startNet(t, Config{Segments: []SegmentConfig{{Name: "lan", MTU: 100}}})
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	a.send(broadcast, 1, 115) // MTU 100 + 14 header: one byte too long
	a.send(broadcast, 2, 114)
	if got := seqOf(b.recv()); got != 2 {
		t.Fatalf("got seq %d, want 2", got)
	}
	if st := stats(t, n, "lan"); st.Malformed != 1 {
		t.Errorf("malformed = %d, want 1", st.Malformed)
	}
}

// TestSwitchEmptyFrameIsNotAClose: an empty message reads like the end of
// a seqpacket link; the switch must count it as malformed and keep the
// port, which ends only when the host really closes.
func TestSwitchEmptyFrameIsNotAClose(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	if err := unix.Sendmsg(a.fd, nil, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	a.send(broadcast, 1, 60)
	if got := seqOf(b.recv()); got != 1 {
		t.Fatalf("got seq %d, want 1: the port went with the empty frame", got)
	}
	waitFor(t, "the empty frame counted", func() bool { return stats(t, n, "lan").Malformed == 1 })
}

// lossRun sends count frames a→b over a lossy, duplicating link and returns
// the sequence numbers b received, in order.
func lossRun(t *testing.T, seed int64, im Impairments, count int) ([]uint32, Stats) {
	cfg := oneSegment(im)
	cfg.Seed = seed
	n := startNet(t, cfg)
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	for i := range count {
		a.send(broadcast, uint32(i), 64)
	}
	waitFor(t, "every frame handled", func() bool {
		st := stats(t, n, "lan")
		return st.Lost+st.Delivered-st.Duplicated == uint64(count)
	})
	st := stats(t, n, "lan")
	var got []uint32
	for range st.Delivered {
		got = append(got, seqOf(b.recv()))
	}
	if b.pending() {
		t.Fatal("more frames than delivered")
	}
	return got, st
}

func TestLossIsSeeded(t *testing.T) {
	im := Impairments{Loss: 0.3, Duplicate: 0.1}
	const count = 1000
	first, st := lossRun(t, 7, im, count)
	again, _ := lossRun(t, 7, im, count)
	other, _ := lossRun(t, 8, im, count)
	if !slices.Equal(first, again) {
		t.Errorf("same seed, different fates: %d vs %d frames", len(first), len(again))
	}
	if slices.Equal(first, other) {
		t.Errorf("different seeds, same fates")
	}
	// 30% of 1000 frames: the count is binomial; 200..400 holds for any
	// reasonable generator and fails for a broken loss draw.
	if st.Lost < 200 || st.Lost > 400 {
		t.Errorf("lost %d of %d at 30%%", st.Lost, count)
	}
	if st.Duplicated == 0 || st.Delivered != count-st.Lost+st.Duplicated {
		t.Errorf("stats %+v inconsistent", st)
	}
}

func TestPartitionDropsUntilHeal(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	if err := n.SetPartitioned("lan", true); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		a.send(broadcast, uint32(i), 64)
	}
	waitFor(t, "frames dropped", func() bool { return stats(t, n, "lan").Partitioned == 10 })
	if b.pending() {
		t.Fatal("a frame crossed the partition")
	}
	if err := n.SetPartitioned("lan", false); err != nil {
		t.Fatal(err)
	}
	a.send(broadcast, 99, 64)
	if got := seqOf(b.recv()); got != 99 {
		t.Fatalf("after heal got seq %d, want 99", got)
	}
}

func TestScheduledPartition(t *testing.T) {
	cfg := oneSegment(Impairments{})
	// Out of order on purpose: the schedule runs by offset.
	cfg.Segments[0].Schedule = []Event{{At: time.Second, Do: Heal}, {At: 0, Do: Partition}}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	var mu sync.Mutex
	var seen []string
	n.cfg.OnEvent = func(seg string, e Event) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, seg+":"+e.Do.String())
		if e.Do == Partition {
			a.send(broadcast, 1, 64) // sent while partitioned
		}
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "partition", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0
	})
	// The frames sent during the partition are dropped; the first to get
	// through is sent after the heal.
	seq := uint32(2)
	waitFor(t, "heal", func() bool {
		a.send(broadcast, seq, 64)
		seq++
		return b.pending()
	})
	if got := seqOf(b.recv()); got == 1 {
		t.Error("the frame sent during the partition got through")
	}
	if st := stats(t, n, "lan"); st.Partitioned == 0 {
		t.Errorf("no frame was dropped by the partition: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []string{"lan:partition", "lan:heal"}) {
		t.Errorf("events %v, want partition then heal", seen)
	}
}

func TestDelayJitterReorderDeliverAll(t *testing.T) {
	im := Impairments{Delay: 2e6, Jitter: 1e6, Reorder: 0.25}
	const count = 200
	got, st := lossRun(t, 3, im, count)
	if len(got) != count {
		t.Fatalf("got %d frames, want %d", len(got), count)
	}
	sorted := slices.Sorted(slices.Values(got))
	for i, s := range sorted {
		if s != uint32(i) {
			t.Fatalf("frame %d missing or doubled", i)
		}
	}
	if st.Reordered == 0 {
		t.Error("reorder 25%: no frame reordered")
	}
}

func TestRateTailDrops(t *testing.T) {
	// 100 kbit/s and a 10 kB queue: a burst of 100 full frames (12 s of
	// serialisation) overflows the queue after about 7 frames; those arrive.
	cfg := oneSegment(Impairments{Rate: 1e5, QueueBytes: 10000})
	n := startNet(t, cfg)
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	for i := range 100 {
		a.send(broadcast, uint32(i), 1514)
	}
	waitFor(t, "frames handled", func() bool {
		st := stats(t, n, "lan")
		return st.QueueDrops+st.Delivered == 100
	})
	st := stats(t, n, "lan")
	if st.QueueDrops < 50 || st.Delivered == 0 {
		t.Fatalf("stats %+v: want most frames tail-dropped, some delivered", st)
	}
	for range st.Delivered {
		b.recv()
	}
}

func TestAddPortErrors(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	if _, err := n.AddPort("nope", "x"); err == nil {
		t.Error("AddPort on an unknown segment succeeded")
	}
	n.Close()
	if _, err := n.AddPort("lan", "x"); err == nil {
		t.Error("AddPort after Close succeeded")
	}
}

func TestPeerCloseForgetsPort(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	a := addRawPort(t, n, "lan", "a", 1)
	fd, err := n.AddPort("lan", "b")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawPort{t: t, fd: fd, mac: mac{0x02, 0, 0, 0, 0, 2}}
	c := addRawPort(t, n, "lan", "c", 3)
	b.send(broadcast, 1, 60) // the switch learns b
	a.recv()
	c.recv()
	unix.Close(fd)
	s := n.segs["lan"]
	waitFor(t, "port b detached", func() bool { return s.ports[1].dead.Load() })
	// b's MAC is forgotten: a frame to it is flooded, so c sees it.
	a.send(b.mac, 2, 60)
	if got := seqOf(c.recv()); got != 2 {
		t.Fatalf("c got seq %d, want 2", got)
	}
}

func TestCancelClosesNetwork(t *testing.T) {
	n, err := New(oneSegment(Impairments{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	cancel()
	waitFor(t, "close on cancel", func() bool {
		_, err := n.AddPort("lan", "late")
		return errors.Is(err, ErrClosed)
	})
}

func TestSocketBuffers(t *testing.T) {
	n := startNet(t, oneSegment(Impairments{}))
	fd, err := n.AddPort("lan", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
		v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Linux reports twice the size set; without CAP_NET_ADMIN the
		// plain option is capped by net.core.[wr]mem_max.
		if v < DefaultSocketBuffer && unix.Geteuid() == 0 {
			t.Errorf("buffer option %d = %d, want at least %d", opt, v, DefaultSocketBuffer)
		}
	}
}

func TestPortsAddedBeforeStart(t *testing.T) {
	n, err := New(oneSegment(Impairments{Delay: 1e6}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	a := addRawPort(t, n, "lan", "a", 1)
	b := addRawPort(t, n, "lan", "b", 2)
	a.send(broadcast, 5, 64) // waits in the socket until Start
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := seqOf(b.recv()); got != 5 {
		t.Fatalf("got seq %d, want 5", got)
	}
	if got := n.Segments(); !slices.Equal(got, []string{"lan"}) {
		t.Errorf("Segments() = %v", got)
	}
}
