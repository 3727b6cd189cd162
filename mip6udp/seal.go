package mip6udp

import (
	"fmt"
	"io"
	"math"
	"slices"
)

// Seal appends to dst a protected packet of type t (PacketTypeData, §6.4
// Figure 8, or PacketTypeMobilityHeader, §6.3 Figure 7) carrying payload,
// and returns the extended slice. nextHeader is the RFC 4303 §2.6 Next
// Header: the first encapsulated header for PType 8 (§6.3), the tunneled
// IP version for PType 1 (41 for IPv6, 4 for IPv4). payload must not
// overlap dst's spare capacity.
//
// The layout is the header (PType, SPI, Sequence Number), the IV, the
// ciphertext of payload, Padding (1, 2, 3, …), Pad Length and Next Header
// (RFC 4303 §2.4–§2.6), then the ICV over all that precedes it (§2.8;
// "The PType and the SPI fields are treated as one 32-bit field during
// the integrity protection calculation", RFC 6618 §6.2). Each call uses
// the next Sequence Number, starting from 1; Seal fails with
// ErrSequenceNumberExhausted rather than cycle to 0 (docs/mip6udp.md).
// With caller-supplied capacity it does not allocate.
func (o *Outbound) Seal(dst []byte, t PacketType, nextHeader uint8, payload []byte) ([]byte, error) {
	if t != PacketTypeData && t != PacketTypeMobilityHeader {
		return dst, fmt.Errorf("%w: %w: Seal builds PType 1 or 8, not %d", ErrMarshal, ErrPacketType, uint8(t))
	}
	s := &o.suite
	ctLen := o.paddedLen(len(payload))
	total := HeaderLen + s.IVLen + ctLen + s.ICVLen
	start := len(dst)
	dst = slices.Grow(dst, total)[:start+total]
	pkt := dst[start:]
	iv := pkt[HeaderLen : HeaderLen+s.IVLen]
	ct := pkt[HeaderLen+s.IVLen : HeaderLen+s.IVLen+ctLen]
	covered := pkt[:len(pkt)-s.ICVLen]

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seq == math.MaxUint32 {
		// RFC 6618 §6.1: "the HA SHOULD initiate a re-establishment of the
		// SA before any of the Sequence Number cycle".
		return dst[:start], fmt.Errorf("%w: %w: SPI %d", ErrMarshal, ErrSequenceNumberExhausted, o.spi)
	}
	if _, err := io.ReadFull(o.rand, iv); err != nil {
		return dst[:start], fmt.Errorf("%w: IV: %w", ErrMarshal, err)
	}
	o.seq++
	appendHeader(pkt[:0], t, o.spi, o.seq)
	n := copy(ct, payload)
	padLen := ctLen - n - 2
	for i := range padLen {
		// RFC 4303 §2.4: "The first padding byte appended to the
		// plaintext is numbered 1, with subsequent padding bytes making up
		// a monotonically increasing sequence".
		ct[n+i] = byte(i + 1)
	}
	ct[ctLen-2] = byte(padLen)
	ct[ctLen-1] = nextHeader
	o.enc.crypt(ct, iv)
	o.mac.sum(pkt[len(covered):], covered)
	return dst, nil
}
