package mip6udp

import (
	"crypto/subtle"
	"fmt"
	"slices"
)

// Message is an opened packet.
type Message struct {
	Type           PacketType
	SPI            SPI
	SequenceNumber uint32
	// NextHeader is the RFC 4303 §2.6 Next Header of a protected packet;
	// 59 marks a dummy packet the caller discards (RFC 4303 §2.6). It is
	// 0 for a plaintext packet, which has no trailer.
	NextHeader uint8
	// Payload is the Mobility Header (PType 8) or the tunneled IP packet
	// (PType 0, 1). It aliases the dst given to Open.
	Payload []byte
}

// Lookup returns the inbound SA with the given SPI, or false.
type Lookup func(SPI) (*Inbound, bool)

// Open decodes a received packet (the UDP payload), appends its payload
// to dst and describes it. scope is the mip6-sas of the SA agreed with the
// peer the packet came from (RFC 6618 §5.6.4): plaintext data (PType 0) is
// accepted only with ScopeSignaling, protected data (PType 1) only with
// ScopeAll (ErrScope). A protected packet goes to the SA lookup names by
// its SPI (ErrUnknownSPI), then Inbound.Open.
func Open(dst, packet []byte, scope Scope, lookup Lookup) (Message, []byte, error) {
	p, err := ParsePacket(packet)
	if err != nil {
		return Message{}, dst, err
	}
	if err := checkScope(p.Type, scope); err != nil {
		return Message{}, dst, err
	}
	if p.Type == PacketTypePlaintext {
		start := len(dst)
		dst = append(dst, p.Body...)
		return Message{Type: p.Type, Payload: dst[start:]}, dst, nil
	}
	in, ok := lookup(p.SPI)
	if !ok || in == nil {
		return Message{}, dst, fmt.Errorf("%w: %w: %d", ErrAuth, ErrUnknownSPI, p.SPI)
	}
	return in.open(dst, packet, p)
}

// Open checks and decrypts a protected packet of this SA (PType 1 or 8)
// and appends its payload to dst, in the order of RFC 4303 §3.4: the
// replay window is checked (§3.4.3), the ICV is verified over the received
// octets in constant time (§3.4.4), and only then is the ciphertext
// decrypted and its Padding and Pad Length checked (§2.4, §2.5). The
// window records the Sequence Number only when all of this succeeded and
// the number is within the limit (SetLimit, ErrBeyondLimit), so
// a rejected packet changes nothing. With caller-supplied capacity it
// does not allocate. The SA scope is the caller's to check (see Open).
func (in *Inbound) Open(dst, packet []byte) (Message, []byte, error) {
	p, err := ParsePacket(packet)
	if err != nil {
		return Message{}, dst, err
	}
	if p.Type == PacketTypePlaintext {
		return Message{}, dst, fmt.Errorf("%w: %w: plaintext packet given to an SA", ErrParse, ErrPacketType)
	}
	if p.SPI != in.spi {
		return Message{}, dst, fmt.Errorf("%w: %w: %d, this SA is %d", ErrAuth, ErrUnknownSPI, p.SPI, in.spi)
	}
	return in.open(dst, packet, p)
}

func (in *Inbound) open(dst, packet []byte, p Packet) (Message, []byte, error) {
	s := &in.suite
	ctLen := len(p.Body) - s.IVLen - s.ICVLen
	// RFC 4303 §2.4: the ciphertext is a multiple of the block size and
	// ends on a 4-octet boundary (Pad Length and Next Header "right
	// aligned within a 4-byte word").
	if ctLen < 2 || ctLen%s.align() != 0 {
		return Message{}, dst, fmt.Errorf("%w: %w: %d octets after the header, %s needs IV %d + ciphertext (≥ 2, multiple of %d) + ICV %d",
			ErrParse, ErrCiphertextLength, len(p.Body), s.Name, s.IVLen, s.align(), s.ICVLen)
	}
	covered := packet[:len(packet)-s.ICVLen]
	icv := packet[len(covered):]
	iv := p.Body[:s.IVLen]
	ct := p.Body[s.IVLen : s.IVLen+ctLen]

	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.window.Check(p.SequenceNumber); err != nil {
		return Message{}, dst, err
	}
	in.mac.sum(in.icv[:s.ICVLen], covered)
	if subtle.ConstantTimeCompare(in.icv[:s.ICVLen], icv) != 1 {
		return Message{}, dst, fmt.Errorf("%w: %w: SPI %d, Sequence Number %d", ErrAuth, ErrICV, p.SPI, p.SequenceNumber)
	}
	start := len(dst)
	dst = slices.Grow(dst, ctLen)[:start+ctLen]
	pt := dst[start:]
	copy(pt, ct)
	in.enc.crypt(pt, iv)
	padLen := int(pt[ctLen-2])
	nextHeader := pt[ctLen-1]
	if padLen > ctLen-2 {
		return Message{}, dst[:start], fmt.Errorf("%w: %w: Pad Length %d, only %d octets before it", ErrParse, ErrPadding, padLen, ctLen-2)
	}
	payloadLen := ctLen - 2 - padLen
	for i, b := range pt[payloadLen : ctLen-2] {
		// RFC 4303 §2.4: the receiver SHOULD inspect the Padding field
		// when the default padding was used, as it is here.
		if b != byte(i+1) {
			return Message{}, dst[:start], fmt.Errorf("%w: %w: Padding octet %d is %d, want %d", ErrParse, ErrPadding, i+1, b, i+1)
		}
	}
	if in.limited && p.SequenceNumber > in.limit {
		return Message{}, dst[:start], fmt.Errorf("%w: %w: Sequence Number %d, limit %d", ErrAuth, ErrBeyondLimit, p.SequenceNumber, in.limit)
	}
	if err := in.window.Accept(p.SequenceNumber); err != nil {
		return Message{}, dst[:start], err
	}
	m := Message{Type: p.Type, SPI: p.SPI, SequenceNumber: p.SequenceNumber, NextHeader: nextHeader, Payload: pt[:payloadLen]}
	return m, dst[:start+payloadLen], nil
}
