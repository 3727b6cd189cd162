package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/fhkey/fhkey/internal/inet"
)

// Protocol numbers of the IPv6 extension headers this package walks
// (RFC 8200 §4).
const (
	ProtocolHopByHop           = 0
	ProtocolRouting            = 43
	ProtocolDestinationOptions = inet.ProtocolDstOpts
)

// HeaderLen is the length of the fixed IPv6 header (RFC 8200 §3).
const HeaderLen = 40

// OptionTypeHomeAddress is the Home Address destination option type
// (RFC 6275 §6.3: "Option Type 201 = 0xC9").
const OptionTypeHomeAddress = 201

// Pad1 and PadN option types (RFC 8200 §4.2).
const (
	OptionTypePad1 = 0
	OptionTypePadN = 1
)

var (
	// ErrParse is wrapped by every error returned for a malformed packet.
	ErrParse = errors.New("capture: malformed IPv6 packet")
	// ErrChecksum is returned by VerifyChecksum for a wrong upper-layer checksum.
	ErrChecksum = errors.New("capture: bad upper-layer checksum")
)

// Packet is an IPv6 packet (RFC 8200 §3): the fixed header fields, the
// extension headers in order, and the upper-layer protocol and its bytes.
// Payload Length and the Next Header chain are derived when marshalling.
type Packet struct {
	TrafficClass uint8
	FlowLabel    uint32 // 20 bits
	HopLimit     uint8
	Source       netip.Addr
	Destination  netip.Addr
	// ExtensionHeaders are the Hop-by-Hop, Routing and Destination Options
	// headers in wire order.
	ExtensionHeaders []ExtensionHeader
	// Protocol is the upper-layer protocol number: the Next Header value of
	// the last header (58 ICMPv6, 135 Mobility Header, ...).
	Protocol uint8
	// Payload is the upper-layer packet.
	Payload []byte
}

// ExtensionHeader is one IPv6 extension header that uses the generic
// layout of RFC 8200 §4 (Hop-by-Hop Options, Routing, Destination Options):
// Next Header, Hdr Ext Len in 8-octet units not counting the first 8, and
// Data, the octets that follow those two fields.
type ExtensionHeader struct {
	Protocol uint8
	Data     []byte
}

// Option is one TLV option of a Hop-by-Hop or Destination Options header
// (RFC 8200 §4.2). Pad1 has Type 0 and no Data.
type Option struct {
	Type uint8
	Data []byte
}

// isExtensionHeader reports whether proto is an extension header this
// package parses into ExtensionHeaders.
func isExtensionHeader(proto uint8) bool {
	return proto == ProtocolHopByHop || proto == ProtocolRouting || proto == ProtocolDestinationOptions
}

// HomeAddressHeader returns a Destination Options header carrying the Home
// Address option (RFC 6275 §6.3) for home, preceded by a PadN option so the
// option meets its "8n + 6" alignment requirement: 2 octets of header, 4 of
// PadN, then the option at offset 6; 24 octets in all (Hdr Ext Len 2).
func HomeAddressHeader(home netip.Addr) ExtensionHeader {
	a := home.As16()
	d := make([]byte, 0, 22)
	d = append(d, OptionTypePadN, 2, 0, 0)   // PadN, 2 octets of padding
	d = append(d, OptionTypeHomeAddress, 16) // Option Type 201, Option Length 16
	d = append(d, a[:]...)
	return ExtensionHeader{Protocol: ProtocolDestinationOptions, Data: d}
}

// ParseOptions decodes the TLV options of a Hop-by-Hop or Destination
// Options header (RFC 8200 §4.2); b is the header's Data. The returned
// options do not alias b.
func ParseOptions(b []byte) ([]Option, error) { return parseOptions(b, 0) }

// parseOptions is ParseOptions; base is the offset of b in the packet, for
// error messages.
func parseOptions(b []byte, base int) ([]Option, error) {
	var opts []Option
	for off := 0; off < len(b); {
		t := b[off]
		if t == OptionTypePad1 {
			opts = append(opts, Option{Type: t})
			off++
			continue
		}
		if off+2 > len(b) {
			return nil, fmt.Errorf("%w: option %d length at offset %d: %w", ErrParse, t, base+off+1, io.ErrUnexpectedEOF)
		}
		n := int(b[off+1])
		if off+2+n > len(b) {
			return nil, fmt.Errorf("%w: option %d data at offset %d: length %d, have %d: %w", ErrParse, t, base+off+2, n, len(b)-off-2, io.ErrUnexpectedEOF)
		}
		opts = append(opts, Option{Type: t, Data: append([]byte{}, b[off+2:off+2+n]...)})
		off += 2 + n
	}
	return opts, nil
}

