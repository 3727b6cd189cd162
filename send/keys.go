package send

import (
	"crypto/rsa"
	"net/netip"
	"sync"

	"github.com/fhkey/fhkey/cga"
)

// DefaultKeyCacheSize is the number of entries NewVerifier gives its
// KeyCache. An entry holds the CGA Parameters octets (at most 2,036, the
// largest CGA option) plus the parsed key: about 2 KiB worst case, so the
// default bounds the cache near 2 MiB.
const DefaultKeyCacheSize = 1024

// KeyCache remembers, for the exact octets of a CGA Parameters field, the
// address it was verified for (RFC 3972 §5), the parsed parameters and the
// parsed RSA public key with its Key Hash. A hit for the same octets and the
// same address is equivalent to running the verification again, and saves
// the key decoding that dominates the cost besides the RSA operation.
//
// Entries are added only after a message carrying them was fully verified
// (CGA, Key Hash and signature), so unauthenticated senders cannot fill it.
// When full, the least recently used entry is evicted. A KeyCache is safe
// for concurrent use and may be shared by several Verifiers.
type KeyCache struct {
	mu sync.Mutex
	l  *lru[string, *keyEntry]
}

// keyEntry is immutable once stored.
type keyEntry struct {
	addr   netip.Addr      // the address the CGA verified for
	params *cga.Parameters // parsed CGA Parameters
	pub    *rsa.PublicKey
	hash   [16]byte // Key Hash of params.PublicKey (RFC 3971 §5.2)
}

// NewKeyCache returns a KeyCache holding at most max entries (at least 1).
func NewKeyCache(max int) *KeyCache {
	return &KeyCache{l: newLRU[string, *keyEntry](max)}
}

// Len returns the number of cached entries.
func (c *KeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.len()
}

func (c *KeyCache) get(params []byte, addr netip.Addr) *keyEntry {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.l.m[string(params)] // no allocation for the lookup
	if n == nil || n.val.addr != addr {
		return nil
	}
	c.l.touch(n)
	return n.val
}

func (c *KeyCache) put(params []byte, e *keyEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.l.put(string(params), e)
}
