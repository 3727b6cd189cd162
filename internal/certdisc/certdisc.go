package certdisc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/ndp"
)

// Protocol constants of RFC 3971 §10.1.
const (
	// CPSRetry is CPS_RETRY: the wait before the first retransmission of a
	// Certification Path Solicitation; each later wait doubles (§6.4.6).
	CPSRetry = 1 * time.Second
	// CPSRetryFragments is CPS_RETRY_FRAGMENTS: after receiving the first
	// part of a path, a host may solicit a missing component once this
	// much time has passed (§6.4.6).
	CPSRetryFragments = 2 * time.Second
	// CPSRetryMax is CPS_RETRY_MAX: the host abandons the retrieval after
	// this long (§6.4.6).
	CPSRetryMax = 15 * time.Second
	// MaxCPARate is MAX_CPA_RATE: a router "SHOULD NOT send Certification
	// Path Advertisements more than MAX_CPA_RATE times within a second"
	// (§6.4.5).
	MaxCPARate = 10
)

// AllComponents is the Component value of a solicitation that asks for the
// whole path: "set to 65,535 if the sender seeks to retrieve all
// certificates" (RFC 3971 §6.4.1).
const AllComponents = 0xffff

// hopLimit is the IPv6 Hop Limit of every CPS and CPA (RFC 3971 §6.4.1,
// §6.4.2); a receiver drops any other value, which proves the sender is
// on-link (RFC 4861 §6.1).
const hopLimit = 255

// Well-known link-scope multicast addresses (RFC 4291 §2.7.1).
var (
	AllNodes   = netip.MustParseAddr("ff02::1")
	AllRouters = netip.MustParseAddr("ff02::2")
)

