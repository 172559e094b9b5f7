package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"capsim/idl"
	"capsim/ipc"
	"capsim/policy"
)

// call is one request in flight between a client process and a server.
type call struct {
	kTxn      uint64 // the kernel's id for it, what the server sees
	clientTxn uint64 // the client's own id for it
	client    *process
	server    *process
	target    target
	start     time.Time
	timer     *time.Timer
}

// target is what a call addresses: an endpoint and method of a class,
// resolved through the IDL when the kernel has it.
type target struct {
	endpoint uint16
	method   uint16
	epName   string
	ifName   string
	mName    string
	m        *idl.Method // nil without IDL
}

// handleFrame handles one frame a process sent. Nothing in it may crash the
// kernel: every malformed frame ends as an error to its sender.
func (k *Kernel) handleFrame(p *process, b []byte, trunc bool) {
	if trunc {
		k.malformed(p, b, ipc.Limit, "limit: message")
		return
	}
	f, err := ipc.Decode(b, p.task.limits.Message)
	if errors.Is(err, ipc.ErrTooLarge) {
		k.malformed(p, b, ipc.Limit, "limit: message")
		return
	}
	if err != nil {
		k.malformed(p, b, ipc.Invalid, "invalid message: "+err.Error())
		return
	}
	switch f.Kind {
	case ipc.KindCall:
		if f.Handle == uint32(ipc.KernelHandle) {
			k.kernelCall(p, f)
			return
		}
		k.call(p, f, b)
	case ipc.KindReply:
		k.reply(p, f, b)
	case ipc.KindCancel:
		k.cancelByClient(p, f.Txn)
	default:
		k.malformed(p, b, ipc.Invalid, fmt.Sprintf("invalid message: an entity may not send %s frames", f.Kind))
	}
}

// malformed answers a frame that could not be taken: a call (if its
// header says it was one) gets st with the reason; the event is traced as
// denied.
func (k *Kernel) malformed(p *process, b []byte, st ipc.Status, reason string) {
	k.emit(&Record{Kind: "request", Src: p.task.spec.Task, SrcClass: p.task.spec.Class, SrcSID: uint64(p.sid),
		Decision: "deny", Reason: reason, Bytes: len(b)})
	if len(b) >= ipc.HeaderSize && ipc.Kind(b[0]) == ipc.KindCall {
		k.replyStatus(p, binary.LittleEndian.Uint64(b[8:]), st, reason)
	}
}

