package kernel

import (
	"encoding/binary"
	"errors"
	"syscall"
	"time"

	"capsim/idl"
	"capsim/ipc"
	"capsim/policy"
)

// Kernel endpoints (RIIDs) and methods (MIDs), in the order of
// idl/kl/core/Core.edl and its interfaces.
const (
	epLocator = 0
	epHandles = 1
	epTasks   = 2

	mConnect  = 0
	mEndpoint = 1
	mClose    = 0
	mDup      = 1
	mExit     = 0

	// EndpointSecurity addresses, on handle 0, the caller's own security
	// interface (its EDL's `security`): the kernel decides a security event
	// and replies OK when granted, Denied otherwise.
	EndpointSecurity = 0xffff
)

var coreNames = [...]struct {
	ep, iface string
	methods   []string
}{
	{"locator", "kl.core.Locator", []string{"Connect", "Endpoint"}},
	{"handles", "kl.core.Handles", []string{"Close", "Dup"}},
	{"tasks", "kl.core.Tasks", []string{"Exit"}},
}

func (k *Kernel) resolveCore(ep, mid uint16) (target, error) {
	if k.core != nil {
		return resolveIn(k.core, ep, mid)
	}
	if int(ep) >= len(coreNames) || int(mid) >= len(coreNames[ep].methods) {
		return target{}, errors.New("kl.core.Core has no such endpoint or method")
	}
	n := coreNames[ep]
	return target{endpoint: ep, method: mid, epName: n.ep, ifName: n.iface, mName: n.methods[mid]}, nil
}

// kernelReply is the outcome of a kernel service call.
type kernelReply struct {
	status  ipc.Status // OK or AppError
	payload []byte
	slots   []ipc.Slot
	after   func()  // runs once the reply is sent
	reason  string  // traced on the reply ("no such channel: ID")
	fresh   *handle // made by the call (Connect, Dup); revoked if the reply is denied or lost
}

// made is the handle the call made, as a list for untransfer.
func (r kernelReply) made() []*handle {
	if r.fresh == nil {
		return nil
	}
	return []*handle{r.fresh}
}

// kernelCall serves a call on handle 0: a request to kl.core.Core, decided
// by the policy like any other.
func (k *Kernel) kernelCall(p *process, f *ipc.Frame) {
	if f.Endpoint == EndpointSecurity {
		k.securityCall(p, f)
		return
	}
	start := time.Now()
	rec := &Record{Kind: "request", Src: p.task.spec.Task, Dst: CoreTask, SrcClass: p.task.spec.Class, DstClass: CoreClass,
		SrcSID: uint64(p.sid), DstSID: uint64(coreSID), Txn: f.Txn, Bytes: len(f.Payload)}
	deny := func(st ipc.Status, reason string) {
		rec.Decision, rec.Reason = "deny", reason
		k.emit(rec)
		k.replyStatus(p, f.Txn, st, reason)
	}
	tg, err := k.resolveCore(f.Endpoint, f.Method)
	if err != nil {
		deny(ipc.Invalid, "invalid message: "+err.Error())
		return
	}
	rec.Endpoint, rec.Interface, rec.Method = tg.epName, tg.ifName, tg.mName
	if len(f.Slots) != 0 {
		deny(ipc.Invalid, "invalid message: kernel calls carry no handles")
		return
	}
	var msg *idl.StructValue
	if tg.m != nil {
		if msg, err = decodeParams(tg.m.In, f.Payload, 0); err != nil {
			deny(ipc.Invalid, "invalid message: "+err.Error())
			return
		}
	}
	args, err := decodeCoreArgs(f.Endpoint, f.Method, f.Payload)
	if err != nil {
		deny(ipc.Invalid, "invalid message: "+err.Error())
		return
	}
	ev := &policy.Event{Kind: policy.Request,
		Src: policy.Subject{Class: p.task.spec.Class, SID: p.sid}, Dst: policy.Subject{Class: CoreClass, SID: coreSID},
		Endpoint: tg.epName, Interface: tg.ifName, Method: tg.m, Message: msg}
	dc := decideCtx{src: p.task}
	if f.Endpoint == epLocator && f.Method == mConnect {
		dc.connectID = &args.id
	}
	d := k.decide(ev, dc)
	k.emitDecision(rec, ev, d)
	if !d.Grant {
		k.replyStatus(p, f.Txn, ipc.Denied, d.Reason)
		return
	}
	r := k.serveCore(p, f.Endpoint, f.Method, args)
	k.replyCore(p, f, tg, r, start)
}

// coreArgs are the decoded in parameters of a kernel call.
type coreArgs struct {
	id     string // Connect
	handle uint32 // Endpoint (channel), Close, Dup
	name   string // Endpoint
	rights uint32 // Dup
	code   int32  // Exit
}

var errPayload = errors.New("payload does not match the method's parameters")

