package kernel

import (
	"encoding/binary"
	"os"
	"testing"

	"capsim/idl"
	"capsim/ipc"
)

// fuzzSystem is a kernel with a client and a server process whose far ends
// are drained by this test instead of by child processes: the frame path
// (decode, handle lookup, IDL validation, decision, routing, replies) runs
// for real, in process.
type fuzzSystem struct {
	k              *Kernel
	client, server *process
	channel        ipc.Handle
}

func newFuzzSystem(tb testing.TB) *fuzzSystem {
	tb.Helper()
	l := idl.NewLoader([]idl.Root{idl.BuiltinRoot()}, idl.Options{})
	k, err := New(Config{Classes: l.Class, Entities: []EntitySpec{
		{Task: "server", Class: "demo.EchoServer"},
		{Task: "client", Class: "demo.EchoClient", Connections: []Connection{{Target: "server", ID: "echo"}}},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	fs := &fuzzSystem{k: k, server: fakeProcess(tb, k, k.tasks["server"]), client: fakeProcess(tb, k, k.tasks["client"])}
	k.hmu.Lock()
	fs.channel = fs.client.handles.add(fs.client, k.tasks["client"].conns["echo"], ipc.RightsAll, nil).num
	k.hmu.Unlock()
	return fs
}

// fakeProcess makes a process of t whose entity end is read and discarded.
func fakeProcess(tb testing.TB, k *Kernel, t *task) *process {
	kend, eend, err := newSocketPair(t.limits.Message)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := newConn(kend, t.limits.Queued)
	if err != nil {
		tb.Fatal(err)
	}
	go drain(eend)
	p := &process{k: k, task: t, sid: k.newSID(), conn: c, handles: newHandleTable(),
		pending: make(map[uint64]*call), outgoing: make(map[uint64]*call), badges: make(map[*channel]map[*task]uint32)}
	t.proc = p
	tb.Cleanup(func() { c.close(); c.done(); eend.Close() })
	return p
}

// drain reads f until its peer closes (or f is closed), through the
// os.File so that its Close cannot race with a read of the raw descriptor.
func drain(f *os.File) {
	buf := make([]byte, 1<<16)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}

func fuzzSeeds(channel ipc.Handle) [][]byte {
	ping := binary.LittleEndian.AppendUint32(nil, 7)
	return [][]byte{
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(channel), Txn: 1}, nil, ping),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(channel), Txn: 2, Method: 2}, nil, append(binary.LittleEndian.AppendUint32(nil, 3), "abc"...)),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: 0, Txn: 3}, nil, append(binary.LittleEndian.AppendUint32(nil, 4), "echo"...)),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: 0, Txn: 4, Endpoint: 1, Method: 1}, nil, binary.LittleEndian.AppendUint64(nil, 1)),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(channel), Txn: 5}, []ipc.Slot{{Handle: channel, Rights: ipc.RightCall}}, ping),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: 1}, nil, ping),
		ipc.Append(nil, ipc.Header{Kind: ipc.KindCancel, Txn: 1}, nil, nil),
		{1, 2, 3},
	}
}

// FuzzHandleFrame feeds arbitrary frames to the kernel from a client and
// from a server: nothing an entity sends may crash the kernel.
func FuzzHandleFrame(f *testing.F) {
	fs := newFuzzSystem(f)
	for _, s := range fuzzSeeds(fs.channel) {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, frame []byte, fromServer bool) {
		from := fs.client
		if fromServer {
			from = fs.server
		}
		b := append([]byte(nil), frame...)
		fs.k.handleFrame(from, b, false)
		// A well-formed call the server received gets a reply, so calls
		// do not pile up against the in-flight limit.
		fs.server.mu.Lock()
		var txns []uint64
		for txn := range fs.server.pending {
			txns = append(txns, txn)
		}
		fs.server.mu.Unlock()
		for _, txn := range txns {
			r := ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: txn}, nil, binary.LittleEndian.AppendUint32(nil, 8))
			fs.k.handleFrame(fs.server, r, false)
		}
	})
}

// TestFrameSeedsHandled runs the fuzz seeds as a plain test, checking the
// system still routes a good call afterwards.
func TestFrameSeedsHandled(t *testing.T) {
	fs := newFuzzSystem(t)
	for _, s := range fuzzSeeds(fs.channel) {
		fs.k.handleFrame(fs.client, append([]byte(nil), s...), false)
		fs.k.handleFrame(fs.server, append([]byte(nil), s...), false)
	}
	good := ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(fs.channel), Txn: 99}, nil, binary.LittleEndian.AppendUint32(nil, 1))
	fs.k.handleFrame(fs.client, good, false)
	fs.server.mu.Lock()
	n := len(fs.server.pending)
	fs.server.mu.Unlock()
	if n == 0 {
		t.Fatal("a good call after the seeds did not reach the server")
	}
}