// HomeAddress returns the address of the Home Address option (RFC 6275
// §6.3) in the first Destination Options header that carries one.
func (p *Packet) HomeAddress() (netip.Addr, bool) {
	for _, h := range p.ExtensionHeaders {
		if h.Protocol != ProtocolDestinationOptions {
			continue
		}
		opts, err := ParseOptions(h.Data)
		if err != nil {
			continue
		}
		for _, o := range opts {
			if o.Type == OptionTypeHomeAddress && len(o.Data) == 16 {
				return netip.AddrFrom16([16]byte(o.Data)), true
			}
		}
	}
	return netip.Addr{}, false
}

// PseudoHeaderAddresses returns the source and destination addresses of the
// upper-layer checksum pseudo-header. RFC 6275 §6.1.1: "If a mobility
// message has a Home Address destination option, then the checksum
// calculation uses the home address in this option as the value of the IPv6
// Source Address field" (§11.3.1 says the same for every upper layer).
// RFC 8200 §8.1: with a Routing header whose Segments Left is not zero, the
// destination is the final one, the last address of the Routing header
// (types 0 and 2, whose addresses follow 4 reserved octets).
func (p *Packet) PseudoHeaderAddresses() (src, dst netip.Addr) {
	src, dst = p.Source, p.Destination
	if h, ok := p.HomeAddress(); ok {
		src = h
	}
	for _, h := range p.ExtensionHeaders {
		if h.Protocol != ProtocolRouting || len(h.Data) < 6+16 {
			continue
		}
		if typ, left := h.Data[0], h.Data[1]; (typ == 0 || typ == 2) && left > 0 && (len(h.Data)-6)%16 == 0 {
			dst = netip.AddrFrom16([16]byte(h.Data[len(h.Data)-16:]))
		}
	}
	return src, dst
}

// ChecksumOffset returns the offset of the checksum field in the
// upper-layer packet of protocol proto: 2 for ICMPv6 (RFC 4443 §2.1), 4 for
// the Mobility Header (RFC 6275 §6.1.1).
func ChecksumOffset(proto uint8) (int, bool) {
	switch proto {
	case inet.ProtocolICMPv6:
		return 2, true
	case inet.ProtocolMobility:
		return 4, true
	}
	return 0, false
}

// SetChecksum replaces p.Payload with a copy whose checksum field holds the
// upper-layer checksum over the pseudo-header (RFC 8200 §8.1) and the
// payload with that field zeroed. It supports ICMPv6 and the Mobility Header.
func (p *Packet) SetChecksum() error {
	off, ok := ChecksumOffset(p.Protocol)
	if !ok {
		return fmt.Errorf("capture: no checksum known for protocol %d", p.Protocol)
	}
	if len(p.Payload) < off+2 {
		return fmt.Errorf("capture: protocol %d payload of %d octets has no checksum field at offset %d", p.Protocol, len(p.Payload), off)
	}
	b := append([]byte(nil), p.Payload...)
	b[off], b[off+1] = 0, 0
	src, dst := p.PseudoHeaderAddresses()
	binary.BigEndian.PutUint16(b[off:], inet.Checksum(src, dst, p.Protocol, b))
	p.Payload = b
	return nil
}

// Checksum returns the checksum field of the upper-layer packet and the
// value it should hold.
func (p *Packet) Checksum() (got, want uint16, err error) {
	off, ok := ChecksumOffset(p.Protocol)
	if !ok {
		return 0, 0, fmt.Errorf("capture: no checksum known for protocol %d", p.Protocol)
	}
	if len(p.Payload) < off+2 {
		return 0, 0, fmt.Errorf("%w: protocol %d checksum at payload offset %d: %w", ErrParse, p.Protocol, off, io.ErrUnexpectedEOF)
	}
	b := append([]byte(nil), p.Payload...)
	got = binary.BigEndian.Uint16(b[off:])
	b[off], b[off+1] = 0, 0
	src, dst := p.PseudoHeaderAddresses()
	return got, inet.Checksum(src, dst, p.Protocol, b), nil
}

// VerifyChecksum returns nil if the upper-layer checksum is right, an error
// wrapping ErrChecksum if it is wrong.
func (p *Packet) VerifyChecksum() error {
	got, want, err := p.Checksum()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: protocol %d: checksum %#04x, want %#04x", ErrChecksum, p.Protocol, got, want)
	}
	return nil
}

// Len returns the length of the marshalled packet in octets.
func (p *Packet) Len() int {
	n := HeaderLen + len(p.Payload)
	for _, h := range p.ExtensionHeaders {
		n += 2 + len(h.Data)
	}
	return n
}

