package netstack

import (
	"context"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// watcher is a registration on a socket's wait queue.
type watcher struct {
	k     *sock
	entry waiter.Entry
	ch    chan struct{}
}

// watch registers for mask plus error and hang-up events. Register before
// trying the operation, so no event between try and wait is lost.
func (k *sock) watch(mask waiter.EventMask) *watcher {
	w := &watcher{k: k}
	w.entry, w.ch = waiter.NewChannelEntry(mask | waiter.EventErr | waiter.EventHUp)
	k.wq.EventRegister(&w.entry)
	return w
}

func (w *watcher) stop() { w.k.wq.EventUnregister(&w.entry) }

// wait blocks until an event, the end of ctx (ETIMEDOUT or EINTR) or the
// socket's close (EBADF).
func (w *watcher) wait(ctx context.Context) error {
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctxErrno(ctx)
	case <-w.k.done:
		return syscall.EBADF
	}
}

func wouldBlock(terr tcpip.Error) bool {
	_, ok := terr.(*tcpip.ErrWouldBlock)
	return ok
}

// block runs try until it does not report ErrWouldBlock, waiting for mask
// events in between; a non-blocking socket or dontwait gets EAGAIN.
func (k *sock) block(ctx context.Context, dontwait bool, mask waiter.EventMask, try func() tcpip.Error) error {
	terr := try()
	if !wouldBlock(terr) {
		return errOf(terr)
	}
	if dontwait || k.nonblock.Load() {
		return syscall.EAGAIN
	}
	w := k.watch(mask)
	defer w.stop()
	for {
		if terr = try(); !wouldBlock(terr) {
			return errOf(terr)
		}
		if err := w.wait(ctx); err != nil {
			return err
		}
	}
}
