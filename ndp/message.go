package ndp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/fhkey/fhkey/internal/inet"
)

// MessageType is the ICMPv6 Type octet (IANA "ICMPv6 'type' Numbers").
type MessageType uint8

// ICMPv6 types decoded by this package (shared/specs/CODEPOINTS.md §1).
const (
	TypeRouterSolicitation             MessageType = 133 // RFC 4861 §4.1
	TypeRouterAdvertisement            MessageType = 134 // RFC 4861 §4.2
	TypeNeighborSolicitation           MessageType = 135 // RFC 4861 §4.3
	TypeNeighborAdvertisement          MessageType = 136 // RFC 4861 §4.4
	TypeRedirect                       MessageType = 137 // RFC 4861 §4.5 (kept as RawMessage)
	TypeCertificationPathSolicitation  MessageType = 148 // RFC 3971 §6.4.1
	TypeCertificationPathAdvertisement MessageType = 149 // RFC 3971 §6.4.2
	TypeFMIPv6                         MessageType = 154 // RFC 5568 §6.1
)

// FMIPv6 Subtypes of ICMPv6 type 154 (RFC 5568 §6.1).
const (
	SubtypeRtSolPr = 2 // Router Solicitation for Proxy Advertisement
	SubtypePrRtAdv = 3 // Proxy Router Advertisement
)

// Message is one ICMPv6 message. The concrete types are the pointers to the
// message structs of this package; RawMessage holds any other type.
type Message interface {
	// MessageType returns the ICMPv6 Type.
	MessageType() MessageType
	// Name returns the message's name as the defining RFC spells it.
	Name() string

	// appendTo appends the whole message, ICMPv6 header first.
	appendTo(b []byte) ([]byte, error)
}

// messageDecoder is implemented by every typed message.
type messageDecoder interface {
	Message
	// decode decodes the fixed part of the message (fixedLen octets,
	// ICMPv6 header included). It returns the cause only.
	decode(fixed []byte) error
	// optionList returns the message's Options field.
	optionList() *[]Option
}

// optionsOffset returns where the options start in a message of type typ
// (with FMIPv6 subtype sub), or 0 if the layout is not known.
func optionsOffset(typ MessageType, sub uint8) int {
	switch typ {
	case TypeRouterSolicitation, TypeCertificationPathSolicitation:
		return 8
	case TypeRouterAdvertisement:
		return 16
	case TypeNeighborSolicitation, TypeNeighborAdvertisement:
		return 24
	case TypeRedirect:
		return 40
	case TypeCertificationPathAdvertisement:
		return 12
	case TypeFMIPv6:
		if sub == SubtypeRtSolPr || sub == SubtypePrRtAdv {
			return 8
		}
	}
	return 0
}

// newMessage returns an empty typed message for the header in b (at least 4
// octets, 5 for type 154), or nil.
func newMessage(b []byte) messageDecoder {
	switch MessageType(b[0]) {
	case TypeRouterSolicitation:
		return &RouterSolicitation{}
	case TypeRouterAdvertisement:
		return &RouterAdvertisement{}
	case TypeNeighborSolicitation:
		return &NeighborSolicitation{}
	case TypeNeighborAdvertisement:
		return &NeighborAdvertisement{}
	case TypeCertificationPathSolicitation:
		return &CertificationPathSolicitation{}
	case TypeCertificationPathAdvertisement:
		return &CertificationPathAdvertisement{}
	case TypeFMIPv6:
		switch b[4] {
		case SubtypeRtSolPr:
			return &RouterSolicitationForProxyAdvertisement{}
		case SubtypePrRtAdv:
			return &ProxyRouterAdvertisement{}
		}
	}
	return nil
}

