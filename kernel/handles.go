package kernel

import (
	"capsim/ipc"
	"capsim/policy"
)

// object is a kernel object a handle can name. Channels are the only kind
// entities hold today; the interface keeps room for dataports and the like.
type object interface {
	sid() policy.SID
}

// channel joins one client task to one server task under the client's name
// for it (a scenario connection). It names the task, not one process of it,
// so a restarted server is reached through the same channel.
type channel struct {
	id     string
	client *task
	server *task
	csid   policy.SID
}

func (c *channel) sid() policy.SID { return c.csid }

// handle is one entry of a handle table. Handles derived from it (by
// transfer or Dup) are its children; revoking a handle revokes them too.
type handle struct {
	num      ipc.Handle
	obj      object
	rights   ipc.Rights
	owner    *process
	parent   *handle
	children map[*handle]struct{}
}

// handleTable is one process's handles. The kernel's handle lock guards
// every table, since revocation crosses tables.
type handleTable struct {
	next    ipc.Handle
	handles map[ipc.Handle]*handle
}

func newHandleTable() *handleTable {
	return &handleTable{next: 1, handles: make(map[ipc.Handle]*handle)}
}

// add installs a new handle for obj in p's table, derived from parent (nil
// for a root handle). Call with k.hmu held.
func (t *handleTable) add(p *process, obj object, rights ipc.Rights, parent *handle) *handle {
	h := &handle{num: t.next, obj: obj, rights: rights, owner: p, parent: parent}
	t.next++
	if t.next == 0 { // wrapped: skip the kernel's handle
		t.next = 1
	}
	t.handles[h.num] = h
	if parent != nil {
		if parent.children == nil {
			parent.children = make(map[*handle]struct{})
		}
		parent.children[h] = struct{}{}
	}
	return h
}

// hasRoom reports whether the table can take n more handles under limit.
// Call with k.hmu held.
func (t *handleTable) hasRoom(n, limit int) bool { return len(t.handles)+n <= limit }

// revoke removes h and every handle derived from it, from whichever table
// holds them. Call with k.hmu held.
func revoke(h *handle) {
	for c := range h.children {
		revoke(c)
	}
	h.children = nil
	if h.parent != nil {
		delete(h.parent.children, h)
		h.parent = nil
	}
	if h.owner != nil && h.owner.handles != nil {
		delete(h.owner.handles.handles, h.num)
	}
}

// revokeAll revokes every handle of a table (its owner is gone).
func (t *handleTable) revokeAll() {
	for _, h := range t.handles {
		revoke(h)
	}
}