// call carries a request from client p to the server its handle names.
func (k *Kernel) call(p *process, f *ipc.Frame, b []byte) {
	rec := &Record{Kind: "request", Src: p.task.spec.Task, SrcClass: p.task.spec.Class, SrcSID: uint64(p.sid),
		Txn: f.Txn, Bytes: len(f.Payload)}
	deny := func(st ipc.Status, reason string) {
		rec.Decision, rec.Reason = "deny", reason
		k.emit(rec)
		k.replyStatus(p, f.Txn, st, reason)
	}
	k.hmu.RLock()
	h := p.handles.handles[ipc.Handle(f.Handle)]
	var ch *channel
	if h != nil && h.rights&ipc.RightCall != 0 {
		ch, _ = h.obj.(*channel)
	}
	k.hmu.RUnlock()
	if ch == nil {
		deny(ipc.BadHandle, "bad handle")
		return
	}
	srvTask := ch.server
	rec.Dst, rec.DstClass = srvTask.spec.Task, srvTask.spec.Class
	srvTask.mu.Lock()
	srv := srvTask.proc
	srvTask.mu.Unlock()
	if srv == nil {
		deny(ipc.PeerGone, "peer gone")
		return
	}
	rec.DstSID = uint64(srv.sid)
	tg, err := k.resolve(srvTask, f.Endpoint, f.Method)
	if err != nil {
		deny(ipc.Invalid, "invalid message: "+err.Error())
		return
	}
	rec.Endpoint, rec.Interface, rec.Method = tg.epName, tg.ifName, tg.mName
	sids, err := k.checkSlots(p, f.Slots)
	if err != nil {
		deny(ipc.BadHandle, "bad handle")
		return
	}
	var msg *idl.StructValue
	if tg.m != nil {
		if msg, err = decodeParams(tg.m.In, f.Payload, len(f.Slots)); err != nil {
			deny(ipc.Invalid, "invalid message: "+err.Error())
			return
		}
	}
	ev := &policy.Event{Kind: policy.Request,
		Src: policy.Subject{Class: p.task.spec.Class, SID: p.sid}, Dst: policy.Subject{Class: srvTask.spec.Class, SID: srv.sid},
		Endpoint: tg.epName, Interface: tg.ifName, Method: tg.m, Message: msg, HandleSIDs: sids}
	d := k.decide(ev, decideCtx{src: p.task, dst: srvTask})
	if !d.Grant {
		k.emitDecision(rec, ev, d)
		k.replyStatus(p, f.Txn, ipc.Denied, d.Reason)
		return
	}
	c := &call{kTxn: k.txns.Add(1), clientTxn: f.Txn, client: p, server: srv, target: tg, start: time.Now()}
	if st, reason := k.register(c, f.Deadline); st != ipc.OK {
		deny(st, reason)
		return
	}
	k.emitDecision(rec, ev, d)
	// Granted, but the server may not be able to take it: the call then
	// fails at the client, traced as an error, and leaves nothing behind.
	undeliverable := func(err error) {
		if k.unregister(c) {
			st, reason := undelivered(err)
			k.emit(refusal(srvTask.spec.Task, srvTask.spec.Class, p.task, tg, f.Txn, reason))
			k.replyStatus(p, f.Txn, st, reason)
		}
	}
	badge, err := k.badge(srv, ch, p.task)
	if err != nil {
		undeliverable(err)
		return
	}
	slots, installed, err := k.transfer(p, srv, f.Slots)
	if err != nil {
		undeliverable(err)
		return
	}
	ipc.PutHeader(b, &ipc.Header{Kind: ipc.KindCall, NHandles: f.NHandles, Handle: badge, Txn: c.kTxn,
		Endpoint: f.Endpoint, Method: f.Method, Deadline: f.Deadline})
	putSlots(b, slots)
	if err := srv.conn.send(b); err != nil {
		k.untransfer(installed)
		undeliverable(err)
		return
	}
	// Armed only now: a cancel notice must never overtake its call.
	k.arm(c, f.Deadline)
}

// register records c as in flight at both ends, enforcing the client's
// in-flight limit; a call whose deadline has passed is not delivered.
func (k *Kernel) register(c *call, deadline int64) (ipc.Status, string) {
	if deadline != 0 && time.Now().UnixNano() >= deadline {
		return ipc.DeadlineExceeded, "deadline"
	}
	p, srv := c.client, c.server
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return ipc.PeerGone, "peer gone"
	}
	if _, dup := p.outgoing[c.clientTxn]; dup {
		p.mu.Unlock()
		return ipc.Invalid, "invalid message: transaction id already in flight"
	}
	if len(p.outgoing) >= p.task.limits.Inflight {
		p.mu.Unlock()
		return ipc.Limit, "limit: inflight"
	}
	p.outgoing[c.clientTxn] = c
	p.mu.Unlock()
	srv.mu.Lock()
	if srv.dead {
		srv.mu.Unlock()
		p.mu.Lock()
		delete(p.outgoing, c.clientTxn)
		p.mu.Unlock()
		return ipc.PeerGone, "peer gone"
	}
	srv.pending[c.kTxn] = c
	srv.mu.Unlock()
	return ipc.OK, ""
}

// arm starts c's deadline once its call is delivered, unless it was
// answered already.
func (k *Kernel) arm(c *call, deadline int64) {
	if deadline == 0 {
		return
	}
	p := c.client
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outgoing[c.clientTxn] == c {
		c.timer = time.AfterFunc(time.Until(time.Unix(0, deadline)), func() { k.expire(c) })
	}
}

// unregister removes c from both ends; it reports false when c was already
// gone (answered, expired or cancelled), so exactly one party finishes it.
func (k *Kernel) unregister(c *call) bool {
	srv := c.server
	srv.mu.Lock()
	_, ok := srv.pending[c.kTxn]
	delete(srv.pending, c.kTxn)
	srv.mu.Unlock()
	if !ok {
		return false
	}
	p := c.client
	p.mu.Lock()
	delete(p.outgoing, c.clientTxn)
	timer := c.timer // set by arm, under p.mu
	p.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	return true
}

