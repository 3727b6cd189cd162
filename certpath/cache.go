package certpath

import (
	"container/list"
	"sync"
	"time"
)

// Cache holds verified router authorizations keyed by the router's KeyHash
// (RFC 3971 §6.4.6: a host retrieves a path "when a Router Advertisement has
// been received with a public key that is not available from a certificate
// in the hosts' cache"). It is bounded: when full, the least recently used
// entry is evicted, so that a flood of valid paths cannot grow it (RFC 3971
// §9.3). An entry expires at the Authorization's NotAfter, the earliest
// NotAfter on its path. Only verified paths should be added: the cache
// creates no state for unauthenticated senders. A Cache is safe for
// concurrent use.
type Cache struct {
	mu      sync.Mutex
	max     int
	entries map[KeyHash]*list.Element
	lru     list.List // front: most recently used; values are *Authorization
}

// NewCache returns a cache of at most max entries (at least 1).
func NewCache(max int) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, entries: make(map[KeyHash]*list.Element)}
}

// Add stores a, replacing any entry with the same KeyHash. It ignores an
// authorization already expired at now.
func (c *Cache) Add(a *Authorization, now time.Time) {
	if a == nil || !now.Before(a.NotAfter) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[a.KeyHash]; ok {
		e.Value = a
		c.lru.MoveToFront(e)
		return
	}
	for c.lru.Len() >= c.max {
		c.removeLocked(c.lru.Back())
	}
	c.entries[a.KeyHash] = c.lru.PushFront(a)
}

// Get returns the unexpired authorization for the router key with hash k.
// An expired entry is removed.
func (c *Cache) Get(k KeyHash, now time.Time) (*Authorization, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	a := e.Value.(*Authorization)
	if !now.Before(a.NotAfter) {
		c.removeLocked(e)
		return nil, false
	}
	c.lru.MoveToFront(e)
	return a, true
}

// ForAnchor returns the unexpired authorizations whose path ends at a trust
// anchor identified by the Trust Anchor option (t, name): what a router
// answers a Certification Path Solicitation with (RFC 3971 §6.4.5).
func (c *Cache) ForAnchor(t NameType, name []byte, now time.Time) []*Authorization {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Authorization
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		a := e.Value.(*Authorization)
		switch {
		case !now.Before(a.NotAfter):
			c.removeLocked(e)
		case a.Anchor.Matches(t, name):
			out = append(out, a)
		}
		e = next
	}
	return out
}

// Remove deletes the entry for k, if any.
func (c *Cache) Remove(k KeyHash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		c.removeLocked(e)
	}
}

// Purge removes every entry expired at now and returns how many it removed.
func (c *Cache) Purge(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if !now.Before(e.Value.(*Authorization).NotAfter) {
			c.removeLocked(e)
			n++
		}
		e = next
	}
	return n
}

// Len returns the number of entries, expired ones included until purged.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *Cache) removeLocked(e *list.Element) {
	delete(c.entries, e.Value.(*Authorization).KeyHash)
	c.lru.Remove(e)
}
