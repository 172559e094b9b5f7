package adversary

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"capsim/entities"
	"capsim/ipc"
)

// Kernel endpoints and methods (idl/kl/core/Core.edl).
const (
	epHandles = 1
	mClose    = 0
	mDup      = 1
)

// Echo methods (idl/demo/Echo.idl).
const (
	mPing     = 0
	mEcho     = 2
	echoMax   = 65536
	floodN    = 256
	floodSize = 1024
	bulkSize  = 60000
	// handleFloodN is more duplicates than the default handle limit.
	handleFloodN = 100000
)

// victim is the channel under attack, found on first use.
type victim struct {
	rt     *entities.Runtime
	id     string
	once   sync.Once
	h      ipc.Handle
	riid   uint16
	lookup error
}

func (v *victim) get(ctx context.Context) (ipc.Handle, uint16, error) {
	v.once.Do(func() { v.h, v.riid, v.lookup = v.rt.Lookup(ctx, v.id, "demo.Echo") })
	return v.h, v.riid, v.lookup
}

// ipcAttacks lists the attacks on the kernel's IPC through channel target.
func ipcAttacks(rt *entities.Runtime, target, dead string) []attack {
	v := &victim{rt: rt, id: target}
	on := func(f func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result) func(context.Context) Result {
		return func(ctx context.Context) Result {
			h, riid, err := v.get(ctx)
			if err != nil {
				return Result{Outcome: Error, Error: err.Error()}
			}
			return f(ctx, v, h, riid)
		}
	}
	return []attack{
		{"ipc-truncated-frame", on(truncatedFrame)},
		{"ipc-truncated-slots", on(truncatedSlots)},
		{"ipc-oversized-frame", on(oversizedFrame)},
		{"ipc-garbage-frame", on(garbageFrame)},
		{"ipc-bad-kind", on(badKind)},
		{"ipc-unknown-interface", on(func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
			return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid + 40, Payload: u32(1)}))
		})},
		{"ipc-unknown-method", on(func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
			return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: 40, Payload: u32(1)}))
		})},
		{"ipc-idl-bounds", on(func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
			p := binary.LittleEndian.AppendUint32(nil, echoMax+1)
			return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: mEcho, Payload: append(p, make([]byte, echoMax+1)...)}))
		})},
		{"ipc-idl-short", on(func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
			return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: mPing, Payload: []byte{1, 2, 3}}))
		})},
		{"ipc-forged-handle", on(func(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
			return fromCall(v.rt.Call(ctx, h+977, &ipc.Message{Endpoint: riid, Payload: u32(1)}))
		})},
		{"ipc-stale-handle", on(staleHandle)},
		{"ipc-revoked-handle", on(revokedHandle)},
		{"ipc-transfer-without-right", on(transferWithoutRight)},
		{"ipc-transfer-more-rights", on(transferMoreRights)},
		{"ipc-replay-txn", on(replayTxn)},
		{"ipc-unsolicited-reply", on(unsolicitedReply)},
		{"ipc-smuggled-handle", on(smuggledHandle)},
		{"ipc-past-deadline", on(pastDeadline)},
		{"ipc-handle-flood", on(handleFlood)},
		{"ipc-flood", on(flood)},
		{"ipc-never-read", on(neverRead)},
		{"ipc-dead-peer", func(ctx context.Context) Result { return deadPeer(ctx, rt, dead) }},
	}
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// fromCall classifies a call's outcome: a kernel refusal (bad handle,
// invalid message, policy, limit, peer gone) is a denial; an answer from
// the server is a success of the attack.
func fromCall(m *ipc.Message, err error) Result {
	if err == nil {
		return Result{Outcome: Succeeded, Error: fmt.Sprintf("the server answered (status %v)", m.Status)}
	}
	switch st := ipc.StatusOf(err); st {
	case ipc.Denied, ipc.BadHandle, ipc.Invalid, ipc.Limit, ipc.PeerGone, ipc.DeadlineExceeded:
		return Result{Outcome: Denied, Errno: st.String(), Error: err.Error()}
	}
	return Result{Outcome: Error, Error: err.Error()}
}

// alive checks, after a frame the kernel answers with silence, that the
// kernel still serves this entity: the attack then counts as denied.
func alive(ctx context.Context, v *victim, h ipc.Handle, riid uint16, what string) Result {
	m, err := v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: mPing, Payload: u32(41)})
	if err != nil {
		return Result{Outcome: Succeeded, Error: "the kernel stopped serving: " + err.Error()}
	}
	if m.Status != ipc.OK || len(m.Payload) != 4 || binary.LittleEndian.Uint32(m.Payload) != 42 {
		return Result{Outcome: Succeeded, Error: "the kernel garbled a later call"}
	}
	return Result{Outcome: Denied, Error: what + "; the kernel still serves"}
}