// expire fails a call whose deadline passed and tells its server.
func (k *Kernel) expire(c *call) {
	if !k.unregister(c) {
		return
	}
	rec := refusal(CoreTask, CoreClass, c.client.task, c.target, c.clientTxn, "deadline")
	rec.LatencyNS = time.Since(c.start).Nanoseconds()
	k.emit(rec)
	k.replyStatus(c.client, c.clientTxn, ipc.DeadlineExceeded, "deadline")
	k.sendCancel(c)
}

// cancelByClient drops a call its client gave up on and tells the server.
func (k *Kernel) cancelByClient(p *process, txn uint64) {
	p.mu.Lock()
	c := p.outgoing[txn]
	p.mu.Unlock()
	if c == nil || !k.unregister(c) {
		return
	}
	k.sendCancel(c)
}

func (k *Kernel) sendCancel(c *call) {
	c.server.noteCancelled(c.kTxn)
	k.emit(&Record{Kind: "cancel", Src: CoreTask, Dst: c.server.task.spec.Task, SrcClass: CoreClass, DstClass: c.server.task.spec.Class,
		Endpoint: c.target.epName, Interface: c.target.ifName, Method: c.target.mName, Txn: c.kTxn})
	b := ipc.Append(nil, ipc.Header{Kind: ipc.KindCancel, Txn: c.kTxn}, nil, nil)
	_ = c.server.conn.send(b)
}

// reply carries a server's reply back to the client that called.
func (k *Kernel) reply(srv *process, f *ipc.Frame, b []byte) {
	srv.mu.Lock()
	c := srv.pending[f.Txn]
	srv.mu.Unlock()
	if c == nil && srv.wasCancelled(f.Txn) {
		// A late reply to a call the kernel cancelled: dropped, as the
		// cancel notice told the server it would be.
		k.emit(&Record{Kind: "cancel", Src: srv.task.spec.Task, SrcClass: srv.task.spec.Class, SrcSID: uint64(srv.sid),
			Reason: "late reply dropped", Txn: f.Txn, Bytes: len(f.Payload)})
		return
	}
	if c == nil {
		// A reply to nothing: a replay or a forgery. Dropped; the server
		// is not told.
		k.emit(&Record{Kind: "response", Src: srv.task.spec.Task, SrcClass: srv.task.spec.Class, SrcSID: uint64(srv.sid),
			Decision: "deny", Reason: "invalid message: reply to no call in flight", Txn: f.Txn, Bytes: len(f.Payload)})
		return
	}
	if !k.unregister(c) {
		return
	}
	p := c.client
	tg := c.target
	kind, evKind := "response", policy.Response
	var params *idl.Type
	switch f.Status {
	case ipc.OK:
		if tg.m != nil {
			params = tg.m.Out
		}
	case ipc.AppError:
		kind, evKind = "error", policy.Error
		if tg.m != nil {
			params = tg.m.Err
		}
	default:
		kind, evKind = "error", policy.Error
	}
	rec := &Record{Kind: kind, Src: srv.task.spec.Task, Dst: p.task.spec.Task, SrcClass: srv.task.spec.Class, DstClass: p.task.spec.Class,
		SrcSID: uint64(srv.sid), DstSID: uint64(p.sid), Endpoint: tg.epName, Interface: tg.ifName, Method: tg.mName,
		Txn: c.clientTxn, Bytes: len(f.Payload), LatencyNS: time.Since(c.start).Nanoseconds()}
	fail := func(st ipc.Status, reason string) {
		rec.Decision, rec.Reason = "deny", reason
		k.emit(rec)
		k.replyStatus(p, c.clientTxn, st, reason)
	}
	sids, err := k.checkSlots(srv, f.Slots)
	if err != nil {
		fail(ipc.BadHandle, "bad handle")
		return
	}
	if len(f.Slots) > 0 && f.Status != ipc.OK && f.Status != ipc.AppError {
		fail(ipc.Invalid, "invalid message: a failed reply carries no handles")
		return
	}
	var msg *idl.StructValue
	if params != nil {
		if msg, err = decodeParams(params, f.Payload, len(f.Slots)); err != nil {
			fail(ipc.Invalid, "invalid message: "+err.Error())
			return
		}
	}
	if evKind == policy.Error {
		rec.Errno = errnoOf(msg)
	}
	ev := &policy.Event{Kind: evKind,
		Src: policy.Subject{Class: srv.task.spec.Class, SID: srv.sid}, Dst: policy.Subject{Class: p.task.spec.Class, SID: p.sid},
		Endpoint: tg.epName, Interface: tg.ifName, Method: tg.m, Message: msg, HandleSIDs: sids}
	d := k.decide(ev, decideCtx{src: srv.task, dst: p.task})
	k.emitDecision(rec, ev, d)
	if !d.Grant {
		k.replyStatus(p, c.clientTxn, ipc.Denied, d.Reason)
		return
	}
	status := f.Status
	if status != ipc.OK && status != ipc.AppError {
		status = ipc.Invalid
	}
	// A client that does not read its replies, or holds too many
	// handles, only hurts itself: the reply is dropped (with any handles
	// it carried), and the trace says why.
	undeliverable := func(err error) {
		st, reason := undelivered(err)
		k.emit(refusal(srv.task.spec.Task, srv.task.spec.Class, p.task, tg, c.clientTxn, reason))
		if err == errHandleLimit {
			k.replyStatus(p, c.clientTxn, st, reason)
		}
	}
	slots, installed, err := k.transfer(srv, p, f.Slots)
	if err != nil {
		undeliverable(err)
		return
	}
	ipc.PutHeader(b, &ipc.Header{Kind: ipc.KindReply, NHandles: f.NHandles, Txn: c.clientTxn,
		Endpoint: f.Endpoint, Method: f.Method, Status: status})
	putSlots(b, slots)
	if err := p.conn.send(b); err != nil {
		k.untransfer(installed)
		undeliverable(err)
	}
}

