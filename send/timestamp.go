package send

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"sync"
	"time"
)

// Defaults of RFC 3971 §10.2.
const (
	DefaultTimestampDelta = 300 * time.Second // TIMESTAMP_DELTA
	DefaultTimestampFuzz  = 1 * time.Second   // TIMESTAMP_FUZZ
	DefaultTimestampDrift = 0.01              // TIMESTAMP_DRIFT, 1 %
	// DefaultTimestampCacheSize bounds the per-peer RDlast/TSlast cache
	// (about 100 octets an entry).
	DefaultTimestampCacheSize = 4096
)

// TimestampParams are the receiver's timestamp settings of RFC 3971
// §5.3.4.2: the allowed Delta, the fuzz factor and the allowed clock drift.
type TimestampParams struct {
	Delta time.Duration // > 0, at most 24 hours
	Fuzz  time.Duration // >= 0, at most Delta
	Drift float64       // in [0, 1); applied with a resolution of 1e-6
}

// DefaultTimestampParams are the RFC 3971 §10.2 defaults.
var DefaultTimestampParams = TimestampParams{
	Delta: DefaultTimestampDelta,
	Fuzz:  DefaultTimestampFuzz,
	Drift: DefaultTimestampDrift,
}

func (p TimestampParams) validate() error {
	if p.Delta <= 0 || p.Delta > 24*time.Hour {
		return fmt.Errorf("send: timestamp Delta %v not in (0, 24h]", p.Delta)
	}
	if p.Fuzz < 0 || p.Fuzz > p.Delta {
		return fmt.Errorf("send: timestamp fuzz %v not in [0, Delta]", p.Fuzz)
	}
	if !(p.Drift >= 0 && p.Drift < 1) {
		return fmt.Errorf("send: timestamp drift %v not in [0, 1)", p.Drift)
	}
	return nil
}

// Timestamps are compared in units of 1/65536 s (the Timestamp option's
// resolution) as int64, clamped to ±2^61 units (about 1.1 million years) so
// that no sum below can overflow.
const unitsLimit = 1 << 61

func tsUnits(ts Timestamp) int64 {
	if uint64(ts) > unitsLimit {
		return unitsLimit
	}
	return int64(ts)
}

func timeUnits(t time.Time) int64 {
	s := t.Unix()
	if s >= unitsLimit>>16 {
		return unitsLimit
	}
	if s <= -unitsLimit>>16 {
		return -unitsLimit
	}
	return s<<16 + int64(t.Nanosecond())<<16/1e9
}

// durationUnits converts d, truncating toward zero.
func durationUnits(d time.Duration) int64 {
	q, r := int64(d/time.Second), int64(d%time.Second)
	return q<<16 + r<<16/1e9
}