// SolicitedNodeMulticast returns the Solicited-Node multicast address of a
// (RFC 4291 §2.7.1: ff02::1:ff00:0/104 followed by the low-order 24 bits of
// the address), the destination of a CPA answering a solicitation from a
// (RFC 3971 §6.4.5).
func SolicitedNodeMulticast(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// Reasons for dropping a received message. Every error HandlePacket returns
// wraps exactly one of them (ErrParse together with the ndp cause).
var (
	// ErrParse: the message does not conform to the format of RFC 3971
	// §6.4.1 or §6.4.2 (bad checksum, truncation, Code not 0, zero-length
	// option, Component beyond All Components, ...). It also wraps the ndp
	// error (ndp.ErrParse, ndp.ErrChecksum) when there is one.
	ErrParse = errors.New("certdisc: malformed message")
	// ErrHopLimit: the IPv6 Hop Limit is not 255 (RFC 3971 §6.4.1, §6.4.2).
	ErrHopLimit = errors.New("certdisc: hop limit is not 255")
	// ErrNotCertificationPath: the packet is not the message this side
	// handles (a CPS for a Responder, a CPA for a Solicitor). Not counted.
	ErrNotCertificationPath = errors.New("certdisc: not a certification path message")
	// ErrUnmatched: a CPA matches no outstanding solicitation.
	ErrUnmatched = errors.New("certdisc: advertisement matches no solicitation")
	// ErrDuplicate: a component that was already received.
	ErrDuplicate = errors.New("certdisc: duplicate component")
	// ErrInconsistent: a component that contradicts the ones already
	// received from the same router (another All Components value, another
	// certificate for the same Component, a path too long to be verified).
	ErrInconsistent = errors.New("certdisc: inconsistent component")
	// ErrNoTrustAnchor: a solicitation without a Trust Anchor option, or
	// whose first Trust Anchor option is not a DER Encoded X.501 Name
	// (RFC 3971 §6.4.1: "The first (or only) Trust Anchor option MUST
	// contain a DER Encoded X.501 Name").
	ErrNoTrustAnchor = errors.New("certdisc: solicitation has no valid Trust Anchor option")
	// ErrRateLimited: the answer was deferred to a coalesced All-Nodes
	// advertisement, or dropped, because MAX_CPA_RATE was reached.
	ErrRateLimited = errors.New("certdisc: advertisement rate limit reached")
)

// Outcomes of FetchPath besides the certpath validation errors
// (certpath.ErrUntrustedAnchor, certpath.ErrPrefixNotAuthorized, ...),
// which FetchPath returns wrapped as they are.
var (
	// ErrTimeout: no usable advertisement within CPS_RETRY_MAX (§6.4.6).
	ErrTimeout = errors.New("certdisc: no certification path advertisement received")
	// ErrNoPath: the router answered without certificates: it has no path
	// to any of the solicited trust anchors (RFC 3971 §6.4.5).
	ErrNoPath = errors.New("certdisc: router has no certification path to the trust anchors")
	// ErrKeyMismatch: the verified path certifies a router key other than
	// the one the caller asked for (RFC 5269 §3.3: the PrRtAdv must be
	// signed with "the router's certified public key").
	ErrKeyMismatch = errors.New("certdisc: certified router key differs from the requested one")
)

// checkReceived applies the IP-level checks common to CPS and CPA: hop
// limit 255, ICMPv6 as next header (when set), the message type and the
// checksum (RFC 3971 §6.4.1, §6.4.2, RFC 4443 §2.3).
func checkReceived(p netio.Packet, want ndp.MessageType) error {
	if p.NextHeader != 0 && p.NextHeader != inet.ProtocolICMPv6 {
		return fmt.Errorf("%w: next header %d", ErrNotCertificationPath, p.NextHeader)
	}
	if len(p.Payload) == 0 || ndp.MessageType(p.Payload[0]) != want {
		return ErrNotCertificationPath
	}
	if p.HopLimit != hopLimit {
		return fmt.Errorf("%w: %d from %v", ErrHopLimit, p.HopLimit, p.Src)
	}
	if !p.Src.Is6() || !p.Dst.Is6() || p.Src.IsMulticast() {
		return fmt.Errorf("%w: source %v, destination %v", ErrParse, p.Src, p.Dst)
	}
	if err := ndp.VerifyChecksum(p.Src, p.Dst, p.Payload); err != nil {
		return fmt.Errorf("%w: %w", ErrParse, err)
	}
	return nil
}

// pickSource returns the address a node sends CPS or CPA from: the
// configured one, else a link-local unicast address of conn (RFC 3971
// §6.4.1, §6.4.2), else its first address, else the unspecified address.
func pickSource(configured netip.Addr, conn netio.Conn) netip.Addr {
	if configured.IsValid() {
		return configured
	}
	addrs := conn.Addrs()
	for _, a := range addrs {
		if a.Is6() && a.IsLinkLocalUnicast() {
			return a
		}
	}
	for _, a := range addrs {
		if a.Is6() {
			return a
		}
	}
	return netip.IPv6Unspecified()
}

// send marshals m with its checksum and writes it with hop limit 255.
func send(ctx context.Context, conn netio.Conn, m ndp.Message, src, dst netip.Addr) error {
	b, err := ndp.MarshalMessageWithChecksum(m, src, dst)
	if err != nil {
		return fmt.Errorf("certdisc: %s: %w", m.Name(), err)
	}
	return conn.WritePacket(ctx, netio.Packet{Src: src, Dst: dst, HopLimit: hopLimit, NextHeader: inet.ProtocolICMPv6, Payload: b})
}

// receive checks p (checkReceived) and parses it as the message T of type
// want, counting a drop for a wrong hop limit in hopLimit and any other
// malformation in malformed.
func receive[T ndp.Message](p netio.Packet, want ndp.MessageType, hopLimit, malformed *atomic.Uint64) (T, error) {
	var zero T
	if err := checkReceived(p, want); err != nil {
		switch {
		case errors.Is(err, ErrHopLimit):
			hopLimit.Add(1)
		case errors.Is(err, ErrParse):
			malformed.Add(1)
		}
		return zero, err
	}
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		malformed.Add(1)
		return zero, fmt.Errorf("%w: %w", ErrParse, err)
	}
	t, ok := m.(T)
	if !ok {
		malformed.Add(1)
		return zero, fmt.Errorf("%w: %s", ErrParse, m.Name())
	}
	return t, nil
}