// errnoOf names the errno an error reply carries, as the C name when it
// has one: the method's one error parameter when it is an integer, as the
// generated Go code reads it (syscall.Errno), or else an integer error
// parameter named errno. "" without one.
func errnoOf(msg *idl.StructValue) string {
	if msg == nil {
		return ""
	}
	v, _ := msg.Get("errno")
	if len(msg.Fields) == 1 {
		v = msg.Fields[0]
	}
	var n uint64
	switch v := v.(type) {
	case uint64:
		n = v
	case int64:
		if v < 0 {
			return strconv.FormatInt(v, 10)
		}
		n = uint64(v)
	default:
		return ""
	}
	if n > 0 && n < 1<<12 {
		if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
			return name
		}
	}
	return strconv.FormatUint(n, 10)
}

// replyStatus answers a call with a kernel status; the payload is the
// reason.
func (k *Kernel) replyStatus(p *process, txn uint64, st ipc.Status, reason string) {
	b := ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: txn, Status: st}, nil, []byte(reason))
	_ = p.conn.send(b)
}

func putSlots(b []byte, slots []ipc.Slot) {
	for i, s := range slots {
		o := ipc.HeaderSize + i*ipc.SlotSize
		binary.LittleEndian.PutUint32(b[o:], uint32(s.Handle))
		binary.LittleEndian.PutUint32(b[o+4:], uint32(s.Rights))
	}
}

// badge returns the badge that srv knows the connection (ch, client) by,
// introducing it to srv first if it is new. The badge counts as known only
// once its introduction was accepted for delivery: else the next call
// introduces it again.
func (k *Kernel) badge(srv *process, ch *channel, client *task) (uint32, error) {
	srv.mu.Lock()
	byClient := srv.badges[ch]
	if byClient == nil {
		byClient = make(map[*task]uint32)
		srv.badges[ch] = byClient
	}
	id, ok := byClient[client]
	if !ok {
		srv.nbadge++
		id = srv.nbadge
		byClient[client] = id
	}
	srv.mu.Unlock()
	if !ok {
		client.mu.Lock()
		var sid policy.SID
		if client.proc != nil {
			sid = client.proc.sid
		}
		client.mu.Unlock()
		b := ipc.AppendBadge(nil, &ipc.Badge{ID: id, Task: client.spec.Task, Class: client.spec.Class, SID: uint64(sid), Channel: ch.id})
		if err := srv.conn.send(ipc.Append(nil, ipc.Header{Kind: ipc.KindBadge}, nil, b)); err != nil {
			srv.mu.Lock()
			if byClient[client] == id {
				delete(byClient, client)
			}
			srv.mu.Unlock()
			return 0, err
		}
	}
	return id, nil
}

