package kernel

import (
	"fmt"

	"capsim/idl"
)

// resolve names the endpoint and method a call addresses on a server task,
// checking them against the server's class when the kernel has its IDL.
func (k *Kernel) resolve(srv *task, ep, mid uint16) (target, error) {
	tg := target{endpoint: ep, method: mid, epName: fmt.Sprintf("#%d", ep), mName: fmt.Sprintf("#%d", mid)}
	if srv.class == nil {
		return tg, nil
	}
	return resolveIn(srv.class, ep, mid)
}

func resolveIn(c *idl.Class, ep, mid uint16) (target, error) {
	if int(ep) >= len(c.Endpoints) {
		return target{}, fmt.Errorf("class %s has no endpoint #%d", c.Name, ep)
	}
	e := c.Endpoints[ep]
	if int(mid) >= len(e.Interface.Methods) {
		return target{}, fmt.Errorf("interface %s has no method #%d", e.Interface.Name, mid)
	}
	m := e.Interface.Methods[mid]
	return target{endpoint: ep, method: mid, epName: e.Name, ifName: e.Interface.Name, mName: m.Name, m: m}, nil
}

// decodeParams validates a payload against a method's parameters of one
// direction and decodes it for the policy.
func decodeParams(t *idl.Type, payload []byte, nslots int) (*idl.StructValue, error) {
	// The policy is done with the message before the frame's buffer is
	// reused, so bytes fields may alias it.
	v, err := idl.DecodeView(t, payload, nslots)
	if err != nil {
		return nil, err
	}
	sv, ok := v.(*idl.StructValue)
	if !ok {
		return nil, fmt.Errorf("parameters decoded as %T", v)
	}
	if nslots > 0 {
		if err := checkSlotRefs(sv, nslots); err != nil {
			return nil, err
		}
	}
	return sv, nil
}

// checkSlotRefs checks that the message's Handle fields name each of its
// nslots handle slots exactly once. A handle no Handle field names would
// travel unseen by the policy's message view and by capsim verify, which
// knows handles to move only through Handle parameters.
func checkSlotRefs(msg *idl.StructValue, nslots int) error {
	seen := make([]bool, nslots)
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case idl.HandleSlot:
			if int(v) >= nslots {
				return fmt.Errorf("handle slot %d is beyond the message's %d", v, nslots)
			}
			if seen[v] {
				return fmt.Errorf("handle slot %d is named twice", v)
			}
			seen[v] = true
		case *idl.StructValue:
			for _, f := range v.Fields {
				if err := walk(f); err != nil {
					return err
				}
			}
		case *idl.UnionValue:
			return walk(v.Value)
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(msg); err != nil {
		return err
	}
	for i, ok := range seen {
		if !ok {
			return fmt.Errorf("handle slot %d is named by no Handle parameter", i)
		}
	}
	return nil
}
