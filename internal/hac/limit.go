package hac

import (
	"net/netip"
	"sync"
	"time"
)

// Reasons a connection is refused before its TLS handshake, the label
// values of fhkey_hac_connections_refused_total.
const (
	// RefusedMaxSessions: Limits.MaxSessions connections were open.
	RefusedMaxSessions = "max_sessions"
	// RefusedRate: the source's token bucket was empty.
	RefusedRate = "rate"
	// RefusedPerSource: Limits.MaxPerSource connections from the source
	// were open.
	RefusedPerSource = "per_source"
)

// Rate is a token bucket: PerSecond tokens a second up to Burst. A
// PerSecond of 0 means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Limits bound a HAC node's connections, so that a flood from one source
// or from many cannot exhaust its memory or file descriptors: every
// connection costs a descriptor, a goroutine and a TLS handshake before
// anything is authenticated (docs/tls.md, "Limits").
type Limits struct {
	// MaxSessions bounds the open MN connections, TLS handshake included
	// (0: unlimited).
	MaxSessions int
	// PerSource bounds new connections per source (SourceKey); its zero
	// value means unlimited.
	PerSource Rate
	// MaxPerSource bounds the open connections of one source
	// (SourceKey), TLS handshake included (0: unlimited): the rate alone
	// lets a source that holds its connections open reach
	// PerSource × session timeout + burst of them.
	MaxPerSource int
	// MaxTracked bounds the per-source buckets kept (0:
	// DefaultMaxTracked).
	MaxTracked int
}

// DefaultMaxTracked is the default bound of the per-source table: at
// most some 100 octets each, 1.6 MB when full.
const DefaultMaxTracked = 16384

// SourceKey is what a source is charged as: an IPv4 address (an
// IPv4-mapped IPv6 address counts as its IPv4 address), or the /64 of an
// IPv6 address. An IPv6 host commonly holds a whole /64 (SLAAC, temporary
// addresses, RFC 8981), so a bucket per /128 would be one address change
// away from useless.
func SourceKey(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

type sourceBucket struct {
	tokens float64
	last   time.Time
}

// SourceLimiter is the per-source token bucket table of Limits.PerSource,
// bounded by Limits.MaxTracked. It reads no clock: Allow is given the
// time. It is safe for concurrent use.
type SourceLimiter struct {
	mu   sync.Mutex
	rate Rate
	max  int
	m    map[netip.Prefix]*sourceBucket
}

// NewSourceLimiter returns a table charging r, keeping at most max
// buckets (0: DefaultMaxTracked).
func NewSourceLimiter(r Rate, max int) *SourceLimiter {
	l := &SourceLimiter{m: map[netip.Prefix]*sourceBucket{}}
	l.Set(r, max, time.Time{})
	return l
}

// Allow charges one connection from src at now and reports whether its
// bucket had a token. A source not in the table starts with a full
// bucket. When the table is full, the buckets that have refilled (they
// hold no state a fresh one would not) are dropped; if that leaves it
// above 7/8 full, arbitrary buckets go too, down to 7/8, so that the next
// MaxTracked/8 new sources cost no sweep. A source evicted that way gets a
// full bucket again: the total stays bounded by Limits.MaxSessions.
func (l *SourceLimiter) Allow(src netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate.PerSecond <= 0 {
		return true
	}
	k := SourceKey(src)
	b, ok := l.m[k]
	if !ok {
		if len(l.m) >= l.max {
			l.evict(now)
		}
		b = &sourceBucket{tokens: float64(l.rate.Burst), last: now}
		l.m[k] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.tokens+el.Seconds()*l.rate.PerSecond, float64(l.rate.Burst))
		b.last = now
	}
	b.tokens = min(b.tokens, float64(l.rate.Burst))
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *SourceLimiter) evict(now time.Time) {
	for k, b := range l.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate.PerSecond >= float64(l.rate.Burst) {
			delete(l.m, k)
		}
	}
	low := min(l.max-l.max/8, l.max-1)
	for k := range l.m {
		if len(l.m) <= low {
			return
		}
		delete(l.m, k)
	}
}

// Set changes the rate and the bound of a running table (a reload). The
// buckets are kept, each capped at the new Burst at its next use, so a
// reload hands out no fresh burst; a table above the new bound is
// evicted down at once; an unlimited rate drops every bucket.
func (l *SourceLimiter) Set(r Rate, max int, now time.Time) {
	if max <= 0 {
		max = DefaultMaxTracked
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate, l.max = r, max
	if r.PerSecond <= 0 {
		clear(l.m)
		return
	}
	if len(l.m) > l.max {
		l.evict(now)
	}
}

// Len is the number of buckets kept.
func (l *SourceLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// ConnectionStats are a HAC node's connection counters (/status,
// /metrics).
type ConnectionStats struct {
	// Active is the number of open MN connections; Sources the number
	// of sources (SourceKey) they come from.
	Active  int `json:"active"`
	Sources int `json:"active_sources"`
	// Refused counts the connections closed before their TLS handshake,
	// by reason (RefusedMaxSessions, RefusedRate, RefusedPerSource).
	Refused map[string]uint64 `json:"refused"`
	// HandshakeFailed counts TLS handshakes that failed or timed out.
	HandshakeFailed uint64 `json:"handshake_failed"`
	// Tracked is the number of per-source buckets kept.
	Tracked int `json:"tracked_sources"`
}