// checkSlots checks that every handle a message carries is the sender's,
// may be transferred, and passes no more rights than it has. It returns
// the SIDs of the objects, for the policy.
func (k *Kernel) checkSlots(p *process, slots []ipc.Slot) ([]policy.SID, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	k.hmu.RLock()
	defer k.hmu.RUnlock()
	sids := make([]policy.SID, len(slots))
	for i, s := range slots {
		h := p.handles.handles[s.Handle]
		if h == nil || h.rights&ipc.RightTransfer == 0 || s.Rights&^h.rights != 0 {
			return nil, fmt.Errorf("slot %d: bad handle", i)
		}
		sids[i] = h.obj.sid()
	}
	return sids, nil
}

// transfer installs in to's table a child of each handle from sends, with
// the rights the slot asks for, and returns the receiver's slots and the
// handles installed (to take back with untransfer if the message is not
// delivered). It fails, installing nothing, when to's table has no room.
func (k *Kernel) transfer(from, to *process, slots []ipc.Slot) ([]ipc.Slot, []*handle, error) {
	if len(slots) == 0 {
		return nil, nil, nil
	}
	k.hmu.Lock()
	defer k.hmu.Unlock()
	if !to.handles.hasRoom(len(slots), to.task.limits.Handles) {
		return nil, nil, errHandleLimit
	}
	out := make([]ipc.Slot, len(slots))
	installed := make([]*handle, 0, len(slots))
	for i, s := range slots {
		h := from.handles.handles[s.Handle]
		if h == nil { // revoked since checkSlots: the receiver gets nothing usable
			continue
		}
		nh := to.handles.add(to, h.obj, s.Rights, h)
		installed = append(installed, nh)
		out[i] = ipc.Slot{Handle: nh.num, Rights: nh.rights}
	}
	return out, installed, nil
}

// untransfer takes back handles the kernel gave for a message that was not
// delivered (or a kernel reply that was denied): the receiver never
// learns of them, so it must not hold them.
func (k *Kernel) untransfer(hs []*handle) {
	if len(hs) == 0 {
		return
	}
	k.hmu.Lock()
	defer k.hmu.Unlock()
	for _, h := range hs {
		revoke(h)
	}
}

// refusal is the trace record of a message from src (a task, or the
// kernel) to dst about target tg that the kernel refused or could not
// deliver, and why.
func refusal(src, srcClass string, dst *task, tg target, txn uint64, reason string) *Record {
	return &Record{Kind: "error", Src: src, Dst: dst.spec.Task, SrcClass: srcClass, DstClass: dst.spec.Class,
		Endpoint: tg.epName, Interface: tg.ifName, Method: tg.mName, Decision: "deny", Reason: reason, Txn: txn}
}

// errHandleLimit is a receiver's full handle table.
var errHandleLimit = errors.New("limit: handles")

// undelivered is the status and reason for a message the kernel could
// not hand to its receiver.
func undelivered(err error) (ipc.Status, string) {
	switch err {
	case errQueueFull:
		return ipc.Limit, "limit: queued"
	case errHandleLimit:
		return ipc.Limit, "limit: handles"
	}
	return ipc.PeerGone, "peer gone"
}

// cancelMemory is how many cancelled calls a process remembers, to tell a
// late reply from a forged one.
const cancelMemory = 1024

// noteCancelled remembers that the call txn delivered to p was cancelled.
func (p *process) noteCancelled(txn uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancelled == nil {
		p.cancelled = make(map[uint64]struct{})
	}
	if len(p.cancelOrder) >= cancelMemory {
		delete(p.cancelled, p.cancelOrder[0])
		p.cancelOrder = p.cancelOrder[1:]
	}
	p.cancelled[txn] = struct{}{}
	p.cancelOrder = append(p.cancelOrder, txn)
}

// wasCancelled reports (once) whether txn is a call the kernel cancelled.
func (p *process) wasCancelled(txn uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.cancelled[txn]; ok {
		delete(p.cancelled, txn)
		return true
	}
	return false
}
