package mip6mn

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// Protocol numbers of the headers a PType 8 payload starts with (RFC 6618
// §6.3: "The Next Header field MUST be set to value of the first
// encapsulated header").
const (
	// NextHeaderDestinationOptions starts the Binding Update: a
	// Destination Options header with the Home Address option.
	NextHeaderDestinationOptions = inet.ProtocolDstOpts
	// NextHeaderRouting starts a Binding Acknowledgement that carries a
	// type 2 Routing header (RFC 6275 §6.4).
	NextHeaderRouting = 43
	// NextHeaderMobility is a bare Mobility Header.
	NextHeaderMobility = inet.ProtocolMobility
)

// lifetimeUnit is the Binding Update's Lifetime unit (RFC 6275 §6.1.7:
// "one time unit is 4 seconds").
const lifetimeUnit = 4 * time.Second

// maxLifetime is the largest Lifetime field, 65535 units.
const maxLifetime = 0xffff * lifetimeUnit

// routingType2Len is the length of a type 2 Routing header (RFC 6275
// §6.4.1: Hdr Ext Len 2, Segments Left 1, one home address).
const routingType2Len = 24

// BindingUpdatePayload returns the PType 8 payload of a home registration
// (RFC 6618 §6.3) and the Next Header that the packet's trailer carries.
//
// RFC 6618 carries "a Mobility Header (defined by RFC 6275) and other
// relevant IPv6 extension headers" with "no additional IP header"; the
// headers are those RFC 6275 §11.7.1 requires of a home registration:
//
//   - a Destination Options header with the Home Address option ("The
//     packet MUST contain a Home Address destination option, giving the
//     mobile node's home address for the binding"), 24 octets, PadN(2)
//     placing the option at 8n+6 (RFC 6275 §6.3);
//   - the Binding Update with A and H set ("MUST be set"), L and K clear
//     (no link-local compatibility is claimed; the SA is re-bootstrapped,
//     not moved, so no key-management mobility, §11.7.1 "Otherwise, the
//     mobile node MUST clear the bit"), and the Alternate Care-of Address
//     option ("This option MUST be included in all home registrations"):
//     the outer source address may be translated, the option is under
//     the ICV.
//
// The Mobility Header checksum is computed over the pseudo-header that
// the packet would have without the UDP encapsulation: the home address
// as source (RFC 6275 §6.1.1: the home address when a Home Address option
// is present) and the home agent's address as destination.
func BindingUpdatePayload(seq uint16, lifetime time.Duration, home, careOf, homeAgent netip.Addr) (uint8, []byte, error) {
	if !careOf.Is6() || careOf.Is4In6() || careOf.IsUnspecified() || careOf.IsMulticast() {
		return 0, nil, wrap(ErrAddress, nil, "care-of address %v is not an IPv6 unicast address (RFC 6275 §6.2.5)", careOf)
	}
	b, err := netio.AppendHomeAddressHeader(make([]byte, 0, 64), NextHeaderMobility, home)
	if err != nil {
		return 0, nil, wrap(ErrAddress, err, "binding update")
	}
	msg, err := mh.MarshalMessage(mh.BindingUpdate{
		Sequence: seq, Acknowledge: true, HomeRegistration: true,
		Lifetime: lifetime,
		Options:  []mh.Option{mh.AlternateCareOfAddress{Address: careOf}},
	})
	if err != nil {
		return 0, nil, wrap(ErrConfig, err, "binding update")
	}
	if err := mh.SetChecksum(msg, home, homeAgent); err != nil {
		return 0, nil, wrap(ErrConfig, err, "binding update")
	}
	return NextHeaderDestinationOptions, append(b, msg...), nil
}

