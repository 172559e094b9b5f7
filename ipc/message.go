package ipc

import "context"

// Message is one call or reply as an entity sees it: the endpoint and method
// numbers, the IDL-encoded payload and the handles it carries.
type Message struct {
	Endpoint uint16
	Method   uint16
	// Status is set on replies: OK (out parameters) or AppError (error
	// parameters). Kernel statuses never reach a Message: they are errors.
	Status  Status
	Payload []byte
	Handles []Slot
}

// Caller sends a call on a channel handle and waits for its reply. The
// entity runtime implements it; generated client proxies use it. A kernel
// status comes back as *Error; a reply with AppError as a Message. The
// reply's Payload belongs to the caller from then on (a Caller never
// reuses it): generated proxies return bytes fields as slices of it
// rather than copies.
type Caller interface {
	Call(ctx context.Context, h Handle, m *Message) (*Message, error)
}

// Badge is the kernel-assigned identity of one calling connection, as a
// server sees it: which task called, its class and SID, and the channel.
type Badge struct {
	ID      uint32
	Task    string
	Class   string
	SID     uint64
	Channel string
}

// Request is a call delivered to a server. Its Payload belongs to the
// request (whoever delivers it never reuses it): generated dispatchers
// hand bytes fields to the handler as slices of it, which the handler may
// keep.
type Request struct {
	Txn   uint64
	Badge *Badge
	Message
	// Deadline is the caller's deadline in Unix nanoseconds, 0 for none.
	Deadline int64
}

// Responder sends the reply to a Request. Exactly one reply per request is
// delivered; the kernel drops a late or second one.
type Responder interface {
	Reply(req *Request, m *Message) error
}

// Handler serves requests. Implementations may reply at once or later from
// another goroutine (a blocking accept or recv), in any order.
type Handler interface {
	Serve(ctx context.Context, req *Request, r Responder)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, req *Request, r Responder)

// Serve calls f.
func (f HandlerFunc) Serve(ctx context.Context, req *Request, r Responder) { f(ctx, req, r) }

type badgeKey struct{}

// WithBadge returns a context carrying the caller's badge; the entity
// runtime sets it on every request it hands to a Handler.
func WithBadge(ctx context.Context, b *Badge) context.Context {
	return context.WithValue(ctx, badgeKey{}, b)
}

// BadgeFromContext returns the badge of the request being served, or nil.
func BadgeFromContext(ctx context.Context) *Badge {
	b, _ := ctx.Value(badgeKey{}).(*Badge)
	return b
}
