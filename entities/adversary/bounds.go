package adversary

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"capsim/entities"
	"capsim/ipc"

	"golang.org/x/sys/unix"
)

// neverRead stops reading its kernel socket and floods the victim with
// bulk calls: the kernel may hold only a bounded amount of replies for an
// entity that does not read, and drops the rest ("limit: queued"). The
// runtime's reader is diverted to a silent socket meanwhile, and the
// kernel socket is restored at the end.
func neverRead(ctx context.Context, v *victim, h ipc.Handle, riid uint16) Result {
	raw, err := unix.Dup(entities.KernelFD)
	if err != nil {
		return fromErr(err)
	}
	defer unix.Close(raw)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fromErr(err)
	}
	if err := unix.Dup3(sp[0], entities.KernelFD, unix.O_CLOEXEC); err != nil {
		unix.Close(sp[0])
		unix.Close(sp[1])
		return fromErr(err)
	}
	defer func() {
		_ = unix.Dup3(raw, entities.KernelFD, unix.O_CLOEXEC)
		// Wake the reader, parked on the silent socket, with a frame it
		// ignores; its next read is on the kernel socket again.
		_, _ = unix.Write(sp[1], ipc.Append(nil, ipc.Header{Kind: ipc.KindReply}, nil, nil))
		time.Sleep(50 * time.Millisecond)
		unix.Close(sp[0])
		unix.Close(sp[1])
	}()
	// The reader may still be parked in a read of the kernel socket: let
	// one answer reach it.
	_ = sendRaw(raw, callFrame(v, h, riid, mPing, nil, u32(1)))
	time.Sleep(100 * time.Millisecond)
	payload := binary.LittleEndian.AppendUint32(nil, bulkSize)
	payload = append(payload, make([]byte, bulkSize)...)
	sent := 0
	for range 3 * floodN {
		if err := sendRaw(raw, callFrame(v, h, riid, mEcho, nil, payload)); err != nil {
			break
		}
		sent++
		time.Sleep(200 * time.Microsecond)
	}
	time.Sleep(500 * time.Millisecond)
	got, limited, bytes := drain(raw)
	detail := fmt.Sprintf("%d bulk calls unread: %d replies (%d KiB) held for us, %d refused as over the limit", sent, got, bytes>>10, limited)
	if got < sent {
		return Result{Outcome: Denied, Errno: ipc.Limit.String(), Error: detail + "; the rest dropped"}
	}
	return Result{Outcome: Error, Error: detail + " (nothing dropped: the queue did not fill)"}
}

// sendRaw writes one frame, retrying while the socket is full.
func sendRaw(fd int, b []byte) error {
	for i := 0; ; i++ {
		err := unix.Sendmsg(fd, b, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if err == nil || i > 2000 || !(errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// drain reads every frame waiting on fd without blocking: the number of
// replies, of those refused by a limit, and their bytes.
func drain(fd int) (n, limited, bytes int) {
	buf := make([]byte, ipc.HeaderSize+ipc.MaxHandles*ipc.SlotSize+ipc.DefaultMaxMessage)
	for {
		m, _, _, _, err := unix.Recvmsg(fd, buf, nil, unix.MSG_DONTWAIT)
		if err != nil || m == 0 {
			return n, limited, bytes
		}
		f, err := ipc.Decode(buf[:m], 0)
		if err != nil || f.Kind != ipc.KindReply {
			continue
		}
		n++
		bytes += m
		if f.Status == ipc.Limit {
			limited++
		}
	}
}

// deadPeer calls through a channel whose server has exited: the kernel
// answers "peer gone" at once.
func deadPeer(ctx context.Context, rt *entities.Runtime, id string) Result {
	h, riid, err := rt.Lookup(ctx, id, "demo.Echo")
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	for {
		r := fromCall(rt.Call(ctx, h, &ipc.Message{Endpoint: riid, Payload: u32(1)}))
		if r.Outcome != Succeeded || ctx.Err() != nil {
			return r
		}
		// The peer is still alive: wait for it to die.
		select {
		case <-ctx.Done():
			return Result{Outcome: Error, Error: "the peer of " + id + " did not die"}
		case <-time.After(50 * time.Millisecond):
		}
	}
}