// ParseHomeAgentMessage reads the Mobility Header message of a PType 8
// payload the home agent sent to home. RFC 6618 §6.3 leaves the headers
// before it to "the natural IPv6 and Mobile IPv6 extension header
// alignment and formatting rules"; accepted are a bare Mobility Header
// (Next Header 135) and a type 2 Routing header carrying the home address
// (RFC 6275 §6.4, Next Header 43), which is how a Binding Acknowledgement
// reaches a mobile node away from home (§9.5.4). The checksum is verified
// with the home agent's address as source and the home address as
// destination.
func ParseHomeAgentMessage(nextHeader uint8, payload []byte, home, homeAgent netip.Addr) (mh.Message, error) {
	b := payload
	if nextHeader == NextHeaderRouting {
		var err error
		if b, err = skipRoutingType2(b, home); err != nil {
			return nil, err
		}
		nextHeader = NextHeaderMobility
	}
	if nextHeader != NextHeaderMobility {
		return nil, wrap(ErrParse, nil, "next header %d: want 135 (Mobility Header) or 43 (type 2 Routing header)", nextHeader)
	}
	if err := mh.VerifyChecksum(b, homeAgent, home); err != nil {
		return nil, wrap(ErrParse, err, "mobility header")
	}
	m, err := mh.ParseMessage(b)
	if err != nil {
		return nil, wrap(ErrParse, err, "mobility header")
	}
	return m, nil
}

// skipRoutingType2 checks the type 2 Routing header at the start of b
// (RFC 6275 §6.4.1) and returns what follows; it must be followed by a
// Mobility Header and name home.
func skipRoutingType2(b []byte, home netip.Addr) ([]byte, error) {
	if len(b) < routingType2Len {
		return nil, wrap(ErrParse, io.ErrUnexpectedEOF, "type 2 routing header: %d octets, want %d", len(b), routingType2Len)
	}
	switch {
	case b[0] != NextHeaderMobility:
		return nil, wrap(ErrParse, nil, "type 2 routing header: next header %d, want 135", b[0])
	case b[1] != routingType2Len/8-1:
		// RFC 6275 §6.4.1: "Hdr Ext Len: 2".
		return nil, wrap(ErrParse, nil, "type 2 routing header: hdr ext len %d, want 2", b[1])
	case b[2] != 2:
		return nil, wrap(ErrParse, nil, "routing header: routing type %d, want 2", b[2])
	case b[3] != 1:
		// RFC 6275 §6.4.1: "Segments Left: 1"; the mobile node is the
		// final destination, so the header has been processed.
		return nil, wrap(ErrParse, nil, "type 2 routing header: segments left %d, want 1", b[3])
	}
	if a := netip.AddrFrom16([16]byte(b[8:24])); a != home {
		return nil, wrap(ErrAddress, nil, "type 2 routing header: home address %v, ours is %v", a, home)
	}
	return b[routingType2Len:], nil
}

// AppendRoutingType2 appends a type 2 Routing header naming home,
// followed by a Mobility Header (RFC 6275 §6.4.1); a home agent's
// Binding Acknowledgement may start with it.
func AppendRoutingType2(b []byte, home netip.Addr) []byte {
	a := home.As16()
	b = append(b, NextHeaderMobility, routingType2Len/8-1, 2, 1, 0, 0, 0, 0)
	return append(b, a[:]...)
}

// bindingLifetime is the Lifetime to request: the configured one, no
// longer than the SA remains valid (RFC 6275 §11.7.1: "SHOULD be less than
// or equal to the remaining valid lifetime"), rounded down to 4-second
// units; an error when under one unit remains.
func bindingLifetime(want time.Duration, now, validUntil time.Time) (time.Duration, error) {
	l := min(want, validUntil.Sub(now), maxLifetime)
	l -= l % lifetimeUnit
	if l <= 0 {
		return 0, wrap(ErrSecurityAssociation, nil, "SA valid until %s, too soon for a binding", validUntil.UTC().Format(time.RFC3339))
	}
	return l, nil
}

func describe(m mh.Message) string { return fmt.Sprintf("%T", m) }