// driftScale returns u x (1 - drift) with drift given in parts per million,
// truncated toward zero, without overflow.
func driftScale(u int64, ppm uint64) int64 {
	neg := u < 0
	a := uint64(u)
	if neg {
		a = uint64(-u)
	}
	hi, lo := bits.Mul64(a, 1e6-ppm)
	q, _ := bits.Div64(hi, lo, 1e6) // hi < 1e6 since a < 2^63
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// TimestampCache holds RDlast and TSlast per peer (RFC 3971 §5.3.4.2) and
// applies the receiver checks of that section. The peer is the address the
// message is verified for (the CGA, or the source address). It holds at most
// the configured number of peers; when full, the peer whose last accepted
// message is the oldest is evicted (RFC 3971 §5.3.4 leaves the policy to the
// implementation; an evicted peer is checked as a new peer again, against
// the ±Delta window). Entries are only created or updated for messages that
// passed signature verification. Safe for concurrent use.
type TimestampCache struct {
	params           TimestampParams
	delta, fuzz, ppm int64
	mu               sync.Mutex
	l                *lru[netip.Addr, tsEntry]
}

type tsEntry struct {
	rd time.Time // RDlast
	ts int64     // TSlast, in units
}

// NewTimestampCache returns a cache for at most size peers (at least 1)
// using params.
func NewTimestampCache(params TimestampParams, size int) (*TimestampCache, error) {
	if err := params.validate(); err != nil {
		return nil, err
	}
	return &TimestampCache{
		params: params,
		delta:  durationUnits(params.Delta),
		fuzz:   durationUnits(params.Fuzz),
		ppm:    int64(math.Round(params.Drift * 1e6)),
		l:      newLRU[netip.Addr, tsEntry](size),
	}, nil
}

// Params returns the cache's settings.
func (c *TimestampCache) Params() TimestampParams { return c.params }

// Len returns the number of peers held.
func (c *TimestampCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.len()
}

// Check applies RFC 3971 §5.3.4.2 to a message from peer carrying ts and
// received at rd. For a new peer the message is accepted if
// -Delta < (RDnew - TSnew) < +Delta; for a known peer if
// TSnew + fuzz > TSlast + (RDnew - RDlast) x (1 - drift) - fuzz. With commit
// set, an accepted message records RDnew and TSnew for a new peer, and for a
// known peer when TSnew > TSlast ("Otherwise, the receiver MUST NOT update
// RDlast or TSlast"). Callers must commit only messages whose RSA Signature
// has been verified; Verifier does this itself.
func (c *TimestampCache) Check(peer netip.Addr, ts Timestamp, rd time.Time, commit bool) error {
	peer = peer.WithZone("")
	tsNew, rdNew := tsUnits(ts), timeUnits(rd)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.l.m[peer]
	if n == nil {
		if d := rdNew - tsNew; d <= -c.delta || d >= c.delta {
			return fmt.Errorf("%w: %w: RDnew - TSnew = %v, allowed Delta %v", ErrVerify, ErrTimestampWindow,
				fmtUnits(d), c.params.Delta)
		}
		if commit {
			c.l.put(peer, tsEntry{rd: rd, ts: tsNew})
		}
		return nil
	}
	e := n.val
	elapsed := driftScale(durationUnits(rd.Sub(e.rd)), uint64(c.ppm))
	if !(tsNew+c.fuzz > e.ts+elapsed-c.fuzz) {
		return fmt.Errorf("%w: %w: TSnew %v, TSlast %v, %v since RDlast", ErrVerify, ErrTimestampOlder,
			ts.Time(), Timestamp(e.ts).Time(), rd.Sub(e.rd))
	}
	if commit && tsNew > e.ts {
		n.val = tsEntry{rd: rd, ts: tsNew}
		c.l.touch(n)
	}
	return nil
}

// record stores RDnew and TSnew for a solicited advertisement that matched
// a Nonce (RFC 3971 §5.3.4.1: "the receiver SHOULD store the receive time of
// the message and the timestamp time in the message, as specified in
// Section 5.3.4.2"): always for a new peer, and only if TSnew > TSlast for a
// known one.
func (c *TimestampCache) record(peer netip.Addr, ts Timestamp, rd time.Time) {
	peer = peer.WithZone("")
	tsNew := tsUnits(ts)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.l.m[peer]; n != nil {
		if tsNew > n.val.ts {
			n.val = tsEntry{rd: rd, ts: tsNew}
			c.l.touch(n)
		}
		return
	}
	c.l.put(peer, tsEntry{rd: rd, ts: tsNew})
}

// checkWindow is the stateless new-peer check used when a Verifier has no
// TimestampCache.
func checkWindow(ts Timestamp, rd time.Time, delta time.Duration) error {
	d, dl := timeUnits(rd)-tsUnits(ts), durationUnits(delta)
	if d <= -dl || d >= dl {
		return fmt.Errorf("%w: %w: RDnew - TSnew = %v, allowed Delta %v", ErrVerify, ErrTimestampWindow,
			fmtUnits(d), delta)
	}
	return nil
}

// fmtUnits formats a difference in 1/65536 s units as seconds.
func fmtUnits(d int64) string { return fmt.Sprintf("%.3fs", float64(d)/65536) }
