package mip6udp

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/fhkey/fhkey/internal/wireerr"
)

// Port is the IANA port mipv6tls (RFC 6618 §8.3), the UDP destination port
// of every packet to the home agent when bootstrapping gave no mip6-port
// (§6.1).
const Port = 7872

// HeaderLen is the length of the PType/SPI and Sequence Number fields that
// follow the UDP header (RFC 6618 §6.1, Figures 7–9).
const HeaderLen = 8

// PacketType is the 4-bit PType of RFC 6618 §6.2 (registry of §8.1).
type PacketType uint8

// Packet Types of the RFC 6618 §8.1 registry.
const (
	// PacketTypePlaintext: a non-encrypted IP packet (§6.4, Figure 9).
	PacketTypePlaintext PacketType = 0
	// PacketTypeData: an encrypted (protected) IP packet (§6.4, Figure 8).
	PacketTypeData PacketType = 1
	// PacketTypeMobilityHeader: a binding management message, a Mobility
	// Header with its extension headers (§6.3, Figure 7).
	PacketTypeMobilityHeader PacketType = 8
)

// String names the Packet Type as the §8.1 registry does.
func (t PacketType) String() string {
	switch t {
	case PacketTypePlaintext:
		return "non-encrypted IP packet"
	case PacketTypeData:
		return "encrypted IP packet"
	case PacketTypeMobilityHeader:
		return "mobility header"
	}
	return fmt.Sprintf("PType(%d)", uint8(t))
}

func (t PacketType) known() bool {
	return t == PacketTypePlaintext || t == PacketTypeData || t == PacketTypeMobilityHeader
}

// SPI is the 28-bit Security Parameter Index of RFC 6618 §5.6.1 and §6.2.
// 0 marks a plaintext packet; 1 to MaxSPI name an SA.
type SPI uint32

// MaxSPI is the largest SPI, 2^28-1 (RFC 6618 §5.6.1).
const MaxSPI SPI = 1<<28 - 1

// Packet is an RFC 6618 §6 packet as it follows the UDP header: the
// header fields and the rest (Body). For PType 0, Body is the plaintext IP
// packet; for PType 1 and 8 it is IV, ciphertext and ICV, which only the
// SA can split.
type Packet struct {
	Type           PacketType
	SPI            SPI
	SequenceNumber uint32
	Body           []byte
}

// ParsePacket decodes the header of b and checks the rules that need no
// SA: a known PType, SPI 0 exactly on plaintext packets, whose Sequence
// Number is 0 too (RFC 6618 §6.1–§6.4). Body aliases b.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return Packet{}, wireerr.WrapIn(ErrParse, io.ErrUnexpectedEOF, "header: %d octets, want %d", len(b), HeaderLen)
	}
	w := binary.BigEndian.Uint32(b)
	p := Packet{
		Type:           PacketType(w >> 28),
		SPI:            SPI(w) & MaxSPI,
		SequenceNumber: binary.BigEndian.Uint32(b[4:]),
		Body:           b[HeaderLen:],
	}
	if err := p.check(); err != nil {
		return Packet{}, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return p, nil
}

// check enforces the header rules of RFC 6618 §6.1–§6.4.
func (p Packet) check() error {
	switch {
	case !p.Type.known():
		return fmt.Errorf("%w: PType %d is not in the §8.1 registry", ErrPacketType, uint8(p.Type))
	case p.SPI > MaxSPI:
		return fmt.Errorf("%w: SPI %#x wider than 28 bits", ErrSPI, uint32(p.SPI))
	case p.Type == PacketTypePlaintext && p.SPI != 0:
		// §6.4: "the SPI and the Sequence Number fields MUST be set to 0".
		return fmt.Errorf("%w: SPI %d on a plaintext packet (PType 0), MUST be 0", ErrSPI, p.SPI)
	case p.Type == PacketTypePlaintext && p.SequenceNumber != 0:
		return fmt.Errorf("%w: Sequence Number %d on a plaintext packet (PType 0), MUST be 0", ErrSequenceNumber, p.SequenceNumber)
	case p.Type != PacketTypePlaintext && p.SPI == 0:
		// §6.2: "When the SPI value is set to 0, then the PType MUST also
		// be 0"; §6.1: mobility management messages "MUST NOT be sent
		// with an SPI value of 0".
		return fmt.Errorf("%w: SPI 0 on PType %d (%s), only PType 0 may have SPI 0", ErrSPI, uint8(p.Type), p.Type)
	}
	return nil
}

// AppendPacket appends the wire form of p (header, then Body) to dst. It
// refuses what ParsePacket would reject.
func AppendPacket(dst []byte, p Packet) ([]byte, error) {
	if err := p.check(); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrMarshal, err)
	}
	dst = appendHeader(dst, p.Type, p.SPI, p.SequenceNumber)
	return append(dst, p.Body...), nil
}

func appendHeader(dst []byte, t PacketType, spi SPI, seq uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(t)<<28|uint32(spi))
	return binary.BigEndian.AppendUint32(dst, seq)
}

// Scope is the Security Association Scope, mip6-sas (RFC 6618 §5.6.4):
// whether the SA protects signaling only or all data traffic too.
type Scope uint8

// Scopes of RFC 6618 §5.6.4.
const (
	// ScopeSignaling (mip6-sas 0): the SA does not protect data traffic;
	// user data travels as plaintext (PType 0).
	ScopeSignaling Scope = 0
	// ScopeAll (mip6-sas 1): "all data traffic MUST be protected by the
	// SA"; plaintext packets are discarded.
	ScopeAll Scope = 1
)

// checkScope applies RFC 6618 §5.6.4: "any packet received with a PType
// value that does not match the mip6-sas value of the SA MUST be silently
// discarded" — read for user data, whose PType (0 or 1) must equal the
// scope; binding management messages (PType 8) are always protected.
func checkScope(t PacketType, scope Scope) error {
	if t == PacketTypeMobilityHeader || uint8(t) == uint8(scope) {
		return nil
	}
	return fmt.Errorf("%w: %w: PType %d (%s) with mip6-sas %d", ErrAuth, ErrScope, uint8(t), t, uint8(scope))
}

// AppendPlaintext appends a plaintext user data packet (PType 0, SPI 0,
// Sequence Number 0, RFC 6618 §6.4 Figure 9) carrying ipPacket. With
// ScopeAll it fails with ErrScope: "the originator MUST NOT send any user
// data packets in the clear" (§6.4).
func AppendPlaintext(dst []byte, scope Scope, ipPacket []byte) ([]byte, error) {
	if scope != ScopeSignaling {
		return dst, fmt.Errorf("%w: %w: plaintext data with mip6-sas %d", ErrMarshal, ErrScope, uint8(scope))
	}
	dst = appendHeader(dst, PacketTypePlaintext, 0, 0)
	return append(dst, ipPacket...), nil
}
