package forward

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Errors. Every error returned by this package wraps one of them.
var (
	// ErrParse: a packet is malformed or truncated (truncation also
	// wraps io.ErrUnexpectedEOF).
	ErrParse = errors.New("forward: malformed packet")
	// ErrInvalid: a binding, header or configuration violates a rule of
	// this package or of the RFCs it implements.
	ErrInvalid = errors.New("forward: invalid argument")
	// ErrNoBinding: Remove named a previous CoA without a binding.
	ErrNoBinding = errors.New("forward: no binding")
	// ErrClosed: the forwarder or decapsulator was closed.
	ErrClosed = errors.New("forward: closed")
	// ErrUnsupported: user-space tunnelling is not available on this
	// platform.
	ErrUnsupported = errors.New("forward: not supported on this platform")
)

// Binding asks the PAR to tunnel the packets addressed to PreviousCoA to
// NewCoA for Lifetime (RFC 5568 §4: "In response to the FBU, the PAR
// establishes a binding between the PCoA ("Home Address") and the NCoA").
// The lifetime of the tunnel defaults to the lifetime of the FBU (§5.6).
type Binding struct {
	PreviousCoA netip.Addr
	NewCoA      netip.Addr
	Lifetime    time.Duration
}

// Entry is a binding as held by a Forwarder, with the instant at which
// forwarding for it stops.
type Entry struct {
	Binding
	Expires time.Time
}

// Counters are cumulative data-plane statistics. Packets and Bytes count
// the original packets tunnelled (Bytes without the tunnel header).
// Dropped counts packets that reached the forwarder but were not
// tunnelled: no live binding for the destination, malformed, too large or
// a send error. The stack's own link traffic on a TUN device (packets to
// multicast or link-local destinations, such as MLD reports) is discarded
// without being counted. Expired counts bindings removed because their lifetime ran
// out (not those removed by Remove or replaced by Add).
type Counters struct {
	Packets uint64
	Bytes   uint64
	Dropped uint64
	Expired uint64
}

// Forwarder is the PAR's forwarding plane as the access-router role sees it
// (RFC 5568 §4, §5.6). Implementations are safe for concurrent use.
type Forwarder interface {
	// Add starts, or replaces, forwarding for b.PreviousCoA: a newer
	// authenticated FBU "supersedes the existing binding at the PAR"
	// (RFC 5568 §5.6). A zero Lifetime terminates the binding as an FBU
	// with lifetime zero does (§5.6) and is not an error when none exists.
	// Addresses must be global unicast IPv6 addresses, distinct, and must
	// not chain with another binding (a tunnel loop); see Binding.Validate.
	Add(ctx context.Context, b Binding) error
	// Remove stops forwarding for pcoa; ErrNoBinding if there is none.
	Remove(pcoa netip.Addr) error
	// Bindings returns a snapshot of the live bindings, in no order.
	Bindings() []Entry
	// Counters returns a snapshot of the counters.
	Counters() Counters
	// Close removes every binding (without OnExpire calls) and releases
	// the resources.
	Close() error
}

// Options are the settings shared by every Forwarder implementation.
type Options struct {
	// OnExpire, when set, is called (from its own goroutine, never with a
	// lock held) with the previous CoA of each binding whose lifetime ran
	// out, so that the AR can discard the handover key: "The PAR MUST
	// discard the key after FMIPv6 forwarding for the previous Care-of
	// Address times out" (RFC 5269 §3.6).
	OnExpire func(pcoa netip.Addr)
	// Now is the clock; nil means time.Now. Expiry itself runs on timers.
	Now func() time.Time
}

// Validate checks b as Add does, apart from the relation to other bindings.
// A negative lifetime, an address that is not a global unicast IPv6 address
// (unspecified, loopback, multicast, link-local, IPv4-mapped, zoned) and
// PreviousCoA == NewCoA are ErrInvalid.
func (b Binding) Validate() error {
	if b.Lifetime < 0 {
		return fmt.Errorf("%w: binding: negative lifetime %v", ErrInvalid, b.Lifetime)
	}
	if err := checkCoA("previous care-of address", b.PreviousCoA); err != nil {
		return err
	}
	if err := checkCoA("new care-of address", b.NewCoA); err != nil {
		return err
	}
	if b.PreviousCoA == b.NewCoA {
		return fmt.Errorf("%w: binding: new care-of address equals previous care-of address %v", ErrInvalid, b.PreviousCoA)
	}
	return nil
}

func checkCoA(field string, a netip.Addr) error {
	if !a.Is6() || a.Is4In6() || a.Zone() != "" || !a.IsGlobalUnicast() {
		return fmt.Errorf("%w: binding: %s %v is not a global unicast IPv6 address", ErrInvalid, field, a)
	}
	return nil
}
