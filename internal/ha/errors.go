package ha

import (
	"errors"
	"fmt"
)

// ErrDropped is wrapped by every error of a packet the home agent drops
// silently (RFC 6275 §9.5.1: "MUST be silently discarded"; RFC 6618 §5.6.4,
// §6.4). The cause — a sentinel of this package or of mip6udp — is wrapped
// with it, and Stats counts it.
var ErrDropped = errors.New("ha: packet dropped")

// ErrSA is wrapped when a security association cannot be installed.
var ErrSA = errors.New("ha: security association refused")

// Causes of a drop that are not mip6udp's.
var (
	// ErrSPIZero: a PType 1 or 8 packet with SPI 0 (RFC 6618 §6.1:
	// mobility management messages "MUST NOT be sent with an SPI value of
	// 0 (zero)").
	ErrSPIZero = errors.New("ha: SPI 0 on a protected packet")
	// ErrNotBindingUpdate: a PType 8 payload that is not a Binding Update
	// behind the Next Header 135 or a Home Address destination option.
	ErrNotBindingUpdate = errors.New("ha: not a Binding Update")
	// ErrInnerSource: reverse-tunneled data whose inner source is not the
	// SA's home address (RFC 6618 §6.4: "the home address of the MN").
	ErrInnerSource = errors.New("ha: inner source is not the home address")
	// ErrNoBinding: data for or from a home address with no binding, or
	// plaintext data from an address and port no binding has.
	ErrNoBinding = errors.New("ha: no binding")
	// ErrExpiredSA: a packet on an SA whose validity has ended (§5.6.3)
	// other than a Binding Update, which is answered with status 176.
	ErrExpiredSA = errors.New("ha: security association expired")
	// ErrLease: a verified packet beyond the SA's inbound lease, dropped
	// because the new lease could not be written (docs/ha.md).
	ErrLease = errors.New("ha: beyond the inbound lease, lease not written")
	// ErrStore: the state could not be persisted; the change is not made.
	ErrStore = errors.New("ha: state store failed")
)

// ErrLeaseWait is returned by HandleUDP under Config.HoldBeyondLease for a
// verified packet beyond its SA's inbound lease: not dropped, not counted
// as a drop; the caller writes the lease (WriteLeases) and gives the packet
// to HandleHeld.
var ErrLeaseWait = errors.New("ha: beyond the inbound lease, waiting for its write")

func drop(cause error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrDropped, cause, fmt.Sprintf(format, args...))
}

// ErrInnerPacket: a tunneled packet, or the headers in front of a Binding
// Update, too short or of an unknown version.
var ErrInnerPacket = errors.New("ha: malformed inner packet")
