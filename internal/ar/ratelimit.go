package ar

import (
	"sync"
	"time"
)

// Rate is a token bucket: PerSecond tokens are added each second up to
// Burst. The zero Rate means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) unlimited() bool { return r.PerSecond <= 0 && r.Burst <= 0 }

// Limits bound the SEND work a Router does for solicitations (RFC 5269 §5:
// "State depletion attacks can be addressed by techniques, such as rate
// limiting RtSolPr"; RFC 3971 §11.2). The costly part is RSA: one signature
// verification, one encryption and one signature per provisioning.
//
// Each solicitation is charged, in this order, to:
//
//   - PerSource: its IPv6 source address, before anything is parsed;
//   - PerKey: the CGA public key of its CGA option, once the CGA has been
//     checked against the source address (hashes only, no RSA), so that one
//     attacker key behind many addresses gets one key's budget;
//   - Total: all RSA work of the router, shared by every key.
//
// A solicitation refused by any bucket is dropped and counted. Those that
// fail the CGA check are answered without a Handover Key Reply only within
// UnsecuredReplies (each answer costs a signature).
type Limits struct {
	PerSource        Rate
	PerKey           Rate
	Total            Rate
	UnsecuredReplies Rate
	// MaxTracked bounds the per-source and per-key buckets kept (each
	// table); when full, idle buckets are swept and then an arbitrary one is
	// evicted.
	MaxTracked int
}

// DefaultLimits: a mobile node needs one solicitation per provisioning and a
// few retransmissions (RFC 5568 §6.1.1); an RSA-2048 signature costs about
// 1 ms of one core.
var DefaultLimits = Limits{
	PerSource:        Rate{PerSecond: 2, Burst: 5},
	PerKey:           Rate{PerSecond: 2, Burst: 5},
	Total:            Rate{PerSecond: 500, Burst: 100},
	UnsecuredReplies: Rate{PerSecond: 10, Burst: 10},
	MaxTracked:       4096,
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(r Rate, now time.Time) bool {
	if el := now.Sub(b.last); el > 0 {
		b.tokens += el.Seconds() * r.PerSecond
		b.last = now
	}
	if b.tokens > float64(r.Burst) {
		b.tokens = float64(r.Burst)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func (b *bucket) full(r Rate, now time.Time) bool {
	return b.tokens+now.Sub(b.last).Seconds()*r.PerSecond >= float64(r.Burst)
}

// bucketTable is a bounded set of buckets keyed by K.
type bucketTable[K comparable] struct {
	mu   sync.Mutex
	rate Rate
	max  int
	m    map[K]*bucket
}

func newBucketTable[K comparable](r Rate, max int) *bucketTable[K] {
	if max <= 0 {
		max = DefaultLimits.MaxTracked
	}
	return &bucketTable[K]{rate: r, max: max, m: make(map[K]*bucket)}
}

func (t *bucketTable[K]) take(k K, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rate.unlimited() {
		return true
	}
	b, ok := t.m[k]
	if !ok {
		if len(t.m) >= t.max {
			t.evict(now)
		}
		b = &bucket{tokens: float64(t.rate.Burst), last: now}
		t.m[k] = b
	}
	return b.take(t.rate, now)
}

// evict removes the buckets that have refilled (they carry no state), or one
// arbitrary bucket if none has.
func (t *bucketTable[K]) evict(now time.Time) {
	for k, b := range t.m {
		if b.full(t.rate, now) {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < t.max {
			return
		}
		delete(t.m, k)
	}
}

// set changes the table's rate and size on a running router (Update). The
// buckets are kept: each is capped at the new Burst at its next use and
// refills at the new rate from then on (the time since its last use counts
// at the new rate), so a reload never hands out a fresh burst. A table
// larger than the new max is evicted down at once (the refilled buckets
// first); an unlimited rate drops every bucket.
func (t *bucketTable[K]) set(r Rate, max int, now time.Time) {
	if max <= 0 {
		max = DefaultLimits.MaxTracked
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rate, t.max = r, max
	if r.unlimited() {
		clear(t.m)
		return
	}
	if len(t.m) > t.max {
		t.evict(now)
	}
}

// single is one shared bucket.
type single struct {
	mu   sync.Mutex
	rate Rate
	b    bucket
	init bool
}

func (s *single) take(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rate.unlimited() {
		return true
	}
	if !s.init {
		s.b = bucket{tokens: float64(s.rate.Burst), last: now}
		s.init = true
	}
	return s.b.take(s.rate, now)
}

// set changes the bucket's rate, keeping its tokens as bucketTable.set does.
func (s *single) set(r Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = r
}
