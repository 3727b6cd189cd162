package keystore

import (
	"net/netip"
	"time"
)

// Store keeps handover key records indexed by (AR, MN) (RFC 5269 §3.2,
// §3.5). Implementations are safe for concurrent use. Errors wrap the
// package sentinels: ErrNotFound, ErrExpired, ErrInvalid, ErrCorrupt,
// ErrClosed.
type Store interface {
	// Put inserts r, or replaces the record stored for (r.AR, r.MN). It
	// fails with ErrInvalid when r does not Validate. The store keeps its
	// own copy; key octets beyond r.KeyLen are stored as zero.
	Put(r *Record) error
	// Get returns the record for (ar, mn). It fails with ErrNotFound when
	// there is none and with ErrExpired (which also matches ErrNotFound)
	// when the record has expired at the store's clock: an expired record
	// is never returned.
	Get(ar, mn netip.Addr) (Record, error)
	// Delete removes and wipes the record for (ar, mn), expired or not; it
	// fails with ErrNotFound when there is none.
	Delete(ar, mn netip.Addr) error
	// Expire removes and wipes every record whose Expires is at or before
	// now, without scanning unexpired records, and returns how many it
	// removed (RFC 5269 §3.6: discard "when HK-LIFETIME expires").
	Expire(now time.Time) (int, error)
	// Len returns the number of stored records, including expired records
	// that Expire has not yet removed.
	Len() int
	// Range calls fn with each unexpired record until fn returns false.
	// The record passed to fn is the store's scratch copy, valid during
	// the call only (copy *r to keep it); Range wipes it afterwards. fn may
	// call the store. Range is weakly consistent: a record present for the
	// whole call is seen exactly once; records put or deleted meanwhile
	// may or may not be seen.
	Range(fn func(r *Record) bool) error
	// Close wipes what it can and releases the store; later calls fail
	// with ErrClosed. Close is idempotent.
	Close() error
}

// Option configures a store.
type Option func(*options)

type options struct {
	now         func() time.Time
	batchDelay  time.Duration
	lockTimeout time.Duration
	noSync      bool
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now, lockTimeout: time.Second, batchDelay: DefaultBatchDelay}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// WithClock sets the clock Get and Range judge expiry by (default
// time.Now). Tests inject a fake clock with it.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// DefaultBatchDelay is how long a Bolt store lets concurrent writers join
// a batch (WithBatchDelay).
const DefaultBatchDelay = time.Millisecond

// WithBatchDelay sets how a Bolt store commits Put and Delete. With d > 0
// (default DefaultBatchDelay) it uses bbolt's DB.Batch: concurrent writers
// share one transaction and one fsync; a batch commits d after its first
// writer arrives or when full (bbolt's MaxBatchSize, 1000), so a lone writer
// waits up to d longer. With d == 0 each Put and Delete is its own
// transaction, which bounds writes by the fsync rate (about 480/s measured,
// docs/keystore.md) — below an access router's provisioning rate. Either
// way a record is durable when Put returns. Memory ignores it.
func WithBatchDelay(d time.Duration) Option {
	return func(o *options) { o.batchDelay = max(d, 0) }
}

// WithLockTimeout sets how long OpenBolt waits for the file lock another
// process holds (default 1 s; 0 waits forever).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithNoSync skips fsync on commit (bbolt's NoSync): a crash may lose
// recent records. For tests and benchmarks only; Memory ignores it.
func WithNoSync() Option { return func(o *options) { o.noSync = true } }

// pairKey is the compact index of a record: AR then MN, 16 octets each,
// zone dropped. It is also the bbolt record key.
type pairKey [32]byte

func makePairKey(ar, mn netip.Addr) pairKey {
	var k pairKey
	a, m := ar.As16(), mn.As16()
	copy(k[:16], a[:])
	copy(k[16:], m[:])
	return k
}

// validPair reports whether ar and mn can index a record (IPv6 addresses).
func validPair(ar, mn netip.Addr) bool { return ar.Is6() && mn.Is6() }