// Marshal returns the packet bytes. Payload Length and the Next Header
// fields are computed; the payload (its checksum included) is copied as is.
func (p *Packet) Marshal() ([]byte, error) {
	return p.AppendTo(make([]byte, 0, p.Len()))
}

// AppendTo appends the packet bytes to b (see Marshal).
func (p *Packet) AppendTo(b []byte) ([]byte, error) {
	if !p.Source.Is6() || !p.Destination.Is6() {
		return nil, fmt.Errorf("capture: source %v and destination %v must be IPv6 addresses", p.Source, p.Destination)
	}
	if p.FlowLabel >= 1<<20 {
		return nil, fmt.Errorf("capture: flow label %#x exceeds 20 bits", p.FlowLabel)
	}
	if pl := p.Len() - HeaderLen; pl > 0xffff {
		return nil, fmt.Errorf("capture: payload length %d exceeds 65535 (jumbograms are not supported)", pl)
	}
	for i, h := range p.ExtensionHeaders {
		if !isExtensionHeader(h.Protocol) {
			return nil, fmt.Errorf("capture: extension header %d: protocol %d is not Hop-by-Hop, Routing or Destination Options", i, h.Protocol)
		}
		// RFC 8200 §4.3: "Hdr Ext Len: 8-bit unsigned integer. Length of
		// the [...] header in 8-octet units, not including the first 8 octets."
		if (2+len(h.Data))%8 != 0 {
			return nil, fmt.Errorf("capture: extension header %d (protocol %d): length %d is not a multiple of 8", i, h.Protocol, 2+len(h.Data))
		}
	}
	next := func(i int) uint8 {
		if i < len(p.ExtensionHeaders) {
			return p.ExtensionHeaders[i].Protocol
		}
		return p.Protocol
	}
	b = binary.BigEndian.AppendUint32(b, 6<<28|uint32(p.TrafficClass)<<20|p.FlowLabel)
	b = binary.BigEndian.AppendUint16(b, uint16(p.Len()-HeaderLen))
	b = append(b, next(0), p.HopLimit)
	s, d := p.Source.As16(), p.Destination.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	for i, h := range p.ExtensionHeaders {
		b = append(b, next(i+1), uint8((2+len(h.Data))/8-1))
		b = append(b, h.Data...)
	}
	return append(b, p.Payload...), nil
}

// Parse decodes an IPv6 packet that fills b exactly (RFC 8200 §3). It walks
// the Hop-by-Hop, Routing and Destination Options headers (checking the TLV
// options of the option headers); whatever follows is the upper-layer
// payload. The returned packet does not alias b.
func Parse(b []byte) (*Packet, error) {
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("%w: fixed header: need %d octets, have %d: %w", ErrParse, HeaderLen, len(b), io.ErrUnexpectedEOF)
	}
	w := binary.BigEndian.Uint32(b)
	if v := w >> 28; v != 6 {
		return nil, fmt.Errorf("%w: version %d at offset 0, want 6", ErrParse, v)
	}
	p := &Packet{
		TrafficClass: uint8(w >> 20),
		FlowLabel:    w & 0xfffff,
		HopLimit:     b[7],
		Source:       netip.AddrFrom16([16]byte(b[8:24])),
		Destination:  netip.AddrFrom16([16]byte(b[24:40])),
	}
	pl := int(binary.BigEndian.Uint16(b[4:]))
	switch {
	case HeaderLen+pl > len(b):
		return nil, fmt.Errorf("%w: payload length %d at offset 4, have %d octets: %w", ErrParse, pl, len(b)-HeaderLen, io.ErrUnexpectedEOF)
	case HeaderLen+pl < len(b):
		return nil, fmt.Errorf("%w: payload length %d at offset 4, but %d octets follow the header", ErrParse, pl, len(b)-HeaderLen)
	}
	nh := b[6]
	off := HeaderLen
	for isExtensionHeader(nh) {
		if off+2 > len(b) {
			return nil, fmt.Errorf("%w: extension header %d at offset %d: %w", ErrParse, nh, off, io.ErrUnexpectedEOF)
		}
		n := (int(b[off+1]) + 1) * 8
		if off+n > len(b) {
			return nil, fmt.Errorf("%w: extension header %d at offset %d: length %d, have %d: %w", ErrParse, nh, off, n, len(b)-off, io.ErrUnexpectedEOF)
		}
		h := ExtensionHeader{Protocol: nh, Data: append([]byte(nil), b[off+2:off+n]...)}
		if nh != ProtocolRouting {
			if _, err := parseOptions(h.Data, off+2); err != nil {
				return nil, err
			}
		}
		p.ExtensionHeaders = append(p.ExtensionHeaders, h)
		nh = b[off]
		off += n
	}
	p.Protocol = nh
	p.Payload = append([]byte{}, b[off:]...)
	return p, nil
}
