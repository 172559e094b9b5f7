package entities

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"capsim/ipc"

	"golang.org/x/sys/unix"
)

// KernelFD is the descriptor of the kernel socket in every entity.
const KernelFD = 3

// Runtime is an entity's connection to the kernel.
type Runtime struct {
	Task  string
	Class string
	Log   *slog.Logger

	sock      *os.File        // the kernel socket (non-blocking), registered with Go's poller
	rawSock   syscall.RawConn // reads and writes through the poller
	endpoints []endpointInfo
	maxFrame  int

	wmu sync.Mutex // one frame at a time on the socket
	txn atomic.Uint64

	// readMu is the reading role: whoever holds it reads the socket and
	// dispatches what arrives. A server's reader goroutine holds it for
	// good; in a pure client the goroutine waiting for a reply takes it
	// and reads its own reply, saving a goroutine hand-off per call.
	readMu     sync.Mutex
	readBuf    []byte
	readerOnce sync.Once
	leaderFree chan struct{} // a waiting caller may take the reading role

	mu       sync.Mutex
	waiting  map[uint64]chan reply
	channels map[string]ipc.Handle
	riids    map[riidKey]uint16
	badges   map[uint32]*ipc.Badge
	serving  map[uint64]context.CancelFunc
	badgeCtx map[*ipc.Badge]context.Context
	onGone   []func(*ipc.Badge)
	// replyChans recycles the one-slot channels calls wait on; a channel
	// goes back only once nothing can send on it.
	replyChans sync.Pool
	handlers   map[uint16]ipc.Handler
	early      []*ipc.Request // requests that arrived before a handler was set
	closed     chan struct{}
	err        error
}

type endpointInfo struct {
	name  string
	id    uint16
	iface string
}

type riidKey struct {
	h    ipc.Handle
	name string
}

type reply struct {
	m   *ipc.Message
	err error
}

// Open connects to the kernel through descriptor 3 and reads the entity's
// identity from its environment. It fails outside an entity.
func Open() (*Runtime, error) {
	typ, err := unix.GetsockoptInt(KernelFD, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil || typ != unix.SOCK_SEQPACKET {
		return nil, fmt.Errorf("descriptor %d is not a kernel socket: not started by the capsim kernel?", KernelFD)
	}
	unix.CloseOnExec(KernelFD)
	// Reads and writes go through Go's poller, not blocking system calls:
	// a thread blocked in recvmsg keeps its P in a system call, and each
	// one wakes the runtime's monitor (sysmon), whose short sleeps then
	// cost more than the wake-up they would save (docs/BENCHMARKS.md).
	if err := unix.SetNonblock(KernelFD, true); err != nil {
		return nil, fmt.Errorf("kernel socket: %w", err)
	}
	// Not dumpable: no core dumps, and no ptrace or /proc/PID/mem access by
	// others of the same uid (exec reset what the trampoline set).
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	rt, err := newRuntime(KernelFD, os.Getenv("CAPSIM_TASK"), os.Getenv("CAPSIM_CLASS"))
	if err != nil {
		return nil, err
	}
	rt.endpoints = parseEndpoints(os.Getenv("CAPSIM_ENDPOINTS"))
	return rt, nil
}

func newRuntime(fd int, task, class string) (*Runtime, error) {
	sock := os.NewFile(uintptr(fd), "kernel socket")
	raw, err := sock.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("kernel socket: %w", err)
	}
	return &Runtime{
		Task: task, Class: class,
		sock: sock, rawSock: raw,
		Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		maxFrame: ipc.HeaderSize + ipc.MaxHandles*ipc.SlotSize + ipc.DefaultMaxMessage,
		waiting:  make(map[uint64]chan reply),
		channels: make(map[string]ipc.Handle),
		riids:    make(map[riidKey]uint16),
		badges:   make(map[uint32]*ipc.Badge),
		serving:  make(map[uint64]context.CancelFunc),
		handlers: make(map[uint16]ipc.Handler),
		closed:   make(chan struct{}),

		replyChans: sync.Pool{New: func() any { return make(chan reply, 1) }},
		leaderFree: make(chan struct{}, 1),
	}, nil
}

// parseEndpoints reads CAPSIM_ENDPOINTS: "name=ID:interface,...".
func parseEndpoints(s string) []endpointInfo {
	var eps []endpointInfo
	for _, item := range strings.Split(s, ",") {
		name, rest, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		id, iface, _ := strings.Cut(rest, ":")
		n, err := strconv.ParseUint(id, 10, 16)
		if err != nil {
			continue
		}
		eps = append(eps, endpointInfo{name: name, id: uint16(n), iface: iface})
	}
	return eps
}

// Done is closed when the kernel connection ends.
func (rt *Runtime) Done() <-chan struct{} { return rt.closed }

