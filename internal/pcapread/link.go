package pcapread

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/fhkey/fhkey/internal/capture"
)

var (
	// ErrLink is wrapped for a frame whose link-layer header is malformed
	// (truncation also wraps io.ErrUnexpectedEOF).
	ErrLink = errors.New("pcapread: malformed link-layer frame")
	// ErrNotIPv6 is wrapped for a well-formed frame that carries something
	// other than IPv6 (IPv4, ARP, LLC, ...).
	ErrNotIPv6 = errors.New("pcapread: not an IPv6 packet")
	// ErrLinkType is wrapped for a frame of a link type this package does
	// not decode.
	ErrLinkType = errors.New("pcapread: unsupported link type")
)

// EtherTypes (IEEE 802.1Q-2018, RFC 7042).
const (
	EtherTypeIPv6      = 0x86dd
	EtherTypeVLAN      = 0x8100 // IEEE 802.1Q C-tag
	EtherTypeQinQ      = 0x88a8 // IEEE 802.1ad S-tag
	EtherTypeQinQOld   = 0x9100 // pre-standard S-tag
	ethernetHeaderLen  = 14
	sllHeaderLen       = 16
	sll2HeaderLen      = 20
	loopbackHeaderLen  = 4
	fragmentHeaderLen  = 8
	protocolFragment   = 44
	maxEthernetPayload = 1500 // below: an 802.3 length field, not an EtherType
)

// Link describes the link-layer header of a frame.
type Link struct {
	Type LinkType
	// Source and Destination are the Ethernet addresses; Source is the
	// sender's link-layer address for SLL and SLL2.
	Source, Destination net.HardwareAddr
	// VLANs are the VLAN IDs of the 802.1Q/802.1ad tags, outermost first.
	VLANs []uint16
	// PacketType is the SLL/SLL2 packet type (0 to us, 4 sent by us, ...);
	// Interface the SLL2 interface index.
	PacketType uint8
	Interface  uint32
	// Offset is where the network-layer packet starts in the frame.
	Offset int
}

// String describes l in one line.
func (l Link) String() string {
	var b strings.Builder
	switch l.Type {
	case LinkTypeEthernet:
		fmt.Fprintf(&b, "Ethernet %s -> %s", l.Source, l.Destination)
	case LinkTypeSLL, LinkTypeSLL2:
		name := map[LinkType]string{LinkTypeSLL: "Linux cooked (SLL)", LinkTypeSLL2: "Linux cooked v2 (SLL2)"}[l.Type]
		fmt.Fprintf(&b, "%s from %s, packet type %d", name, l.Source, l.PacketType)
		if l.Type == LinkTypeSLL2 {
			fmt.Fprintf(&b, ", interface %d", l.Interface)
		}
	case LinkTypeNull, LinkTypeLoop:
		b.WriteString("loopback")
	default:
		fmt.Fprintf(&b, "raw IP (link type %d)", l.Type)
	}
	for _, v := range l.VLANs {
		fmt.Fprintf(&b, ", VLAN %d", v)
	}
	return b.String()
}

// Fragment is an IPv6 Fragment header (RFC 8200 §4.5). The fragment is
// reported, not reassembled.
type Fragment struct {
	NextHeader     uint8
	Offset         uint16 // in 8-octet units
	MoreFragments  bool
	Identification uint32
}

// Packet is a frame taken down to its IPv6 packet.
type Packet struct {
	Link Link
	// IPv6 is the packet (its Payload the upper layer, or the Fragment
	// header and what follows it for a fragment).
	IPv6 *capture.Packet
	// Fragment is set when the packet is a fragment.
	Fragment *Fragment
}

