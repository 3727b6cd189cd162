package send

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Defaults for the nonce state.
const (
	// DefaultNonceMatcherSize bounds the outstanding solicitation nonces.
	DefaultNonceMatcherSize = 256
	// DefaultReplayCacheSize bounds the replay cache (48 octets of key and
	// an expiry per entry, plus map overhead).
	DefaultReplayCacheSize = 16384
)

// MinNonceLen is the shortest Nonce RFC 3971 §5.3.2 allows: "The length of
// the random number MUST be at least 6 bytes."
const MinNonceLen = 6

// NonceMatcher records the Nonces of solicitations this node sent (RFC 3971
// §5.3.3: "the sender MUST store the nonce internally so that it can
// recognize any replies") and matches advertisements against them (§5.3.4.1).
// A match is consumed: by default one advertisement answers one solicitation;
// Expect can allow more answers (several routers answering one multicast
// Router Solicitation, several CPAs answering a CPS for all components).
//
// At most the configured number of nonces are outstanding; when full, the
// one that expires first is dropped to make room. Nonces are compared in
// constant time (crypto/subtle) so that timing does not reveal them. Safe for
// concurrent use.
type NonceMatcher struct {
	mu      sync.Mutex
	max     int
	pending []pendingNonce
}

type pendingNonce struct {
	nonce   []byte
	expires time.Time
	answers int
}

// NewNonceMatcher returns a matcher holding at most size outstanding nonces
// (at least 1).
func NewNonceMatcher(size int) *NonceMatcher {
	return &NonceMatcher{max: max(size, 1)}
}

// Expect records the Nonce of a solicitation being sent; advertisements
// carrying it are accepted until expires, at most answers times (at least
// once). The nonce is copied.
func (m *NonceMatcher) Expect(nonce []byte, expires time.Time, answers int) error {
	if len(nonce) < MinNonceLen {
		return fmt.Errorf("%w: nonce of %d octets, RFC 3971 §5.3.2 requires at least %d", ErrSign, len(nonce), MinNonceLen)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) >= m.max {
		first := 0
		for i, p := range m.pending {
			if p.expires.Before(m.pending[first].expires) {
				first = i
			}
		}
		m.drop(first)
	}
	m.pending = append(m.pending, pendingNonce{
		nonce:   append([]byte(nil), nonce...),
		expires: expires,
		answers: max(answers, 1),
	})
	return nil
}

// Len returns the number of outstanding nonces (expired ones included until
// the next match or Expect sweeps them).
func (m *NonceMatcher) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

func (m *NonceMatcher) drop(i int) {
	last := len(m.pending) - 1
	m.pending[i] = m.pending[last]
	m.pending[last] = pendingNonce{}
	m.pending = m.pending[:last]
}

// match reports whether nonce is outstanding at now; with consume it uses up
// one answer. Every entry is compared, so the time taken does not depend on
// which entry (if any) matches.
func (m *NonceMatcher) match(nonce []byte, now time.Time, consume bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := -1
	for i := 0; i < len(m.pending); {
		p := &m.pending[i]
		if !now.Before(p.expires) {
			m.drop(i)
			continue
		}
		if subtle.ConstantTimeCompare(p.nonce, nonce) == 1 {
			found = i
		}
		i++
	}
	if found < 0 {
		return false
	}
	if consume {
		if m.pending[found].answers--; m.pending[found].answers == 0 {
			m.drop(found)
		}
	}
	return true
}

// ReplayCache remembers the (address, Nonce) pairs of accepted
// solicitations for a window, so that a signed solicitation replayed within
// the timestamp tolerance is rejected (ErrReplayedNonce). The window
// defaults to Delta + fuzz: past it the timestamp checks of RFC 3971
// §5.3.4.2 reject the replay by themselves. At most the configured number of
// pairs are held; when full the oldest pair (the one closest to expiry) is
// evicted. Pairs are added only after signature verification. Safe for
// concurrent use.
type ReplayCache struct {
	window time.Duration
	mu     sync.Mutex
	l      *lru[[sha256.Size]byte, time.Time]
}

// NewReplayCache returns a cache of at most size pairs (at least 1), each
// remembered for window.
func NewReplayCache(size int, window time.Duration) *ReplayCache {
	return &ReplayCache{window: window, l: newLRU[[sha256.Size]byte, time.Time](size)}
}

// Len returns the number of pairs held (expired ones included until they are
// evicted or looked up).
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.len()
}

func replayKey(addr netip.Addr, nonce []byte) [sha256.Size]byte {
	a := addr.WithZone("").As16()
	bp := bufPool.Get().(*[]byte)
	b := append(append((*bp)[:0], a[:]...), nonce...)
	k := sha256.Sum256(b)
	*bp = b
	bufPool.Put(bp)
	return k
}

// seen reports whether the pair was accepted within the window before now.
// With add it records the pair if it was not seen.
func (c *ReplayCache) seen(k [sha256.Size]byte, now time.Time, add bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.l.m[k]; n != nil {
		if now.Before(n.val) {
			return true
		}
		c.l.remove(n)
	}
	if add {
		c.l.put(k, now.Add(c.window))
	}
	return false
}
