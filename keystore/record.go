package keystore

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"time"
)

// HKLifetime is HK-LIFETIME, "the maximum lifetime for the handover key.
// Default is 12 hours (43200 seconds)" (RFC 5269 §3.7).
const HKLifetime = 12 * time.Hour

// MaxKeyLen is the largest handover key a Record holds, in octets: room for
// an HMAC-SHA256 key of the hash's output size (RFC 2104 §3 recommends a key
// of at least the output length L; 32 octets for SHA-256).
const MaxKeyLen = 32

// MaxAlgorithmType is the largest AT value: AT is "a 4-bit algorithm type
// field" (RFC 5269 §4.1, §4.2).
const MaxAlgorithmType = 15

var (
	// ErrNotFound reports that no record is stored for the (AR, MN) pair.
	ErrNotFound = errors.New("keystore: no handover key")
	// ErrExpired reports that the record for the (AR, MN) pair has passed
	// its Expires time. Errors that wrap ErrExpired also wrap ErrNotFound,
	// so callers that do not care about the difference test ErrNotFound
	// only. Once [Store.Expire] has removed the record, Get reports
	// ErrNotFound alone.
	ErrExpired = errors.New("keystore: handover key expired")
	// ErrClosed reports use of a Store after Close.
	ErrClosed = errors.New("keystore: store closed")
	// ErrInvalid reports a Record that cannot be stored (see
	// [Record.Validate]).
	ErrInvalid = errors.New("keystore: invalid record")
	// ErrCorrupt reports stored or encoded record bytes that do not decode;
	// the error also names the field at fault.
	ErrCorrupt = errors.New("keystore: corrupt record")
)

// Key is handover key material: the first Record.KeyLen octets are the key,
// the rest are zero. Its fmt, String and GoString output is redacted.
type Key [MaxKeyLen]byte

// Equal reports whether k and o hold the same octets, in time independent of
// their contents.
func (k *Key) Equal(o *Key) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// String returns a fixed placeholder; key octets are never printed.
func (k Key) String() string { return "[redacted]" }

// GoString returns a fixed placeholder; key octets are never printed.
func (k Key) GoString() string { return "keystore.Key{redacted}" }

// Format writes the redacted placeholder for every verb, so %x, %v and %#v
// cannot print key octets either.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}

// Record is one stored handover key (RFC 5269 §3.2, §3.3) indexed by the
// pair (AR, MN).
//
// Fields beyond the brief, none: the zone of AR and MN is not part of the
// index and is dropped by the stores (records come back zone-less), so a
// mobile node that sees the same link-local router address on two links
// must use distinct (global) router addresses to tell them apart.
type Record struct {
	// AR is the access router's address: the PrRtAdv source on the mobile
	// node, the router's own address on the access router (RFC 5269 §3.2).
	AR netip.Addr
	// MN is the mobile node's care-of CGA, the index the PAR uses to find
	// the key (RFC 5269 §3.5).
	MN netip.Addr
	// AT is the 4-bit algorithm type of the Handover Key Reply (RFC 5269
	// §4.2): the algorithm FMIPv6 uses to compute the BADF authenticator.
	AT uint8
	// SPI is the BADF Security Parameter Index (RFC 5568 §6.4.5): "SPI = 0
	// is reserved for the Authenticator computed using SEND-based handover
	// keys"; other values serve the AAA-based keys.
	SPI uint32
	// Key holds the handover key in its first KeyLen octets.
	Key Key
	// KeyLen is the key length in octets, 1 to MaxKeyLen.
	KeyLen uint8
	// Created is when the key was generated (AR) or received (MN).
	Created time.Time
	// Expires is Created plus the Key Lifetime (RFC 5269 §4.2), at most
	// HK-LIFETIME on the AR. The record is valid while now is before
	// Expires.
	Expires time.Time
}

// Bounds of the times a Record can hold: the stores keep nanoseconds since
// the Unix epoch in a non-negative int64 (docs/keystore.md), so the range is
// 1970-01-01 to 2262-04-11 UTC.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// KeyBytes returns the key octets, a slice of r.Key (not a copy).
func (r *Record) KeyBytes() []byte { return r.Key[:min(int(r.KeyLen), MaxKeyLen)] }

// KeyEqual reports whether the record's key equals key in constant time
// (the length, fixed by the AT, is not secret).
func (r *Record) KeyEqual(key []byte) bool {
	return subtle.ConstantTimeCompare(r.KeyBytes(), key) == 1
}

