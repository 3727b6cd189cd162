package forward

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"github.com/fhkey/fhkey/internal/inet"
)

// HeaderLen is the length of the fixed IPv6 header (RFC 8200 §3).
const HeaderLen = 40

// MaxPayloadLength is the largest payload the 16-bit Payload Length field
// of an IPv6 header can describe (RFC 8200 §3); jumbograms (RFC 2675) are
// not tunnelled.
const MaxPayloadLength = 0xffff

// DefaultHopLimit is the Hop Limit of the tunnel header unless configured
// otherwise: the tunnel entry point sets the tunnel header's hop limit to
// its own default, independently of the original packet (RFC 2473 §3.1,
// §6.3). 64 is the value RFC 1700 recommended and Linux uses.
const DefaultHopLimit = 64

// Header is the fixed IPv6 header (RFC 8200 §3).
type Header struct {
	TrafficClass uint8
	// FlowLabel is 20 bits; larger values are rejected by AppendTo.
	FlowLabel uint32
	// PayloadLength is the length of everything after the fixed header.
	// ParseHeader fills it in; AppendTo writes it as given.
	PayloadLength uint16
	NextHeader    uint8
	HopLimit      uint8
	Source        netip.Addr
	Destination   netip.Addr
}

// ParseHeader parses the fixed IPv6 header at the start of b (RFC 8200 §3).
// It requires version 6, IPv6 (not IPv4-mapped) addresses as 16 octets and
// does not look at the payload; callers check PayloadLength against the
// octets they hold.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("%w: IPv6 header: %d octets, need %d: %w", ErrParse, len(b), HeaderLen, io.ErrUnexpectedEOF)
	}
	if v := b[0] >> 4; v != 6 {
		return Header{}, fmt.Errorf("%w: IPv6 header: version %d at offset 0, want 6", ErrParse, v)
	}
	vtf := binary.BigEndian.Uint32(b[0:4])
	return Header{
		TrafficClass:  uint8(vtf >> 20),
		FlowLabel:     vtf & 0xfffff,
		PayloadLength: binary.BigEndian.Uint16(b[4:6]),
		NextHeader:    b[6],
		HopLimit:      b[7],
		Source:        netip.AddrFrom16([16]byte(b[8:24])),
		Destination:   netip.AddrFrom16([16]byte(b[24:40])),
	}, nil
}

// AppendTo appends the 40-octet header to b (RFC 8200 §3). The flow label
// must fit in 20 bits and both addresses must be IPv6 addresses without a
// zone (a zone cannot be carried on the wire); violations are ErrInvalid.
func (h *Header) AppendTo(b []byte) ([]byte, error) {
	if h.FlowLabel > 0xfffff {
		return b, fmt.Errorf("%w: IPv6 header: flow label %#x exceeds 20 bits", ErrInvalid, h.FlowLabel)
	}
	if !h.Source.Is6() || h.Source.Zone() != "" {
		return b, fmt.Errorf("%w: IPv6 header: source %v is not a zone-less IPv6 address", ErrInvalid, h.Source)
	}
	if !h.Destination.Is6() || h.Destination.Zone() != "" {
		return b, fmt.Errorf("%w: IPv6 header: destination %v is not a zone-less IPv6 address", ErrInvalid, h.Destination)
	}
	b = binary.BigEndian.AppendUint32(b, 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel)
	b = binary.BigEndian.AppendUint16(b, h.PayloadLength)
	b = append(b, h.NextHeader, h.HopLimit)
	s, d := h.Source.As16(), h.Destination.As16()
	b = append(b, s[:]...)
	return append(b, d[:]...), nil
}

// ParsePacket parses a whole IPv6 packet held in b: the fixed header, whose
// Payload Length must account for exactly the remaining octets (a datagram
// read from a TUN device or a raw socket is one packet, so trailing octets
// mean a malformed packet). Payload Length zero with a non-empty payload is
// a jumbogram (RFC 2675), which is not supported.
func ParsePacket(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	switch n := len(b) - HeaderLen; {
	case int(h.PayloadLength) > n:
		return Header{}, fmt.Errorf("%w: IPv6 packet: payload length %d at offset 4, %d octets follow the header: %w", ErrParse, h.PayloadLength, n, io.ErrUnexpectedEOF)
	case int(h.PayloadLength) < n:
		return Header{}, fmt.Errorf("%w: IPv6 packet: payload length %d at offset 4, %d octets follow the header", ErrParse, h.PayloadLength, n)
	}
	return h, nil
}

// Tunnelled is an IPv6-in-IPv6 packet (RFC 2473 §3.1): the tunnel header,
// optional extension headers between it and the original packet, and the
// original packet itself.
type Tunnelled struct {
	Outer Header
	// Extensions are the raw Hop-by-Hop and Destination Options headers
	// between the tunnel header and the original packet (a Destination
	// Options header may carry the Tunnel Encapsulation Limit option,
	// RFC 2473 §4.1.1). They are kept byte for byte; Decapsulate leaves
	// option processing to the kernel that delivered the packet.
	Extensions []byte
	// Inner is the original packet, starting with its IPv6 header.
	Inner []byte
	// InnerHeader is the parsed header of Inner.
	InnerHeader Header
}

