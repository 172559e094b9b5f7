package policy

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The binding index. Every top-level binding is filed under one key of its
// constant selectors, with "" for a selector it leaves open (and the
// endpoint slot "if:NAME" for an interface selector without an endpoint).
// An event's bindings are the union of the (at most 24) keys that can
// match it, filtered by the full selectors and sorted into source order.
// The result depends only on the event's kind, classes, endpoint,
// interface and method, so it is cached per such key (lock-free reads);
// decisions themselves, which read fields and model state, are never
// cached.

type indexKey struct {
	kind             EventKind
	src, dst, ep, mt string
}

type eventKey struct {
	kind                    EventKind
	src, dst, ep, iface, mt string
}

// maxCached bounds the lookup cache; past it lookups are computed.
const maxCached = 1 << 16

func (p *Policy) buildIndex() {
	for i, cb := range p.compiled {
		s := &cb.b.Sel
		ep := s.Endpoint
		if ep == "" && s.Interface != "" {
			ep = "if:" + s.Interface
		}
		k := indexKey{kind: cb.b.Kind, src: s.Src, dst: s.Dst, ep: ep, mt: s.Method}
		p.index[k] = append(p.index[k], int32(i))
	}
	p.cache = newBindCache()
}

// lookup returns the bindings whose top-level selectors match ev, in
// source order.
func (p *Policy) lookup(ev *Event) []*cbinding {
	k := eventKey{kind: ev.Kind, src: ev.Src.Class, dst: ev.Dst.Class, ep: ev.Endpoint,
		iface: eventInterface(ev), mt: methodName(ev)}
	sh := p.cache.shard(ev, &k)
	if bs, ok := sh.get(k); ok {
		return bs
	}
	bs := p.lookupIndex(ev, k)
	p.cache.put(sh, k, bs)
	return bs
}

func (p *Policy) lookupIndex(ev *Event, k eventKey) []*cbinding {
	var ids []int32
	eps := [3]string{k.ep, "if:" + k.iface, ""}
	for _, src := range [2]string{k.src, ""} {
		for _, dst := range [2]string{k.dst, ""} {
			for _, ep := range eps {
				for _, mt := range [2]string{k.mt, ""} {
					ids = append(ids, p.index[indexKey{kind: k.kind, src: src, dst: dst, ep: ep, mt: mt}]...)
				}
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []*cbinding
	for _, i := range ids {
		if cb := p.compiled[i]; selMatches(&cb.b.Sel, ev) {
			out = append(out, cb)
		}
	}
	return out
}

// scanBindings is the naive lookup: every binding, filtered by selectors.
// Tests compare it with the index.
func (p *Policy) scanBindings(ev *Event) []*cbinding {
	var out []*cbinding
	for _, cb := range p.compiled {
		if cb.b.Kind == ev.Kind && selMatches(&cb.b.Sel, ev) {
			out = append(out, cb)
		}
	}
	return out
}

// bindCache maps event keys to bindings. Each shard holds an immutable map
// swapped on insert, so readers take no lock. The shard is chosen by the
// event's method (a pointer) and cheap features of the key, so a hit
// hashes the key once, in the shard's map.
type bindCache struct {
	n      atomic.Int64
	shards [64]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	t  atomic.Pointer[cacheTable]
}

// cacheTable is a shard's immutable contents: a short list scanned in
// order (comparing strings that usually share their bytes with the key is
// cheaper than hashing them), or a map once the list grows long.
type cacheTable struct {
	list []cacheEntry
	m    map[eventKey][]*cbinding
}

type cacheEntry struct {
	k  eventKey
	bs []*cbinding
}

// maxList is the longest list a shard scans before it turns into a map.
const maxList = 8

func newBindCache() *bindCache { return &bindCache{} }

func (c *bindCache) shard(ev *Event, k *eventKey) *cacheShard {
	h := uint64(uintptr(unsafe.Pointer(ev.Method))) >> 4
	h ^= uint64(k.kind)<<7 ^ uint64(len(k.src))<<11 ^ uint64(len(k.dst))<<17 ^ uint64(len(k.ep))<<23
	if len(k.dst) > 0 {
		h ^= uint64(k.dst[len(k.dst)-1]) << 29
	}
	h *= 0x9e3779b97f4a7c15
	return &c.shards[h>>58]
}

func (s *cacheShard) get(k eventKey) ([]*cbinding, bool) {
	t := s.t.Load()
	if t == nil {
		return nil, false
	}
	if t.m != nil {
		bs, ok := t.m[k]
		return bs, ok
	}
	for i := range t.list {
		if e := &t.list[i]; e.k == k {
			return e.bs, true
		}
	}
	return nil, false
}

func (c *bindCache) put(s *cacheShard, k eventKey, bs []*cbinding) {
	if c.n.Load() >= maxCached {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.get(k); ok {
		return
	}
	next := &cacheTable{}
	old := s.t.Load()
	switch {
	case old == nil:
		next.list = []cacheEntry{{k, bs}}
	case old.m == nil && len(old.list) < maxList:
		next.list = append(append(make([]cacheEntry, 0, len(old.list)+1), old.list...), cacheEntry{k, bs})
	default:
		next.m = make(map[eventKey][]*cbinding, len(old.list)+len(old.m)+1)
		for _, e := range old.list {
			next.m[e.k] = e.bs
		}
		for kk, v := range old.m {
			next.m[kk] = v
		}
		next.m[k] = bs
	}
	s.t.Store(next)
	c.n.Add(1)
}