// SetKey copies key into r.Key, zeroes the rest and sets r.KeyLen. It fails
// with ErrInvalid when key is empty or longer than MaxKeyLen.
func (r *Record) SetKey(key []byte) error {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key length %d, want 1 to %d", ErrInvalid, len(key), MaxKeyLen)
	}
	clear(r.Key[:])
	copy(r.Key[:], key)
	r.KeyLen = uint8(len(key))
	return nil
}

// Zero wipes the key octets of r (the caller's copy; see docs/keystore.md
// for what zeroing can and cannot reach in Go).
func (r *Record) Zero() {
	clear(r.Key[:])
	r.KeyLen = 0
}

// ExpiredAt reports whether r has expired at now: RFC 5269 §3.6 has the key
// discarded "when HK-LIFETIME expires", taken here as the instant Expires.
func (r *Record) ExpiredAt(now time.Time) bool { return !now.Before(r.Expires) }

// Equal reports whether r and o hold the same record: addresses (without
// zone), AT, SPI, key length and times compare normally, key octets in
// constant time.
func (r *Record) Equal(o *Record) bool {
	keyEq := r.Key.Equal(&o.Key)
	return keyEq &&
		r.AR.WithZone("") == o.AR.WithZone("") &&
		r.MN.WithZone("") == o.MN.WithZone("") &&
		r.AT == o.AT && r.SPI == o.SPI && r.KeyLen == o.KeyLen &&
		r.Created.Equal(o.Created) && r.Expires.Equal(o.Expires)
}

// Validate reports, wrapped in ErrInvalid, why r cannot be stored: AR and MN
// must be IPv6 addresses; AT must fit its 4 bits (RFC 5269 §4.2); KeyLen
// must be 1 to MaxKeyLen; Created and Expires must lie in 1970..2262 and
// Expires must be after Created. Octets of Key beyond KeyLen are not
// checked; stores keep them as zero.
func (r *Record) Validate() error {
	switch {
	case !r.AR.Is6():
		return fmt.Errorf("%w: AR %v is not an IPv6 address", ErrInvalid, r.AR)
	case !r.MN.Is6():
		return fmt.Errorf("%w: MN %v is not an IPv6 address", ErrInvalid, r.MN)
	case r.AT > MaxAlgorithmType:
		return fmt.Errorf("%w: AT %d does not fit 4 bits", ErrInvalid, r.AT)
	case r.KeyLen == 0 || r.KeyLen > MaxKeyLen:
		return fmt.Errorf("%w: key length %d, want 1 to %d", ErrInvalid, r.KeyLen, MaxKeyLen)
	case !timeInRange(r.Created):
		return fmt.Errorf("%w: created %v outside %v..%v", ErrInvalid, r.Created, minTime.UTC(), maxTime.UTC())
	case !timeInRange(r.Expires):
		return fmt.Errorf("%w: expires %v outside %v..%v", ErrInvalid, r.Expires, minTime.UTC(), maxTime.UTC())
	case !r.Expires.After(r.Created):
		return fmt.Errorf("%w: expires %v not after created %v", ErrInvalid, r.Expires, r.Created)
	}
	return nil
}

func timeInRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// nowNano converts any time, mapping times before 1970 to -1 so that nothing
// stored (Expires >= 0) counts as expired, and times after 2262 to the
// largest int64.
func nowNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return -1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }

// String describes r without its key octets.
func (r Record) String() string {
	return fmt.Sprintf("keystore.Record{AR: %v, MN: %v, AT: %d, SPI: %d, Key: [redacted %d octets], Created: %v, Expires: %v}",
		r.AR, r.MN, r.AT, r.SPI, r.KeyLen, r.Created.Format(time.RFC3339Nano), r.Expires.Format(time.RFC3339Nano))
}

// GoString is String: key octets are never printed.
func (r Record) GoString() string { return r.String() }

// Format writes String for every verb, so no fmt verb prints key octets.
func (r Record) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }

// LogValue implements slog.LogValuer without the key octets.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("ar", r.AR.String()),
		slog.String("mn", r.MN.String()),
		slog.Int("at", int(r.AT)),
		slog.Uint64("spi", uint64(r.SPI)),
		slog.Int("key_len", int(r.KeyLen)),
		slog.Time("created", r.Created),
		slog.Time("expires", r.Expires),
	)
}