// Decode takes a frame of link type lt down to its IPv6 packet. Errors
// wrap ErrLink, ErrNotIPv6, ErrLinkType or capture.ErrParse; offsets are
// within the frame.
func Decode(lt LinkType, frame []byte) (*Packet, error) {
	l, err := decodeLink(lt, frame)
	if err != nil {
		return nil, err
	}
	ip := frame[l.Offset:]
	if len(ip) >= 1 && ip[0]>>4 != 6 {
		return nil, fmt.Errorf("%w: IP version %d at offset %d", ErrNotIPv6, ip[0]>>4, l.Offset)
	}
	// Drop link-layer padding (Ethernet frames of less than 64 octets,
	// a trailing FCS) beyond the IPv6 payload length.
	if len(ip) >= capture.HeaderLen {
		if n := capture.HeaderLen + int(binary.BigEndian.Uint16(ip[4:])); n < len(ip) {
			ip = ip[:n]
		}
	}
	p, err := capture.Parse(ip)
	if err != nil {
		return nil, fmt.Errorf("IPv6 packet at offset %d: %w", l.Offset, err)
	}
	pkt := &Packet{Link: l, IPv6: p}
	if p.Protocol == protocolFragment {
		if len(p.Payload) < fragmentHeaderLen {
			return nil, fmt.Errorf("%w: Fragment header at offset %d: need %d octets, have %d: %w",
				capture.ErrParse, l.Offset+len(ip)-len(p.Payload), fragmentHeaderLen, len(p.Payload), io.ErrUnexpectedEOF)
		}
		f := p.Payload
		pkt.Fragment = &Fragment{NextHeader: f[0], Offset: binary.BigEndian.Uint16(f[2:]) >> 3,
			MoreFragments: f[3]&1 == 1, Identification: binary.BigEndian.Uint32(f[4:])}
	}
	return pkt, nil
}

// decodeLink parses the link-layer header and checks that it announces
// IPv6.
func decodeLink(lt LinkType, b []byte) (Link, error) {
	l := Link{Type: lt}
	need := func(n int, what string) error {
		if len(b) < n {
			return fmt.Errorf("%w: %s: need %d octets, have %d: %w", ErrLink, what, n, len(b), io.ErrUnexpectedEOF)
		}
		return nil
	}
	var et uint16
	switch lt {
	case LinkTypeEthernet:
		if err := need(ethernetHeaderLen, "Ethernet header"); err != nil {
			return l, err
		}
		l.Destination, l.Source = hw(b[0:6]), hw(b[6:12])
		et, l.Offset = binary.BigEndian.Uint16(b[12:]), ethernetHeaderLen
	case LinkTypeSLL:
		if err := need(sllHeaderLen, "SLL header"); err != nil {
			return l, err
		}
		l.PacketType = uint8(binary.BigEndian.Uint16(b[0:]))
		l.Source = hw(b[6 : 6+min(int(binary.BigEndian.Uint16(b[4:])), 8)])
		et, l.Offset = binary.BigEndian.Uint16(b[14:]), sllHeaderLen
	case LinkTypeSLL2:
		if err := need(sll2HeaderLen, "SLL2 header"); err != nil {
			return l, err
		}
		et = binary.BigEndian.Uint16(b[0:])
		l.Interface = binary.BigEndian.Uint32(b[4:])
		l.PacketType = b[10]
		l.Source = hw(b[12 : 12+min(int(b[11]), 8)])
		l.Offset = sll2HeaderLen
	case LinkTypeNull, LinkTypeLoop:
		if err := need(loopbackHeaderLen, "loopback header"); err != nil {
			return l, err
		}
		l.Offset = loopbackHeaderLen
		af := binary.BigEndian.Uint32(b)
		if lt == LinkTypeNull && af > 0xffff { // host byte order of the writer
			af = binary.LittleEndian.Uint32(b)
		}
		// AF_INET6 is 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS
		// (and 10 on Linux).
		switch af {
		case 10, 24, 28, 30:
			return l, nil
		}
		return l, fmt.Errorf("%w: address family %d at offset 0", ErrNotIPv6, af)
	case LinkTypeRaw, LinkTypeRaw12, LinkTypeRaw14, LinkTypeIPv6:
		return l, nil
	case LinkTypeIPv4:
		return l, fmt.Errorf("%w: link type %d (IPv4)", ErrNotIPv6, lt)
	default:
		return l, fmt.Errorf("%w: %d", ErrLinkType, lt)
	}
	// 802.1Q/802.1ad tags, any number (QinQ): TCI then the next EtherType.
	for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQOld {
		if err := need(l.Offset+4, fmt.Sprintf("VLAN tag at offset %d", l.Offset)); err != nil {
			return l, err
		}
		l.VLANs = append(l.VLANs, binary.BigEndian.Uint16(b[l.Offset:])&0x0fff)
		et = binary.BigEndian.Uint16(b[l.Offset+2:])
		l.Offset += 4
	}
	if et != EtherTypeIPv6 {
		kind := "EtherType"
		if et <= maxEthernetPayload && lt == LinkTypeEthernet {
			kind = "802.3 length"
		}
		return l, fmt.Errorf("%w: %s %#04x at offset %d", ErrNotIPv6, kind, et, l.Offset-2)
	}
	return l, nil
}

// hw copies a link-layer address out of the frame.
func hw(b []byte) net.HardwareAddr { return append(net.HardwareAddr(nil), b...) }
