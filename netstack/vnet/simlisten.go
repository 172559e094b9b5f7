package vnet

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// errListenerClosed is returned by simListener.accept after close.
var errListenerClosed = errors.New("listener closed")

// simListener is a TCP listener on the gateway stack that can refuse a
// connection with a reset before it becomes a net.Conn (gonet's listener
// can only close, which sends a FIN).
type simListener struct {
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	cancel chan struct{}
	once   sync.Once
}

func listenSimTCP(s *stack.Stack, ap netip.AddrPort) (*simListener, error) {
	full, proto := fullAddr(ap)
	var wq waiter.Queue
	ep, terr := s.NewEndpoint(tcp.ProtocolNumber, proto, &wq)
	if terr != nil {
		return nil, fmt.Errorf("endpoint: %s", terr)
	}
	if terr := ep.Bind(full); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("bind %v: %s", ap, terr)
	}
	if terr := ep.Listen(128); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("listen %v: %s", ap, terr)
	}
	return &simListener{ep: ep, wq: &wq, cancel: make(chan struct{})}, nil
}

// accept waits for the next connection and returns its endpoint, wait
// queue and peer address.
func (l *simListener) accept() (tcpip.Endpoint, *waiter.Queue, netip.Addr, error) {
	entry, notify := waiter.NewChannelEntry(waiter.ReadableEvents)
	l.wq.EventRegister(&entry)
	defer l.wq.EventUnregister(&entry)
	for {
		var peer tcpip.FullAddress
		ep, wq, terr := l.ep.Accept(&peer)
		if terr == nil {
			a, _ := netip.AddrFromSlice(peer.Addr.AsSlice())
			return ep, wq, a.Unmap(), nil
		}
		if _, ok := terr.(*tcpip.ErrWouldBlock); !ok {
			return nil, nil, netip.Addr{}, fmt.Errorf("accept: %s", terr)
		}
		select {
		case <-l.cancel:
			return nil, nil, netip.Addr{}, errListenerClosed
		case <-notify:
		}
	}
}

// newSimConn wraps an accepted endpoint as a net.Conn.
func newSimConn(ep tcpip.Endpoint, wq *waiter.Queue) *gonet.TCPConn {
	return gonet.NewTCPConn(wq, ep)
}

// refuse resets an accepted connection.
func refuse(ep tcpip.Endpoint) {
	ep.Abort()
	ep.Close()
}

func (l *simListener) close() {
	l.once.Do(func() {
		close(l.cancel)
		l.ep.Close()
	})
}
