package tls

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"

	"capsim/api/capsim/socket"
)

// countingBackend is an osBackend that counts the Sends it is asked for.
type countingBackend struct {
	*osBackend
	sends atomic.Int32
}

func (b *countingBackend) Send(ctx context.Context, fd int32, data []byte, flags uint32) (uint32, error) {
	b.sends.Add(1)
	return b.osBackend.Send(ctx, fd, data, flags)
}

// TestTerminatorBulkBatching: one client Send of 512 KiB (32 TLS records)
// leaves the terminator in at most two downstream Sends, and the peer's
// terminator hands its client several records per Recv (read-ahead and
// fill gathering what has arrived), with every byte intact.
func TestTerminatorBulkBatching(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	srvApp, _ := terminatorApp(t, f.serverConfig("cloud", false), 7)
	down := &countingBackend{osBackend: newOSBackend(t)}
	cliApp := socketClient(NewTerminator(f.config("--ca", "ca.pem"), socketClient(down, 100, "tls"), nil), 1, "app")

	lfd, port := listenVia(t, ctx, srvApp, sockStream)
	accepted := make(chan int32, 1)
	go func() {
		fd, _, err := srvApp.Accept(ctx, lfd, 0)
		if err != nil {
			t.Error(err)
		}
		accepted <- fd
	}()
	cfd, err := dialVia(ctx, cliApp, "cloud", port, nil)
	if err != nil {
		t.Fatal(err)
	}
	sfd := <-accepted

	msg := bytes.Repeat([]byte("0123456789abcdef"), 32<<10) // 512 KiB
	before := down.sends.Load()
	if n, err := cliApp.Send(ctx, cfd, msg, 0); err != nil || int(n) != len(msg) {
		t.Fatalf("send = %d, %v", n, err)
	}
	if sends := down.sends.Load() - before; sends > 2 {
		t.Errorf("512 KiB went out in %d downstream Sends, want at most 2 (one per MaxData)", sends)
	}
	if err := cliApp.Shutdown(ctx, cfd, shutWr); err != nil {
		t.Fatal(err)
	}
	var got []byte
	recvs := 0
	for {
		data, err := srvApp.Recv(ctx, sfd, socket.MaxData, 0)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if len(data) == 0 {
			break
		}
		recvs++
		got = append(got, data...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("server got %d bytes, want the %d sent", len(got), len(msg))
	}
	if recvs >= 16 {
		t.Errorf("512 KiB took %d Recvs, want several 16 KiB records per Recv", recvs)
	}
}