// ParseMessage decodes an ICMPv6 message starting at its Type octet and
// running to the end of b (the ICMPv6 length is derived from the IPv6
// length). Known types must carry their fixed fields and a sequence of
// options that fills the rest exactly; other types parse to RawMessage. The
// Checksum is kept but not verified (see VerifyChecksum). The result does not
// alias b.
func ParseMessage(b []byte) (Message, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: ICMPv6 header: need 4 octets, have %d: %w", ErrParse, len(b), io.ErrUnexpectedEOF)
	}
	if MessageType(b[0]) == TypeFMIPv6 && len(b) < 5 {
		return nil, fmt.Errorf("%w: FMIPv6 message: Subtype at offset 4: %w", ErrParse, io.ErrUnexpectedEOF)
	}
	m := newMessage(b)
	if m == nil {
		return &RawMessage{
			Type:     MessageType(b[0]),
			Code:     b[1],
			Checksum: binary.BigEndian.Uint16(b[2:]),
			Body:     clone(b[4:]),
		}, nil
	}
	fixed := optionsOffset(MessageType(b[0]), b[min(4, len(b)-1)])
	if len(b) < fixed {
		return nil, fmt.Errorf("%w: %s: need %d octets before the options, have %d: %w", ErrParse, m.Name(), fixed, len(b), io.ErrUnexpectedEOF)
	}
	if err := m.decode(b[:fixed]); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrParse, m.Name(), err)
	}
	opts, err := parseOptions(b[fixed:], fixed)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrParse, m.Name(), err)
	}
	*m.optionList() = opts
	return m, nil
}

// MarshalMessage encodes m, ICMPv6 header first. The Checksum field is
// written as the message holds it (zero unless set); use
// MarshalMessageWithChecksum to compute it.
func MarshalMessage(m Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil message", ErrInvalid)
	}
	b, err := m.appendTo(make([]byte, 0, 128))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, m.Name(), err)
	}
	return b, nil
}

// MarshalMessageWithChecksum encodes m and fills in the ICMPv6 checksum for a
// packet from src to dst (RFC 4443 §2.3, with the pseudo-header of RFC 8200
// §8.1). m itself is not changed.
func MarshalMessageWithChecksum(m Message, src, dst netip.Addr) ([]byte, error) {
	b, err := MarshalMessage(m)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(b[2:], 0)
	binary.BigEndian.PutUint16(b[2:], inet.Checksum(src, dst, inet.ProtocolICMPv6, b))
	return b, nil
}

// Checksum returns the ICMPv6 checksum of msg sent from src to dst (RFC 4443
// §2.3: the one's complement sum over the IPv6 pseudo-header and the message)
// computed as if msg's Checksum field (octets 2-3) were zero. msg is not
// changed.
func Checksum(src, dst netip.Addr, msg []byte) uint16 {
	if len(msg) >= 4 && (msg[2] != 0 || msg[3] != 0) {
		c := make([]byte, len(msg))
		copy(c, msg)
		c[2], c[3] = 0, 0
		msg = c
	}
	return inet.Checksum(src, dst, inet.ProtocolICMPv6, msg)
}

// VerifyChecksum checks the Checksum field of a received ICMPv6 message from
// src to dst. It returns an error wrapping ErrChecksum if it is wrong.
func VerifyChecksum(src, dst netip.Addr, msg []byte) error {
	if len(msg) < 4 {
		return fmt.Errorf("%w: ICMPv6 header: need 4 octets, have %d: %w", ErrParse, len(msg), io.ErrUnexpectedEOF)
	}
	if inet.Checksum(src, dst, inet.ProtocolICMPv6, msg) != 0 {
		return fmt.Errorf("%w: Checksum %#04x, want %#04x", ErrChecksum, binary.BigEndian.Uint16(msg[2:]), Checksum(src, dst, msg))
	}
	return nil
}

// RawMessage is an ICMPv6 message whose type (or FMIPv6 subtype) this package
// does not decode. Body holds every octet after the Checksum, as received.
type RawMessage struct {
	Type     MessageType
	Code     uint8
	Checksum uint16
	Body     []byte
}

// MessageType implements Message.
func (m *RawMessage) MessageType() MessageType { return m.Type }

// Name implements Message: the IANA name where one is known.
func (m *RawMessage) Name() string {
	switch m.Type {
	case TypeRedirect:
		return "Redirect"
	case TypeFMIPv6:
		if len(m.Body) > 0 {
			return fmt.Sprintf("FMIPv6 message, Subtype %d", m.Body[0])
		}
		return "FMIPv6 message"
	}
	return fmt.Sprintf("ICMPv6 type %d", uint8(m.Type))
}

func (m *RawMessage) appendTo(b []byte) ([]byte, error) {
	if m.Type == TypeFMIPv6 && len(m.Body) == 0 {
		// ParseMessage would reject the result for want of a Subtype.
		return nil, errors.New("FMIPv6 message without a Subtype")
	}
	b = append(b, byte(m.Type), m.Code)
	b = binary.BigEndian.AppendUint16(b, m.Checksum)
	return append(b, m.Body...), nil
}