func callFrame(v *victim, h ipc.Handle, riid, method uint16, slots []ipc.Slot, payload []byte) []byte {
	return ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(h), Txn: v.rt.NextTxn(), Endpoint: riid, Method: method}, slots, payload)
}

func truncatedFrame(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	b := callFrame(v, h, riid, mPing, nil, u32(1))
	if _, err := v.rt.CallRaw(ctx, b[:ipc.HeaderSize-5]); err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	return alive(ctx, v, h, riid, "a frame shorter than its header was dropped")
}

func truncatedSlots(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	b := callFrame(v, h, riid, mPing, nil, u32(1))
	binary.LittleEndian.PutUint16(b[2:], 9) // nine handle slots that are not there
	return fromCall(v.rt.CallRaw(ctx, b))
}

// oversizedFrame sends frames past the message limit, from 64 KiB (a
// scenario's small limit) to the default 4 MiB: each must be refused, by
// the kernel ("limit: message") or by the socket itself.
func oversizedFrame(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	var seen []string
	r := Result{Outcome: Denied}
	for _, n := range []int{64<<10 + 64, 1<<20 + 64, ipc.DefaultMaxMessage + 64} {
		m, err := v.rt.CallRaw(ctx, callFrame(v, h, riid, mEcho, nil, make([]byte, n)))
		if err != nil && ipc.StatusOf(err) == ipc.OK {
			seen = append(seen, fmt.Sprintf("%d bytes: the socket refused (%v)", n, err))
			continue
		}
		one := fromCall(m, err)
		if one.Outcome != Denied {
			return one
		}
		r.Errno = one.Errno
		seen = append(seen, fmt.Sprintf("%d bytes: %s", n, one.Error))
	}
	r.Error = strings.Join(seen, "; ")
	return r
}

func garbageFrame(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	b := make([]byte, 200)
	for i := range b {
		b[i] = byte(i*151 + 7)
	}
	b[0], b[1] = byte(ipc.KindCall), 0
	binary.LittleEndian.PutUint16(b[2:], 0)
	binary.LittleEndian.PutUint64(b[8:], v.rt.NextTxn())
	return fromCall(v.rt.CallRaw(ctx, b))
}

func badKind(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	for _, k := range []ipc.Kind{ipc.KindInvalid, ipc.KindCancel + 0, ipc.KindBadge, 200} {
		b := callFrame(v, h, riid, mPing, nil, u32(1))
		b[0] = byte(k)
		if _, err := v.rt.CallRaw(ctx, b); err != nil {
			return Result{Outcome: Error, Error: err.Error()}
		}
	}
	return alive(ctx, v, h, riid, "frames of kinds invalid, cancel, badge and 200 were dropped")
}

// kernelCall calls a kernel service.
func kernelCall(ctx context.Context, rt *entities.Runtime, ep, method uint16, args ...uint32) (*ipc.Message, error) {
	var p []byte
	for _, a := range args {
		p = binary.LittleEndian.AppendUint32(p, a)
	}
	return rt.Call(ctx, ipc.KernelHandle, &ipc.Message{Endpoint: ep, Method: method, Payload: p})
}

func dup(ctx context.Context, rt *entities.Runtime, h ipc.Handle, rights ipc.Rights) (ipc.Handle, error) {
	m, err := kernelCall(ctx, rt, epHandles, mDup, uint32(h), uint32(rights))
	if err != nil {
		return 0, fmt.Errorf("dup: %w", err)
	}
	if m.Status != ipc.OK || len(m.Payload) != 4 {
		return 0, fmt.Errorf("dup: kernel answered status %v", m.Status)
	}
	return ipc.Handle(binary.LittleEndian.Uint32(m.Payload)), nil
}

func closeHandle(ctx context.Context, rt *entities.Runtime, h ipc.Handle) error {
	m, err := kernelCall(ctx, rt, epHandles, mClose, uint32(h))
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if m.Status != ipc.OK {
		return fmt.Errorf("close: kernel answered status %v", m.Status)
	}
	return nil
}

// staleHandle calls through a handle after closing it.
func staleHandle(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	h2, err := dup(ctx, v.rt, h, ipc.RightCall)
	if err == nil {
		err = closeHandle(ctx, v.rt, h2)
	}
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	return fromCall(v.rt.Call(ctx, h2, &ipc.Message{Endpoint: riid, Payload: u32(1)}))
}

// revokedHandle calls through a handle derived from one that was closed:
// closing a handle revokes everything derived from it.
func revokedHandle(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	parent, err := dup(ctx, v.rt, h, ipc.RightCall|ipc.RightDup)
	var child ipc.Handle
	if err == nil {
		child, err = dup(ctx, v.rt, parent, ipc.RightCall)
	}
	if err == nil {
		err = closeHandle(ctx, v.rt, parent)
	}
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	return fromCall(v.rt.Call(ctx, child, &ipc.Message{Endpoint: riid, Payload: u32(1)}))
}