func decodeCoreArgs(ep, mid uint16, b []byte) (a coreArgs, err error) {
	d := wireReader{b: b}
	switch {
	case ep == epLocator && mid == mConnect:
		a.id = d.str(64)
	case ep == epLocator && mid == mEndpoint:
		a.handle = d.u32()
		a.name = d.str(128)
	case ep == epHandles && mid == mClose:
		a.handle = d.u32()
	case ep == epHandles && mid == mDup:
		a.handle = d.u32()
		a.rights = d.u32()
	case ep == epTasks && mid == mExit:
		a.code = int32(d.u32())
	}
	if d.bad || len(d.b) != 0 {
		return a, errPayload
	}
	return a, nil
}

// wireReader reads the few IDL types kernel calls use.
type wireReader struct {
	b   []byte
	bad bool
}

func (r *wireReader) u32() uint32 {
	if len(r.b) < 4 {
		r.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *wireReader) str(bound int) string {
	n := r.u32()
	if r.bad || int64(n) > int64(len(r.b)) || int(n) > bound {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func errnoPayload(e syscall.Errno) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(e)) }

// handleLimitReply answers a Connect or Dup that would take the caller
// past its handle limit.
var handleLimitReply = kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.EMFILE), reason: "limit: handles"}

// serveCore performs a granted kernel call.
func (k *Kernel) serveCore(p *process, ep, mid uint16, a coreArgs) kernelReply {
	switch {
	case ep == epLocator && mid == mConnect:
		ch := p.task.conns[a.id]
		if ch == nil {
			return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.ENOENT), reason: "no such channel: " + a.id}
		}
		k.hmu.Lock()
		if !p.handles.hasRoom(1, p.task.limits.Handles) {
			k.hmu.Unlock()
			return handleLimitReply
		}
		h := p.handles.add(p, ch, ipc.RightsAll, nil)
		k.hmu.Unlock()
		return kernelReply{payload: binary.LittleEndian.AppendUint32(nil, 0), slots: []ipc.Slot{{Handle: h.num, Rights: h.rights}}, fresh: h}
	case ep == epLocator && mid == mEndpoint:
		return k.serveEndpoint(p, a)
	case ep == epHandles && mid == mClose:
		k.hmu.Lock()
		defer k.hmu.Unlock()
		h := p.handles.handles[ipc.Handle(a.handle)]
		if h == nil {
			return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.EBADF), reason: "bad handle"}
		}
		revoke(h)
		return kernelReply{}
	case ep == epHandles && mid == mDup:
		k.hmu.Lock()
		defer k.hmu.Unlock()
		h := p.handles.handles[ipc.Handle(a.handle)]
		if h == nil {
			return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.EBADF), reason: "bad handle"}
		}
		if h.rights&ipc.RightDup == 0 || ipc.Rights(a.rights)&^h.rights != 0 {
			return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.EPERM), reason: "bad handle"}
		}
		if !p.handles.hasRoom(1, p.task.limits.Handles) {
			return handleLimitReply
		}
		nh := p.handles.add(p, h.obj, ipc.Rights(a.rights), h)
		return kernelReply{payload: binary.LittleEndian.AppendUint32(nil, uint32(nh.num)), fresh: nh}
	case ep == epTasks && mid == mExit:
		return kernelReply{after: p.kill}
	}
	return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.ENOSYS)}
}

// serveEndpoint finds the RIID of an endpoint, by endpoint name or else by
// interface name, on the server a channel handle reaches.
func (k *Kernel) serveEndpoint(p *process, a coreArgs) kernelReply {
	k.hmu.RLock()
	h := p.handles.handles[ipc.Handle(a.handle)]
	k.hmu.RUnlock()
	var ch *channel
	if h != nil {
		ch, _ = h.obj.(*channel)
	}
	if ch == nil {
		return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.EBADF), reason: "bad handle"}
	}
	c := ch.server.class
	if c == nil {
		return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.ENOENT)}
	}
	for _, byIface := range []bool{false, true} {
		for _, e := range c.Endpoints {
			if (!byIface && e.Name == a.name) || (byIface && e.Interface.Name == a.name) {
				return kernelReply{payload: binary.LittleEndian.AppendUint16(nil, uint16(e.ID))}
			}
		}
	}
	return kernelReply{status: ipc.AppError, payload: errnoPayload(syscall.ENOENT), reason: "no such endpoint: " + a.name}
}

