package subscribers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/mh"
)

// Errors of the subscriber stores and of Server. Each is wrapped together
// with the field or cause it is about.
var (
	// ErrUnknownSubscriber: no subscriber has that NAI.
	ErrUnknownSubscriber = errors.New("subscribers: unknown subscriber")
	// ErrInvalid: a Subscriber that does not Validate, or a bad argument.
	ErrInvalid = errors.New("subscribers: invalid subscriber")
	// ErrCorrupt: a stored record that cannot be decoded.
	ErrCorrupt = errors.New("subscribers: corrupt subscriber record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("subscribers: store closed")
	// ErrStore: the store failed (I/O, database connection); Server
	// returns it wrapped, and neither answers nor discards.
	ErrStore = errors.New("subscribers: subscriber store failed")
)

// MaxHMKLen bounds a stored HMK (the draft sets only the minimum,
// hokey.MinHMKLen = 64 octets).
const MaxHMKLen = 1024

// MaxARPrefixes bounds Subscriber.ARPrefixes.
const MaxARPrefixes = 64

// MaxLifetime is the largest HK lifetime an HKResp can carry: its Lifetime
// field is 16 bits of seconds (draft §5.1.2).
const MaxLifetime = 65535 * time.Second

// Subscriber is a mobile node the Handover Key Server knows: its NAI (the
// MN ID of its HKReqs), the Handover Master Key it shares with the HKS
// (draft §6.1) and what it is authorized for.
//
// Authorization (draft §6.4 "If authorization failed for the MN to use
// FMIPv6 at the AR it is visiting"): a subscriber is authorized at an AR
// when Enabled is true and ARPrefixes is empty or one of its prefixes
// contains the AR ID the AR reports; otherwise the HKS answers
// ADMINISTRATIVELY_PROHIBITED.
type Subscriber struct {
	// NAI is the subscriber's name, 1 to 254 octets (an RFC 4283 MN-NAI).
	NAI string
	// HMK is the Handover Master Key, 64 to MaxHMKLen octets. It is
	// secret: never printed or logged. Stores return a fresh copy the
	// caller clears when done.
	HMK []byte
	// Enabled allows the subscriber any handover key at all.
	Enabled bool
	// ARPrefixes, if not empty, are the only AR addresses (AR IDs) at
	// which the subscriber is authorized.
	ARPrefixes []netip.Prefix
	// MaxLifetime, if not zero, caps the lifetime of the subscriber's HKs
	// below the server's.
	MaxLifetime time.Duration
}

// Validate reports whether s can be stored; the error wraps ErrInvalid
// and names the field.
func (s *Subscriber) Validate() error {
	if err := checkNAI(s.NAI); err != nil {
		return err
	}
	if n := len(s.HMK); n < hokey.MinHMKLen || n > MaxHMKLen {
		return fmt.Errorf("%w: %s: HMK of %d octets (%d to %d; draft §6.1)", ErrInvalid, s.NAI, n, hokey.MinHMKLen, MaxHMKLen)
	}
	if len(s.ARPrefixes) > MaxARPrefixes {
		return fmt.Errorf("%w: %s: %d AR prefixes (at most %d)", ErrInvalid, s.NAI, len(s.ARPrefixes), MaxARPrefixes)
	}
	for i, p := range s.ARPrefixes {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" || p.Masked() != p {
			return fmt.Errorf("%w: %s: AR prefix [%d] %v is not an IPv6 prefix without host bits", ErrInvalid, s.NAI, i, p)
		}
	}
	if s.MaxLifetime < 0 || s.MaxLifetime > MaxLifetime || s.MaxLifetime%time.Second != 0 {
		return fmt.Errorf("%w: %s: max lifetime %v (whole seconds, 0 to %v)", ErrInvalid, s.NAI, s.MaxLifetime, MaxLifetime)
	}
	return nil
}

// Authorized reports whether s may get an HK for the AR whose AR ID is ar.
func (s *Subscriber) Authorized(ar netip.Addr) bool {
	if !s.Enabled {
		return false
	}
	if len(s.ARPrefixes) == 0 {
		return true
	}
	return slices.ContainsFunc(s.ARPrefixes, func(p netip.Prefix) bool { return p.Contains(ar) })
}

