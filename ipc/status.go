package ipc

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Status is the outcome a Reply carries. OK and AppError come from the
// server; every other status is the kernel's.
type Status uint32

const (
	// OK: the payload holds the method's out parameters.
	OK Status = iota
	// AppError: the payload holds the method's error parameters.
	AppError
	// Denied: the security policy denied the request or its response
	// (KasperskyOS rcSecurityDisallow).
	Denied
	// BadHandle: the handle is unknown, forged, revoked or lacks a right
	// ("not connected").
	BadHandle
	// Invalid: the message does not match its IDL ("invalid argument").
	Invalid
	// PeerGone: the server exited or crashed before it replied.
	PeerGone
	// DeadlineExceeded: the call's deadline passed before the reply.
	DeadlineExceeded
	// Limit: a per-entity limit (calls in flight, queued bytes, message
	// size) was reached; like EAGAIN, a later call may pass.
	Limit
	// Cancelled: the call was cancelled by its caller.
	Cancelled
)

var statusNames = [...]string{
	OK:               "ok",
	AppError:         "application error",
	Denied:           "denied by the security policy",
	BadHandle:        "bad handle",
	Invalid:          "invalid message",
	PeerGone:         "peer gone",
	DeadlineExceeded: "deadline exceeded",
	Limit:            "limit reached",
	Cancelled:        "cancelled",
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint32(s))
}

// Error is a kernel status returned from a call, with the kernel's reason
// when it gave one (the payload of a kernel status reply is the reason text).
type Error struct {
	Status Status
	Reason string
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Status.String()
	}
	if e.Reason == e.Status.String() || strings.HasPrefix(e.Reason, e.Status.String()+":") {
		return e.Reason // the kernel's reasons often name the status already
	}
	return e.Status.String() + ": " + e.Reason
}

// Is lets errors.Is(err, ipc.ErrDenied) and the like match by status. A
// deadline the kernel enforced also is context.DeadlineExceeded: callers
// that check for their context's deadline see the kernel's the same way
// (the two race when a call's deadline passes).
func (e *Error) Is(target error) bool {
	if target == context.DeadlineExceeded {
		return e.Status == DeadlineExceeded
	}
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Status == e.Status
}

// Sentinels for errors.Is.
var (
	ErrDenied    = &Error{Status: Denied}
	ErrBadHandle = &Error{Status: BadHandle}
	ErrInvalid   = &Error{Status: Invalid}
	ErrPeerGone  = &Error{Status: PeerGone}
	ErrDeadline  = &Error{Status: DeadlineExceeded}
	ErrLimit     = &Error{Status: Limit}
	ErrCancelled = &Error{Status: Cancelled}
)

// StatusOf returns the kernel status of err, or OK when err carries none.
func StatusOf(err error) Status {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return OK
}
