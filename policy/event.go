package policy

// This file is the contract between the policy engine and the kernel that
// asks it: the event to decide and the decision.

import (
	"capsim/diag"
	"capsim/idl"
)

// EventKind is the kind of a security event.
type EventKind uint8

const (
	Execute EventKind = iota + 1
	Request
	Response
	Error
	Security
)

var eventKindNames = [...]string{"", "execute", "request", "response", "error", "security"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && k > 0 {
		return eventKindNames[k]
	}
	return "invalid"
}

// SID is a security identity: one per entity and one per kernel object.
type SID uint64

// Subject is one side of an event.
type Subject struct {
	Class string // entity class, "kl.core.Core" for the kernel
	SID   SID
}

// Event is what the kernel asks the security module to decide. For request,
// Src is the client, Dst the server and Message the in parameters; for
// response and error, Src is the server, Dst the client, Endpoint and Method
// name what is being answered and Message holds the out (response) or error
// (error) parameters; for execute, Src is the starter and Dst the new entity
// with its new SID, and there is no message; for security, Src is the asking
// entity and Method a method of its EDL's security interface.
type Event struct {
	Kind      EventKind
	Src, Dst  Subject
	Endpoint  string      // the endpoint's name in the server's EDL
	Interface string      // the endpoint's interface, "demo.Echo"
	Method    *idl.Method // nil for execute
	// Message holds the decoded parameters (an idl.Struct value of
	// Method.In, Out or Err), or nil. Handle fields hold the SIDs of the
	// objects they name (see HandleSIDs).
	Message *idl.StructValue
	// HandleSIDs maps the message's handle slots to the SIDs of the objects
	// they carry, so that a Handle field reads as a SID.
	HandleSIDs []SID
}

// Decision is the security module's answer.
type Decision struct {
	Grant bool
	// Reason on a deny: "no rule", "denied by FILE:LINE:COL",
	// "invalid message: ...".
	Reason string
	// Rules are the rules that were called, in order, with what each
	// decided; the audit log and --explain print them. A denying rule
	// also records the state it depended on (RuleResult.Where).
	Rules []RuleResult
	// Bindings are the positions of the bindings that called at least one
	// rule, in order; --explain prints them.
	Bindings []diag.Pos
}

// RuleResult is one called rule and its verdict.
type RuleResult struct {
	Pos   diag.Pos
	Text  string // the rule as written, for explanations
	Grant bool
	Err   string // an expression error that made the rule deny
	// Object is the model object the rule belongs to ("base" for grant,
	// deny and assert); audit profiles select on it.
	Object string
	// where holds the facts a denying rule depended on (see Where). It is
	// a pointer so that a decision's rules stay small on the path of a
	// grant, which records none.
	where *[]string
}
