package cga

import (
	"container/list"
	"crypto"
	"crypto/rsa"
	"net/netip"
	"sync"
)

// KeyCache is a bounded, least-recently-used cache of parsed public keys,
// keyed by the exact DER octets of the Public Key field. It lets SEND
// (RFC 3971 §5.1.2), which verifies the same CGA on every message of a
// neighbour, skip the SubjectPublicKeyInfo decoding. The key is a pure
// function of its DER octets, so a cache hit returns exactly what parsing
// would; only successfully parsed keys are stored. Safe for concurrent use.
// The returned keys are shared: callers must not modify them.
type KeyCache struct {
	mu    sync.Mutex
	max   int
	order list.List // of *cacheEntry, most recently used first
	index map[string]*list.Element
}

type cacheEntry struct {
	der string
	key *rsa.PublicKey
}

// NewKeyCache returns a cache holding at most size keys (at least 1).
func NewKeyCache(size int) *KeyCache {
	size = max(size, 1)
	return &KeyCache{max: size, index: make(map[string]*list.Element, min(size, 1024))}
}

// Verify is Verify with public keys taken from and added to c.
func (c *KeyCache) Verify(addr netip.Addr, params []byte) (crypto.PublicKey, error) {
	return verify(addr, params, c)
}

// Len returns the number of cached keys.
func (c *KeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

func (c *KeyCache) publicKey(der []byte) (crypto.PublicKey, error) {
	c.mu.Lock()
	if e, ok := c.index[string(der)]; ok {
		c.order.MoveToFront(e)
		k := e.Value.(*cacheEntry).key
		c.mu.Unlock()
		return k, nil
	}
	c.mu.Unlock()
	// Parse outside the lock: it is the expensive part.
	k, err := ParsePublicKey(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[string(der)]; ok { // another goroutine won the race
		c.order.MoveToFront(e)
		return e.Value.(*cacheEntry).key, nil
	}
	ent := &cacheEntry{der: string(der), key: k}
	c.index[ent.der] = c.order.PushFront(ent)
	for len(c.index) > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.index, old.Value.(*cacheEntry).der)
	}
	return k, nil
}