func transferWithoutRight(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	h2, err := dup(ctx, v.rt, h, ipc.RightCall)
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	slots := []ipc.Slot{{Handle: h2, Rights: ipc.RightCall}}
	return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: u32(1), Handles: slots}))
}

func transferMoreRights(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	h2, err := dup(ctx, v.rt, h, ipc.RightCall|ipc.RightTransfer)
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	slots := []ipc.Slot{{Handle: h2, Rights: ipc.RightsAll}}
	return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: u32(1), Handles: slots}))
}

// replayTxn sends replies carrying transaction ids the kernel may have
// given other callers' calls: it holds no call, so each must be dropped.
func replayTxn(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	for txn := uint64(1); txn <= 512; txn++ {
		b := ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: txn, Endpoint: riid, Method: mPing}, nil, u32(666))
		if _, err := v.rt.CallRaw(ctx, b); err != nil {
			return Result{Outcome: Error, Error: err.Error()}
		}
	}
	return alive(ctx, v, h, riid, "512 replies with other calls' transaction ids were dropped")
}

func unsolicitedReply(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	b := ipc.Append(nil, ipc.Header{Kind: ipc.KindReply, Txn: 1 << 40, Endpoint: riid, Method: mPing}, []ipc.Slot{{Handle: h, Rights: ipc.RightsAll}}, u32(666))
	if _, err := v.rt.CallRaw(ctx, b); err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	return alive(ctx, v, h, riid, "a reply to a request never received was dropped")
}

// flood sends many bulk calls at once: past the in-flight limit the kernel
// must answer "limit: inflight".
func flood(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	payload := binary.LittleEndian.AppendUint32(nil, floodSize)
	payload = append(payload, make([]byte, floodSize)...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[ipc.Status]int{}
	var other error
	for range floodN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: mEcho, Payload: payload})
			mu.Lock()
			defer mu.Unlock()
			var e *ipc.Error
			if err != nil && !errors.As(err, &e) {
				other = err
				return
			}
			counts[ipc.StatusOf(err)]++
		}()
	}
	wg.Wait()
	detail := fmt.Sprintf("%d calls: %d answered, %d limited", floodN, counts[ipc.OK], counts[ipc.Limit])
	switch {
	case other != nil:
		return Result{Outcome: Error, Error: detail + ": " + other.Error()}
	case counts[ipc.Limit] > 0:
		return Result{Outcome: Denied, Errno: ipc.Limit.String(), Error: detail}
	}
	return Result{Outcome: Error, Error: detail + " (the limit was not reached)"}
}

// smuggledHandle attaches a handle to Ping, whose parameters name no
// Handle: it would travel unseen by the policy's view of the message.
func smuggledHandle(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	slots := []ipc.Slot{{Handle: h, Rights: ipc.RightCall}}
	return fromCall(v.rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Method: mPing, Payload: u32(1), Handles: slots}))
}

// pastDeadline sends a call whose deadline passed long ago: delivered, it
// would sit at the server after the kernel's cancel notice.
func pastDeadline(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	b := ipc.Append(nil, ipc.Header{Kind: ipc.KindCall, Handle: uint32(h), Txn: v.rt.NextTxn(), Endpoint: riid,
		Method: mPing, Deadline: 1}, nil, u32(1))
	return fromCall(v.rt.CallRaw(ctx, b))
}

// handleFlood duplicates a handle until the kernel refuses: a handle
// table without a limit grows the kernel's memory without bound. The
// handles are closed again afterwards.
func handleFlood(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	var made []ipc.Handle
	defer func() {
		for _, d := range made {
			_ = closeHandle(ctx, v.rt, d)
		}
	}()
	for range handleFloodN {
		m, err := kernelCall(ctx, v.rt, epHandles, mDup, uint32(h), uint32(ipc.RightCall))
		switch {
		case err != nil:
			return Result{Outcome: Error, Error: err.Error()}
		case m.Status == ipc.AppError && len(m.Payload) == 4:
			errno := syscall.Errno(binary.LittleEndian.Uint32(m.Payload))
			return Result{Outcome: Denied, Errno: unix.ErrnoName(errno),
				Error: fmt.Sprintf("refused after %d duplicates: %v", len(made), errno)}
		case m.Status != ipc.OK || len(m.Payload) != 4:
			return Result{Outcome: Error, Error: fmt.Sprintf("dup: kernel answered status %v", m.Status)}
		}
		made = append(made, ipc.Handle(binary.LittleEndian.Uint32(m.Payload)))
	}
	return Result{Outcome: Succeeded, Error: fmt.Sprintf("%d duplicates, none refused", handleFloodN)}
}
