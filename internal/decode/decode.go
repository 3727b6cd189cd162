package decode

import (
	"errors"
	"fmt"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

// What Bytes is given.
const (
	ProtoIPv6   = "ipv6"   // a whole IPv6 packet
	ProtoICMPv6 = "icmpv6" // a bare ICMPv6 message
	ProtoMH     = "mh"     // a bare Mobility Header message
)

// Packet is one decoded packet or message.
type Packet struct {
	// Number is the packet's position in the capture (0 for hex input),
	// Time its timestamp.
	Number int
	Time   time.Time
	// Link is the link-layer header (nil for hex input).
	Link *pcapread.Link
	// IPv6 is the IPv6 packet (nil for a bare message).
	IPv6 *capture.Packet
	// Fragment is set for a fragment, which is not decoded further.
	Fragment *pcapread.Fragment
	// Protocol names the upper layer ("ICMPv6", "Mobility Header").
	Protocol string
	// Checksum is the upper-layer checksum and its verdict.
	Checksum string
	// Message is the ndp.Message or mh.Message.
	Message any
	// Verify holds the --verify verdicts (nil without --verify).
	Verify *Verification
	// Err is set for a malformed packet: nothing else is decoded.
	Err error
}

// Summary counts the packets of a run.
type Summary struct {
	Packets   int            `json:"packets"`
	Decoded   int            `json:"decoded"`
	Skipped   int            `json:"skipped"`
	SkippedBy map[string]int `json:"skipped_by_reason,omitempty"`
	Fragments int            `json:"fragments"`
	Malformed int            `json:"malformed"`
	Invalid   int            `json:"invalid"`
}

// Failed reports whether a packet was malformed or failed verification.
func (s *Summary) Failed() bool { return s.Malformed > 0 || s.Invalid > 0 }

// Decoder decodes the packets of one run; it keeps the counts and, for
// --verify, the FBUs seen so that a later FBack is checked with the key of
// its FBU.
type Decoder struct {
	// Verify turns on the checks of Verification.
	Verify bool
	// Keys are the handover keys for the BADF check and the FHKs for the
	// MN-HA check (nil: none).
	Keys    *Keys
	Summary Summary
	fbus    []fbuSeen
}

// errSkip carries the reason a packet is skipped.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return "skipped: " + e.reason }

// ndTypes are the ICMPv6 types decoded: ND (RFC 4861 §4), SEND certificate
// path discovery (RFC 3971 §6.4) and FMIPv6 (RFC 5568 §6.1).
var ndTypes = map[ndp.MessageType]bool{
	ndp.TypeRouterSolicitation: true, ndp.TypeRouterAdvertisement: true, ndp.TypeNeighborSolicitation: true,
	ndp.TypeNeighborAdvertisement: true, ndp.TypeRedirect: true, ndp.TypeCertificationPathSolicitation: true,
	ndp.TypeCertificationPathAdvertisement: true, ndp.TypeFMIPv6: true,
}

// Frame decodes frame n of a capture. It returns nil for a skipped
// packet; a malformed one comes back with Err set.
func (d *Decoder) Frame(n int, f pcapread.Frame) *Packet {
	d.Summary.Packets++
	p := &Packet{Number: n, Time: f.Time}
	pk, err := pcapread.Decode(f.LinkType, f.Data)
	switch {
	case errors.Is(err, pcapread.ErrNotIPv6):
		return d.skip("not IPv6")
	case errors.Is(err, pcapread.ErrLinkType):
		return d.skip(fmt.Sprintf("link type %d", f.LinkType))
	case err != nil:
		if f.OriginalLength > len(f.Data) {
			err = fmt.Errorf("%w (frame cut to %d of %d octets by the snapshot length)", err, len(f.Data), f.OriginalLength)
		}
		p.Err = err
		d.Summary.Malformed++
		return p
	}
	p.Link = &pk.Link
	if pk.Fragment != nil {
		p.IPv6, p.Fragment = pk.IPv6, pk.Fragment
		d.Summary.Fragments++
		return p
	}
	if err := d.upper(p, pk.IPv6, pk.IPv6.Protocol, pk.IPv6.Payload, pk.Link.Offset+pk.IPv6.Len()-len(pk.IPv6.Payload)); err != nil {
		var s *errSkip
		if errors.As(err, &s) {
			return d.skip(s.reason)
		}
		p.Err = err
		d.Summary.Malformed++
		return p
	}
	return p
}

// Bytes decodes b, given as hex: an IPv6 packet, or a bare message with
// ProtoICMPv6 or ProtoMH. A malformed packet is an error; a skipped one
// gives nil, nil.
func (d *Decoder) Bytes(proto string, b []byte) (*Packet, error) {
	d.Summary.Packets++
	p := &Packet{}
	var err error
	switch proto {
	case ProtoICMPv6:
		err = d.upper(p, nil, inet.ProtocolICMPv6, b, 0)
	case ProtoMH:
		err = d.upper(p, nil, inet.ProtocolMobility, b, 0)
	default:
		var ip *capture.Packet
		if ip, err = capture.Parse(b); err == nil {
			err = d.upper(p, ip, ip.Protocol, ip.Payload, len(b)-len(ip.Payload))
		}
	}
	var s *errSkip
	switch {
	case errors.As(err, &s):
		return d.skip(s.reason), nil
	case err != nil:
		d.Summary.Malformed++
		return nil, err
	}
	return p, nil
}

func (d *Decoder) skip(reason string) *Packet {
	d.Summary.Skipped++
	if d.Summary.SkippedBy == nil {
		d.Summary.SkippedBy = map[string]int{}
	}
	d.Summary.SkippedBy[reason]++
	return nil
}

// upper decodes the upper-layer message b of protocol nh, at offset base
// of the input, into p; ip is its IPv6 packet (nil for a bare message).
func (d *Decoder) upper(p *Packet, ip *capture.Packet, nh uint8, b []byte, base int) error {
	switch nh {
	case inet.ProtocolICMPv6:
		if len(b) > 0 && !ndTypes[ndp.MessageType(b[0])] {
			return &errSkip{fmt.Sprintf("ICMPv6 type %d", b[0])}
		}
		m, err := ndp.ParseMessage(b)
		if err != nil {
			return fmt.Errorf("ICMPv6 message at offset %d: %w", base, err)
		}
		p.Protocol, p.Message = "ICMPv6", m
	case inet.ProtocolMobility:
		m, err := mh.ParseMessage(b)
		if err != nil {
			return fmt.Errorf("Mobility Header at offset %d: %w", base, err)
		}
		p.Protocol, p.Message = "Mobility Header", m
	default:
		return &errSkip{fmt.Sprintf("next header %d", nh)}
	}
	p.IPv6 = ip
	if ip != nil {
		if got, want, err := ip.Checksum(); err == nil {
			if got == want {
				p.Checksum = fmt.Sprintf("0x%04x good", got)
			} else {
				p.Checksum = fmt.Sprintf("0x%04x BAD, want 0x%04x", got, want)
			}
		}
	}
	d.Summary.Decoded++
	if d.Verify && ip != nil {
		p.Verify = d.verify(ip, p.Message)
		if p.Verify.Invalid() {
			d.Summary.Invalid++
		}
	}
	return nil
}