// Decapsulate parses an IPv6-in-IPv6 packet (RFC 2473 §3.3): a tunnel header
// whose Payload Length covers exactly the rest of b, optionally a
// Hop-by-Hop Options header (only directly after the fixed header,
// RFC 8200 §4.1) and Destination Options headers, then Next Header 41 and a
// complete original IPv6 packet. Any other next header is ErrParse. The
// returned slices alias b.
func Decapsulate(b []byte) (Tunnelled, error) {
	outer, err := ParsePacket(b)
	if err != nil {
		return Tunnelled{}, fmt.Errorf("%w (tunnel header)", err)
	}
	// nh is the offset of the Next Header field naming the header at off.
	next, off, nh := outer.NextHeader, HeaderLen, 6
	for next != inet.ProtocolIPv6 {
		switch {
		case next == protocolHopByHop && off == HeaderLen:
		case next == inet.ProtocolDstOpts:
		default:
			return Tunnelled{}, fmt.Errorf("%w: tunnel packet: next header %d at offset %d is not IPv6 (41), Hop-by-Hop or Destination Options", ErrParse, next, nh)
		}
		if len(b)-off < 2 {
			return Tunnelled{}, fmt.Errorf("%w: tunnel packet: extension header at offset %d: %w", ErrParse, off, io.ErrUnexpectedEOF)
		}
		n := (int(b[off+1]) + 1) * 8
		if len(b)-off < n {
			return Tunnelled{}, fmt.Errorf("%w: tunnel packet: extension header at offset %d: length %d, %d octets left: %w", ErrParse, off, n, len(b)-off, io.ErrUnexpectedEOF)
		}
		next, nh = b[off], off
		off += n
	}
	inner, err := ParsePacket(b[off:])
	if err != nil {
		return Tunnelled{}, fmt.Errorf("%w (original packet at offset %d)", err, off)
	}
	return Tunnelled{
		Outer:       outer,
		Extensions:  b[HeaderLen:off:off],
		Inner:       b[off:],
		InnerHeader: inner,
	}, nil
}

// protocolHopByHop is the Hop-by-Hop Options header (RFC 8200 §4.3).
const protocolHopByHop = 0

// AppendTo appends the tunnel packet to b: Outer (with its Payload Length
// recomputed), Extensions and Inner. The first Next Header must already
// lead through Extensions to 41; AppendTo does not rewrite them.
func (t *Tunnelled) AppendTo(b []byte) ([]byte, error) {
	n := len(t.Extensions) + len(t.Inner)
	if n > MaxPayloadLength {
		return b, fmt.Errorf("%w: tunnel packet: payload of %d octets exceeds %d", ErrInvalid, n, MaxPayloadLength)
	}
	h := t.Outer
	h.PayloadLength = uint16(n)
	b, err := h.AppendTo(b)
	if err != nil {
		return b, err
	}
	b = append(b, t.Extensions...)
	return append(b, t.Inner...), nil
}

// Encapsulate appends to dst the original packet inner behind a tunnel
// header from src to the tunnel exit point (RFC 2473 §3.1): Next Header 41,
// the given hop limit, the inner packet's Traffic Class (so that its
// DSCP/ECN marking is visible on the tunnel path; RFC 2473 §6 leaves the
// tunnel header's value to the entry point) and flow label zero. The inner packet is
// checked to be one complete IPv6 packet and is copied unchanged: its hop
// limit was already decremented when the entry point forwarded it into the
// tunnel (RFC 2473 §3.1: the tunnel is one hop for the original packet).
func Encapsulate(dst []byte, src, exit netip.Addr, hopLimit uint8, inner []byte) ([]byte, error) {
	ih, err := ParsePacket(inner)
	if err != nil {
		return dst, fmt.Errorf("%w (original packet)", err)
	}
	return appendTunnel(dst, src, exit, hopLimit, ih.TrafficClass, inner)
}

// appendTunnel appends the tunnel header and the already parsed original
// packet inner to dst (RFC 2473 §3.1).
func appendTunnel(dst []byte, src, exit netip.Addr, hopLimit, trafficClass uint8, inner []byte) ([]byte, error) {
	if len(inner) > MaxPayloadLength {
		return dst, fmt.Errorf("%w: tunnel packet: original packet of %d octets exceeds payload length %d", ErrInvalid, len(inner), MaxPayloadLength)
	}
	h := Header{
		TrafficClass:  trafficClass,
		PayloadLength: uint16(len(inner)),
		NextHeader:    inet.ProtocolIPv6,
		HopLimit:      hopLimit,
		Source:        src,
		Destination:   exit,
	}
	out, err := h.AppendTo(dst)
	if err != nil {
		return dst, err
	}
	return append(out, inner...), nil
}