// Zero clears the HMK.
func (s *Subscriber) Zero() { clear(s.HMK) }

// Equal reports whether s and o are the same subscriber with the same
// settings, comparing the HMKs in constant time.
func (s *Subscriber) Equal(o *Subscriber) bool {
	return s.NAI == o.NAI && s.Enabled == o.Enabled && s.MaxLifetime == o.MaxLifetime &&
		slices.Equal(s.ARPrefixes, o.ARPrefixes) && subtle.ConstantTimeCompare(s.HMK, o.HMK) == 1
}

// String describes s without its HMK.
func (s Subscriber) String() string {
	return fmt.Sprintf("hks.Subscriber(%s, enabled %v, AR prefixes %v, max lifetime %v, HMK redacted)", s.NAI, s.Enabled, s.ARPrefixes, s.MaxLifetime)
}

// GoString redacts the HMK in %#v.
func (s Subscriber) GoString() string { return s.String() }

func checkNAI(nai string) error {
	if len(nai) == 0 || len(nai) > hokey.MaxNAILen {
		return fmt.Errorf("%w: NAI of %d octets (1 to %d)", ErrInvalid, len(nai), hokey.MaxNAILen)
	}
	return nil
}

// Store keeps the subscribers of a Handover Key Server and their
// replay state. Implementations are safe for concurrent use, also by
// several processes where the store is shared (Postgres).
type Store interface {
	// Get returns the subscriber named nai, with a fresh copy of its HMK,
	// or an error wrapping ErrUnknownSubscriber.
	Get(ctx context.Context, nai string) (Subscriber, error)
	// Put adds s or replaces the settings and HMK of the subscriber of
	// that NAI; it fails with ErrInvalid if s does not Validate. The
	// replay state of an existing subscriber is kept.
	Put(ctx context.Context, s *Subscriber) error
	// Delete removes the subscriber named nai and its replay state, or
	// fails with ErrUnknownSubscriber.
	Delete(ctx context.Context, nai string) error
	// List returns every subscriber ordered by NAI, without HMKs unless
	// withHMK.
	List(ctx context.Context, withHMK bool) ([]Subscriber, error)
	// AdvanceTimestamp records ts as the subscriber's last accepted
	// Timestamp if and only if it is later than the one recorded (or none
	// is), atomically: of concurrent calls with the same ts, at most one
	// returns true (draft §5.2.3: "the 64-bit timestamp used in a HKReq
	// from the Mobile Node MUST be greater than that used in any previous
	// successful HKReq"). Timestamps are ordered by TimestampOrder. It
	// fails with ErrUnknownSubscriber if there is no such subscriber.
	AdvanceTimestamp(ctx context.Context, nai string, ts mh.NTPTimestamp) (bool, error)
	// LastTimestamp returns the last accepted Timestamp and whether there
	// is one.
	LastTimestamp(ctx context.Context, nai string) (mh.NTPTimestamp, bool, error)
	// Close releases the store; later calls fail with ErrClosed.
	Close() error
}

// Loader is implemented by stores that can copy a subscriber into memory
// of the caller's, so that a server reusing one Subscriber per request (a
// pool, wiped with Zero after each) copies the HMK without allocating.
// Memory implements it; the HKS uses Get with stores that do not.
type Loader interface {
	// Load is Get into dst: dst's HMK and ARPrefixes arrays are reused
	// when they have room, its other fields overwritten. On an error dst
	// holds no HMK octet of the subscriber.
	Load(ctx context.Context, nai string, dst *Subscriber) error
}

// TimestampOrder maps an NTP timestamp to a signed integer whose order is
// the order in time over NTP eras 0 and 1 as RFC 4330 §3 reads them
// (1968-01-20 to 2104-02-26, mh.NTPTimestamp.Time): a seconds field with
// the top bit set is in era 0 and one with it clear in era 1, so flipping
// the top bit gives an unsigned order, which is the signed order of the
// unflipped value. The stores keep and compare this value (Postgres as a
// bigint).
func TimestampOrder(ts mh.NTPTimestamp) int64 { return int64(ts) }
