package netstack

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/stack/gro"

	"capsim/netstack/mmsg"
)

// nicLink is the NIC's link endpoint: gVisor's fdbased endpoint for
// sending (sendmmsg of what the NIC's FIFO queue gathered, Ethernet
// headers, capabilities), with reception done here, through Go's poller. fdbased receives in a
// goroutine blocked in ppoll(2); each time it blocks, the Go runtime wakes
// its monitor thread (sysmon), which then sleeps 20 µs at a time for a
// millisecond or more — with two netstack processes on two vCPUs that
// cost more CPU than the frames (docs/BENCHMARKS.md). Here the reader
// waits in the poller, reads up to nicBatch frames per recvmmsg(2) as a raw
// system call, and hands them to the stack through GRO, as fdbased does.
//
// fdbased is never attached, so its own receive loop never starts.
type nicLink struct {
	stack.LinkEndpoint // fdbased, sending only

	file *os.File // a duplicate of the NIC socket, for reading
	raw  syscall.RawConn
	mac  tcpip.LinkAddress
	size int // receive buffer per frame
	gro  bool
	// ended is called once when reception ends on its own (the switch
	// closed the link or a read failed); not on Close.
	ended func(error)
	lost  chan struct{} // closed when reception ended on its own

	closeOnce  sync.Once
	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	stop       chan struct{} // closed to stop the reader
	done       chan struct{} // closed when the reader returns
}

// GSOMaxSize implements stack.GSOEndpoint (fdbased's, which an embedded
// stack.LinkEndpoint does not promote): TCP then works in segments of up to
// this size and cuts them into MTU frames itself (gVisor GSO), handing the
// link one frame at a time; the FIFO queue gathers them into batches.
func (l *nicLink) GSOMaxSize() uint32 { return l.gso().GSOMaxSize() }

// SupportedGSO implements stack.GSOEndpoint.
func (l *nicLink) SupportedGSO() stack.SupportedGSO { return l.gso().SupportedGSO() }

func (l *nicLink) gso() stack.GSOEndpoint { return l.LinkEndpoint.(stack.GSOEndpoint) }

// nicBatch is the most frames one receive call brings in.
const nicBatch = 64

func newNICLink(send stack.LinkEndpoint, fd int, mac tcpip.LinkAddress, mtu int, groOn bool, ended func(error)) (*nicLink, error) {
	rfd, err := unix.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("NIC: dup: %w", err)
	}
	unix.CloseOnExec(rfd)
	if err := unix.SetNonblock(rfd, true); err != nil {
		unix.Close(rfd)
		return nil, fmt.Errorf("NIC: %w", err)
	}
	f := os.NewFile(uintptr(rfd), "nic")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("NIC: %w", err)
	}
	return &nicLink{LinkEndpoint: send, file: f, raw: raw, mac: mac,
		size: mtu + header.EthernetMinimumSize, gro: groOn, ended: ended, lost: make(chan struct{})}, nil
}

// Attach implements stack.NetworkLinkEndpoint: it starts the reader for
// d, or tells it to stop when d is nil (the NIC is being removed). It does
// not wait for the reader: the stack calls it holding its lock, which a
// frame being delivered may need; Close waits.
func (l *nicLink) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d == nil {
		l.stopLocked()
		l.dispatcher = nil
		return
	}
	if l.dispatcher != nil {
		return
	}
	if l.done != nil {
		<-l.done // a reader told to stop on a detach
		_ = l.file.SetReadDeadline(time.Time{})
	}
	l.dispatcher = d
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.receive(d, l.stop, l.done)
}

// stopLocked tells the reader to end, waking a read parked in the poller.
func (l *nicLink) stopLocked() {
	if l.stop == nil {
		return
	}
	close(l.stop)
	l.stop = nil
	_ = l.file.SetReadDeadline(time.Unix(1, 0))
}

// IsAttached implements stack.NetworkLinkEndpoint.
func (l *nicLink) IsAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dispatcher != nil
}

// Wait implements stack.NetworkLinkEndpoint. It does not wait: the stack
// calls it holding its lock, which the reader may need to finish a frame.
// Close, which the stack calls after releasing the lock, waits instead.
func (l *nicLink) Wait() {}

// waitReader waits for the last reader to end.
func (l *nicLink) waitReader() {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Close implements stack.NetworkLinkEndpoint: it stops reception and
// closes the reading descriptor (the sending one is the Host's).
func (l *nicLink) Close() {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.stopLocked()
		l.mu.Unlock()
		l.waitReader()
		l.file.Close()
		l.LinkEndpoint.Close()
	})
}

// end reports that reception ended on its own.
func (l *nicLink) end(err error) {
	l.ended(err)
	close(l.lost)
}

// receive is the reader: batches of frames from the socket to the stack
// until stopped, the link closes, or a read fails.
func (l *nicLink) receive(d stack.NetworkDispatcher, stop, done chan struct{}) {
	defer close(done)
	b := mmsg.NewBatch(nicBatch, l.size)
	var g gro.GRO
	g.Init(l.gro)
	g.Dispatcher = d
	for {
		n, err := b.Wait(l.raw)
		select {
		case <-stop:
			return
		default:
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // a stop's wake-up, seen above once stop is closed
			}
			l.end(err)
			return
		}
		if n > 0 && len(b.Frame(0)) == 0 && mmsg.HungUp(l.raw) {
			l.end(errLinkClosed) // reads of nothing at the end: the switch closed the link
			return
		}
		l.deliver(&g, b, n)
		// Let the goroutines the batch woke (an accept, a blocked recv)
		// run before reading on: under a steady stream the reader would
		// otherwise keep its P until preempted, and a listener's accept
		// queue can overflow meanwhile.
		runtime.Gosched()
	}
}

var errLinkClosed = errors.New("the switch closed the link")

// deliver hands n received frames to the stack: Ethernet header parsed,
// frames for another unicast address dropped, TCP segments coalesced.
func (l *nicLink) deliver(g *gro.GRO, b *mmsg.Batch, n int) {
	for i := range n {
		frame := b.Frame(i)
		if len(frame) < header.EthernetMinimumSize || b.Truncated(i) {
			continue // runt, or longer than the MTU allows
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
		if l.LinkEndpoint.ParseHeader(pkt) && l.forUs(pkt) {
			pkt.RXChecksumValidated = l.Capabilities()&stack.CapabilityRXChecksumOffload != 0
			g.Enqueue(pkt)
		}
		pkt.DecRef()
	}
	g.Flush()
}

// forUs reports a frame sent to this NIC's address or to a group
// (broadcast, multicast).
func (l *nicLink) forUs(pkt *stack.PacketBuffer) bool {
	dst := header.Ethernet(pkt.LinkHeader().Slice()).DestinationAddress()
	return dst == l.mac || dst[0]&0x01 == 1
}