// send writes one frame.
func (rt *Runtime) send(b []byte) error {
	rt.wmu.Lock()
	defer rt.wmu.Unlock()
	return rt.write(func(fd int) error { return ipc.SendFrame(fd, b, nil) })
}

// write runs one non-blocking send, waiting in the poller while the socket
// is full. Call with wmu held.
func (rt *Runtime) write(send func(fd int) error) error {
	var err error
	werr := rt.rawSock.Write(func(fd uintptr) bool {
		err = send(int(fd))
		return err != unix.EAGAIN && err != unix.ENOBUFS
	})
	if werr != nil {
		return werr
	}
	return err
}

// sendFrame writes the frame of hdr, slots and payload as one message,
// gathering the header and the payload (sendmsg with two iovecs) instead
// of copying a payload of up to a megabyte into a new buffer first.
func (rt *Runtime) sendFrame(hdr ipc.Header, slots []ipc.Slot, payload []byte) error {
	var space [ipc.HeaderSize + 4*ipc.SlotSize]byte
	head := ipc.Append(space[:0], hdr, slots, nil)
	if len(payload) == 0 {
		return rt.send(head)
	}
	rt.wmu.Lock()
	defer rt.wmu.Unlock()
	return rt.write(func(fd int) error { return ipc.SendFrame(fd, head, payload) })
}

// Call implements ipc.Caller: it sends a call on channel handle h and waits
// for the reply, the context's end, or the kernel's answer. The context's
// deadline travels with the call, so the kernel enforces it too.
func (rt *Runtime) Call(ctx context.Context, h ipc.Handle, m *ipc.Message) (*ipc.Message, error) {
	txn := rt.txn.Add(1)
	ch := rt.replyChans.Get().(chan reply)
	rt.mu.Lock()
	if rt.err != nil {
		rt.mu.Unlock()
		return nil, rt.err
	}
	rt.waiting[txn] = ch
	rt.mu.Unlock()
	var deadline int64
	if d, ok := ctx.Deadline(); ok {
		deadline = d.UnixNano()
	}
	hdr := ipc.Header{Kind: ipc.KindCall, Handle: uint32(h), Txn: txn, Endpoint: m.Endpoint, Method: m.Method, Deadline: deadline}
	if err := rt.sendFrame(hdr, m.Handles, m.Payload); err != nil {
		rt.forget(txn)
		return nil, fmt.Errorf("call: %w", err)
	}
	r, ok := rt.await(ctx, ch)
	if ok {
		rt.replyChans.Put(ch)
		return r.m, r.err
	}
	if rt.forget(txn) {
		_ = rt.send(ipc.Append(nil, ipc.Header{Kind: ipc.KindCancel, Txn: txn}, nil, nil))
		rt.replyChans.Put(ch) // nothing will be sent on it any more
	}
	return nil, ctx.Err()
}

// await waits for the reply on ch; ok is false when ctx ended first. When
// no one reads the socket, the caller takes the reading role itself.
func (rt *Runtime) await(ctx context.Context, ch chan reply) (reply, bool) {
	for {
		select {
		case r := <-ch:
			return r, true
		default:
		}
		if rt.readMu.TryLock() {
			r, ok := rt.lead(ctx, ch)
			rt.readMu.Unlock()
			select { // another caller may be waiting to read
			case rt.leaderFree <- struct{}{}:
			default:
			}
			return r, ok
		}
		select {
		case r := <-ch:
			return r, true
		case <-rt.leaderFree:
		case <-ctx.Done():
			return reply{}, false
		}
	}
}