// replyCore decides and sends the kernel's reply to a kernel call.
func (k *Kernel) replyCore(p *process, f *ipc.Frame, tg target, r kernelReply, start time.Time) {
	kind, evKind := "response", policy.Response
	var params *idl.Type
	if tg.m != nil {
		params = tg.m.Out
	}
	if r.status == ipc.AppError {
		kind, evKind = "error", policy.Error
		if tg.m != nil {
			params = tg.m.Err
		}
	}
	rec := &Record{Kind: kind, Src: CoreTask, Dst: p.task.spec.Task, SrcClass: CoreClass, DstClass: p.task.spec.Class,
		SrcSID: uint64(coreSID), DstSID: uint64(p.sid), Endpoint: tg.epName, Interface: tg.ifName, Method: tg.mName,
		Txn: f.Txn, Bytes: len(r.payload), LatencyNS: time.Since(start).Nanoseconds()}
	var msg *idl.StructValue
	if params != nil {
		msg, _ = decodeParams(params, r.payload, len(r.slots))
	}
	ev := &policy.Event{Kind: evKind, Src: policy.Subject{Class: CoreClass, SID: coreSID},
		Dst: policy.Subject{Class: p.task.spec.Class, SID: p.sid}, Endpoint: tg.epName, Interface: tg.ifName, Method: tg.m, Message: msg}
	d := k.decide(ev, decideCtx{dst: p.task})
	rec.Reason = r.reason // an error the kernel answers with ("no such channel: ID")
	if evKind == policy.Error {
		rec.Errno = errnoOf(msg)
	}
	k.emitDecision(rec, ev, d)
	if !d.Grant {
		k.untransfer(r.made()) // a handle the caller may not learn of
		k.replyStatus(p, f.Txn, ipc.Denied, d.Reason)
		return
	}
	if err := p.conn.send(ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: f.Txn, Endpoint: f.Endpoint, Method: f.Method, Status: r.status}, r.slots, r.payload)); err != nil {
		// Not delivered: the caller never learns of the new handle, so it
		// must not hold it (and count it toward limits.handles).
		k.untransfer(r.made())
		_, reason := undelivered(err)
		k.emit(refusal(CoreTask, CoreClass, p.task, tg, f.Txn, reason))
		return
	}
	if r.after != nil {
		r.after()
	}
}

// reap cleans up after a process that ended: its callers get "peer gone",
// its own calls are cancelled at their servers, its handles (and all
// derived from them) are revoked.
func (k *Kernel) reap(p *process) {
	p.mu.Lock()
	p.dead = true
	serving := make([]*call, 0, len(p.pending))
	for _, c := range p.pending {
		serving = append(serving, c)
	}
	calling := make([]*call, 0, len(p.outgoing))
	for _, c := range p.outgoing {
		calling = append(calling, c)
	}
	p.mu.Unlock()
	for _, c := range serving {
		if k.unregister(c) {
			k.emit(refusal(p.task.spec.Task, p.task.spec.Class, c.client.task, c.target, c.clientTxn, "peer gone"))
			k.replyStatus(c.client, c.clientTxn, ipc.PeerGone, "peer gone")
		}
	}
	for _, c := range calling {
		if k.unregister(c) {
			k.sendCancel(c)
		}
	}
	k.hmu.Lock()
	p.handles.revokeAll()
	k.hmu.Unlock()
	p.conn.close()
	k.announceGone(p.task)
}

// announceGone tells every server that knew the task as a caller that it
// has ended, and forgets its badges there, so that a restarted task is a
// new caller with a new badge and no state left from the old one.
func (k *Kernel) announceGone(client *task) {
	for _, t := range k.order {
		t.mu.Lock()
		srv := t.proc
		t.mu.Unlock()
		if srv == nil {
			continue
		}
		var ids []uint32
		srv.mu.Lock()
		for _, byClient := range srv.badges {
			if id, ok := byClient[client]; ok {
				ids = append(ids, id)
				delete(byClient, client)
			}
		}
		srv.mu.Unlock()
		for _, id := range ids {
			_ = srv.conn.send(ipc.Append(nil, ipc.Header{Kind: ipc.KindGone, Handle: id}, nil, nil))
		}
	}
}

// securityCall decides a question an entity asks through its EDL's security
// interface and answers with the decision.
func (k *Kernel) securityCall(p *process, f *ipc.Frame) {
	rec := &Record{Kind: "security", Src: p.task.spec.Task, SrcClass: p.task.spec.Class, SrcSID: uint64(p.sid),
		Dst: CoreTask, DstClass: CoreClass, DstSID: uint64(coreSID), Txn: f.Txn, Bytes: len(f.Payload)}
	deny := func(st ipc.Status, reason string) {
		rec.Decision, rec.Reason = "deny", reason
		k.emit(rec)
		k.replyStatus(p, f.Txn, st, reason)
	}
	sec := (*idl.Interface)(nil)
	if p.task.class != nil {
		sec = p.task.class.Security
	}
	if sec == nil {
		deny(ipc.Invalid, "invalid message: class "+p.task.spec.Class+" has no security interface")
		return
	}
	if int(f.Method) >= len(sec.Methods) || len(f.Slots) != 0 {
		deny(ipc.Invalid, "invalid message: no such security method")
		return
	}
	m := sec.Methods[f.Method]
	rec.Interface, rec.Method = sec.Name, m.Name
	msg, err := decodeParams(m.In, f.Payload, 0)
	if err != nil {
		deny(ipc.Invalid, "invalid message: "+err.Error())
		return
	}
	ev := &policy.Event{Kind: policy.Security, Src: policy.Subject{Class: p.task.spec.Class, SID: p.sid},
		Dst: policy.Subject{Class: CoreClass, SID: coreSID}, Interface: sec.Name, Method: m, Message: msg}
	d := k.decide(ev, decideCtx{src: p.task})
	k.emitDecision(rec, ev, d)
	if !d.Grant {
		k.replyStatus(p, f.Txn, ipc.Denied, d.Reason)
		return
	}
	_ = p.conn.send(ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: f.Txn, Endpoint: f.Endpoint, Method: f.Method}, nil, nil))
}
