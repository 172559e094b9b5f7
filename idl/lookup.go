package idl

import "fmt"

// Look-ups on the IR that the kernel and the policy compiler share.

// Endpoint returns the class's endpoint with the (qualified) name, or nil.
func (c *Class) Endpoint(name string) *Endpoint {
	for _, ep := range c.Endpoints {
		if ep.Name == name {
			return ep
		}
	}
	return nil
}

// Method returns the interface's method with the name, or nil.
func (it *Interface) Method(name string) *Method {
	for _, m := range it.Methods {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Lookup returns the endpoint numbered riid and its method numbered mid,
// as a frame names them; the error says which number is out of range.
func (c *Class) Lookup(riid, mid int) (*Endpoint, *Method, error) {
	if riid < 0 || riid >= len(c.Endpoints) {
		return nil, nil, fmt.Errorf("class %s has no endpoint %d (it has %d)", c.Name, riid, len(c.Endpoints))
	}
	ep := c.Endpoints[riid]
	if mid < 0 || mid >= len(ep.Interface.Methods) {
		return ep, nil, fmt.Errorf("interface %s of endpoint %s has no method %d (it has %d)", ep.Interface.Name, ep.Name, mid, len(ep.Interface.Methods))
	}
	return ep, ep.Interface.Methods[mid], nil
}
