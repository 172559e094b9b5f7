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
	return sv, nil
}