// lead reads and dispatches frames until ch has the reply or ctx ends. A
// read parked in the poller is woken by a past deadline when ctx ends.
func (rt *Runtime) lead(ctx context.Context, ch chan reply) (reply, bool) {
	if ctx.Done() != nil { // a context that can end; Background cannot
		stop := context.AfterFunc(ctx, func() { _ = rt.sock.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	for {
		select {
		case r := <-ch:
			return r, true
		default:
		}
		if ctx.Err() != nil {
			return reply{}, false
		}
		if !rt.readOne() {
			select {
			case r := <-ch: // the connection's end, as this call's error
				return r, true
			case <-ctx.Done():
				return reply{}, false
			}
		}
	}
}

// forget drops a waiting call; false when its reply already came.
func (rt *Runtime) forget(txn uint64) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, ok := rt.waiting[txn]
	delete(rt.waiting, txn)
	return ok
}

// Reply implements ipc.Responder.
func (rt *Runtime) Reply(req *ipc.Request, m *ipc.Message) error {
	rt.mu.Lock()
	cancel := rt.serving[req.Txn]
	delete(rt.serving, req.Txn)
	rt.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	hdr := ipc.Header{Kind: ipc.KindReply, Txn: req.Txn, Endpoint: req.Endpoint, Method: req.Method, Status: m.Status}
	return rt.sendFrame(hdr, m.Handles, m.Payload)
}

// startReader starts the reader goroutine a server needs (requests and
// notices arrive whether or not it is calling); it holds the reading role
// for good.
func (rt *Runtime) startReader() {
	rt.readerOnce.Do(func() {
		go func() {
			rt.readMu.Lock()
			for rt.readOne() {
			}
		}()
	})
}

// readOne reads one frame (waiting in the poller) and dispatches it. Call
// with readMu held. It returns false once the connection has ended. A read
// deadline (a leader's context ended) ends the wait with nothing read.
func (rt *Runtime) readOne() bool {
	if rt.readBuf == nil {
		rt.readBuf = make([]byte, rt.maxFrame)
	}
	var n int
	var trunc bool
	var err error
	rerr := rt.rawSock.Read(func(fd uintptr) bool {
		n, trunc, err = ipc.RecvFrame(int(fd), rt.readBuf, 0)
		return err != unix.EAGAIN
	})
	if errors.Is(rerr, os.ErrDeadlineExceeded) {
		_ = rt.sock.SetReadDeadline(time.Time{})
		return true
	}
	if rerr != nil {
		err = rerr
	}
	if err == unix.EINTR {
		return true
	}
	if err == nil && n == 0 {
		err = errors.New("kernel closed the connection")
	}
	if err == nil && trunc {
		err = errors.New("frame larger than the runtime's buffer")
	}
	if err != nil {
		rt.shutdown(&ipc.Error{Status: ipc.PeerGone, Reason: "kernel connection: " + err.Error()})
		return false
	}
	f, err := ipc.Decode(rt.readBuf[:n], 0)
	if err != nil {
		rt.Log.Warn("dropped a malformed frame from the kernel", "err", err)
		return true
	}
	rt.dispatch(f)
	return true
}

// dispatch handles one frame from the kernel. The payload is copied, since
// the read buffer is reused.
func (rt *Runtime) dispatch(f *ipc.Frame) {
	switch f.Kind {
	case ipc.KindReply:
		rt.mu.Lock()
		ch := rt.waiting[f.Txn]
		delete(rt.waiting, f.Txn)
		rt.mu.Unlock()
		if ch == nil {
			return // cancelled by its caller
		}
		if f.Status > ipc.AppError {
			ch <- reply{err: &ipc.Error{Status: f.Status, Reason: string(f.Payload)}}
			return
		}
		ch <- reply{m: &ipc.Message{Endpoint: f.Endpoint, Method: f.Method, Status: f.Status,
			Payload: append([]byte(nil), f.Payload...), Handles: f.Slots}}
	case ipc.KindBadge:
		b, err := ipc.DecodeBadge(f.Payload)
		if err != nil {
			rt.Log.Warn("malformed badge from the kernel", "err", err)
			return
		}
		rt.mu.Lock()
		rt.badges[b.ID] = b
		rt.mu.Unlock()
	case ipc.KindGone:
		rt.mu.Lock()
		b := rt.badges[f.Handle]
		delete(rt.badges, f.Handle)
		if b != nil {
			delete(rt.badgeCtx, b)
		}
		gone := rt.onGone
		rt.mu.Unlock()
		if b != nil {
			for _, fn := range gone {
				go fn(b) // a server's clean-up may call out; never in the reader
			}
		}
	case ipc.KindCancel:
		rt.mu.Lock()
		cancel := rt.serving[f.Txn]
		delete(rt.serving, f.Txn)
		rt.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	case ipc.KindCall:
		rt.mu.Lock()
		req := &ipc.Request{Txn: f.Txn, Badge: rt.badges[f.Handle], Deadline: f.Deadline,
			Message: ipc.Message{Endpoint: f.Endpoint, Method: f.Method, Payload: append([]byte(nil), f.Payload...), Handles: f.Slots}}
		h := rt.handlers[f.Endpoint]
		if h == nil {
			rt.early = append(rt.early, req)
			rt.mu.Unlock()
			return
		}
		rt.mu.Unlock()
		rt.serve(h, req)
	}
}

// serve runs a handler for one request in its own goroutine, with a
// context carrying the badge and ended by a cancel notice. Handlers may
// block (accept, recv) without stalling other requests.
func (rt *Runtime) serve(h ipc.Handler, req *ipc.Request) {
	if inl, ok := h.(inline); ok && inl.inline() {
		// A handler that never blocks needs no cancel: it is done before
		// a cancel notice could be read.
		h.Serve(rt.badgeContext(req.Badge), req, rt)
		return
	}
	ctx, cancel := context.WithCancel(ipc.WithBadge(context.Background(), req.Badge))
	rt.mu.Lock()
	rt.serving[req.Txn] = cancel
	rt.mu.Unlock()
	go h.Serve(ctx, req, rt)
}

// badgeContext returns a context carrying the badge, made once per badge.
func (rt *Runtime) badgeContext(b *ipc.Badge) context.Context {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if ctx, ok := rt.badgeCtx[b]; ok {
		return ctx
	}
	ctx := ipc.WithBadge(context.Background(), b)
	if rt.badgeCtx == nil {
		rt.badgeCtx = make(map[*ipc.Badge]context.Context)
	}
	rt.badgeCtx[b] = ctx
	return ctx
}

// inline marks handlers that never block, which the runtime then runs in
// its reader goroutine, saving a goroutine switch per request.
type inline interface{ inline() bool }

type inlineHandler struct{ ipc.Handler }

func (inlineHandler) inline() bool { return true }

// Inline wraps a handler that never blocks, so the runtime serves it in the
// goroutine that read the request.
func Inline(h ipc.Handler) ipc.Handler { return inlineHandler{h} }

func (rt *Runtime) shutdown(err error) {
	rt.mu.Lock()
	if rt.err != nil {
		rt.mu.Unlock()
		return
	}
	rt.err = err
	waiting := rt.waiting
	rt.waiting = make(map[uint64]chan reply)
	for _, cancel := range rt.serving {
		cancel()
	}
	rt.mu.Unlock()
	for _, ch := range waiting {
		ch <- reply{err: err}
	}
	close(rt.closed)
}

// Handle serves the endpoint of this entity's class that has the given
// endpoint or interface name with h. Requests that arrived before are
// served now.
func (rt *Runtime) Handle(name string, h ipc.Handler) error {
	var ids []uint16
	for _, ep := range rt.endpoints {
		if ep.name == name || ep.iface == name {
			ids = append(ids, ep.id)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("class %s has no endpoint %q (CAPSIM_ENDPOINTS)", rt.Class, name)
	}
	rt.startReader()
	rt.mu.Lock()
	for _, id := range ids {
		rt.handlers[id] = h
	}
	var now []*ipc.Request
	rest := rt.early[:0]
	for _, r := range rt.early {
		if rt.handlers[r.Endpoint] != nil {
			now = append(now, r)
		} else {
			rest = append(rest, r)
		}
	}
	rt.early = rest
	rt.mu.Unlock()
	for _, r := range now {
		rt.serve(rt.handlers[r.Endpoint], r)
	}
	return nil
}

// OnGone registers fn to run when a caller has ended (the kernel's gone
// notice): a server drops what it kept for that badge (descriptor tables,
// sessions). A restarted caller comes back under a new badge.
func (rt *Runtime) OnGone(fn func(b *ipc.Badge)) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.onGone = append(rt.onGone, fn)
}

// Serves reports whether this entity's class has an endpoint of the given
// endpoint or interface name.
func (rt *Runtime) Serves(name string) bool {
	for _, ep := range rt.endpoints {
		if ep.name == name || ep.iface == name {
			return true
		}
	}
	return false
}

// Endpoints lists the endpoint names of this entity's class.
func (rt *Runtime) Endpoints() []string {
	var names []string
	for _, ep := range rt.endpoints {
		names = append(names, ep.name)
	}
	return names
}

// Serve blocks until ctx ends or the kernel connection closes.
func (rt *Runtime) Serve(ctx context.Context) error {
	rt.startReader()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-rt.closed:
		return nil
	}
}

var _ ipc.Caller = (*Runtime)(nil)
var _ ipc.Responder = (*Runtime)(nil)

// Stdout is where a program prints what its task shows.
func (rt *Runtime) Stdout() io.Writer { return os.Stdout }

// Stderr is where a program prints its errors.
func (rt *Runtime) Stderr() io.Writer { return os.Stderr }

// CallRaw sends a frame exactly as given — however malformed — and, when
// its header is readable as a call, waits for the kernel's reply to its
// transaction id. It exists for the adversary and for tests of the kernel's
// frame handling; programs use Call.
func (rt *Runtime) CallRaw(ctx context.Context, frame []byte) (*ipc.Message, error) {
	if len(frame) < ipc.HeaderSize || ipc.Kind(frame[0]) != ipc.KindCall {
		return nil, rt.send(frame)
	}
	txn := le64(frame[8:])
	ch := make(chan reply, 1)
	rt.mu.Lock()
	rt.waiting[txn] = ch
	rt.mu.Unlock()
	if err := rt.send(frame); err != nil {
		rt.forget(txn)
		return nil, err
	}
	if r, ok := rt.await(ctx, ch); ok {
		return r.m, r.err
	}
	rt.forget(txn)
	return nil, ctx.Err()
}

// NextTxn reserves a transaction id for a frame built by hand.
func (rt *Runtime) NextTxn() uint64 { return rt.txn.Add(1) }

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
