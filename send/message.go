package send

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// MessageTypeTag is the 128-bit CGA Message Type tag for SEND (RFC 3971
// §5.2 item 1, §11; RFC 3972 §8): 0x086F CA5E 10B2 00C9 9C8C E001 6427 7C08.
var MessageTypeTag = [16]byte{
	0x08, 0x6f, 0xca, 0x5e, 0x10, 0xb2, 0x00, 0xc9,
	0x9c, 0x8c, 0xe0, 0x01, 0x64, 0x27, 0x7c, 0x08,
}

// ICMPv6 message types protected by SEND here (CODEPOINTS.md §1).
const (
	typeRouterSolicitation       = 133 // RFC 4861 §4.1
	typeRouterAdvertisement      = 134 // RFC 4861 §4.2
	typeNeighborSolicitation     = 135 // RFC 4861 §4.3
	typeNeighborAdvertisement    = 136 // RFC 4861 §4.4
	typeRedirect                 = 137 // RFC 4861 §4.5
	typeCertificationPathSolicit = 148 // RFC 3971 §6.4.1
	typeCertificationPathAdvert  = 149 // RFC 3971 §6.4.2
	typeFMIPv6                   = 154 // RFC 5568 §6.1

	subtypeRtSolPr = 2 // RFC 5568 §6.1.1
	subtypePrRtAdv = 3 // RFC 5568 §6.1.2
)

// ND option types of RFC 3971 §5 (CODEPOINTS.md §2).
const (
	optionCGA          = 11 // §5.1
	optionRSASignature = 12 // §5.2
	optionTimestamp    = 13 // §5.3.1
	optionNonce        = 14 // §5.3.2
)

// rsaSignatureFixedLen is Type, Length, Reserved and Key Hash (RFC 3971 §5.2).
const rsaSignatureFixedLen = 4 + 16

// headerLen returns the length of the ICMPv6 header plus the NDP message
// header, i.e. the offset of the first option (RFC 3971 §5.2 items 4-5), or
// 0 for a type SEND does not cover here.
func headerLen(typ uint8) int {
	switch typ {
	case typeRouterSolicitation: // Type, Code, Checksum, Reserved
		return 8
	case typeRouterAdvertisement: // + Cur Hop Limit..Retrans Timer
		return 16
	case typeNeighborSolicitation, typeNeighborAdvertisement: // + Target Address
		return 24
	case typeRedirect: // + Target and Destination Address
		return 40
	case typeCertificationPathSolicit: // + Identifier, Component
		return 8
	case typeCertificationPathAdvert: // + Identifier, All Components, Component, Reserved
		return 12
	case typeFMIPv6: // + Subtype, Reserved, Identifier
		return 8
	}
	return 0
}

// messageClass tells solicitations from advertisements (RFC 3971 §5.3.4).
type messageClass uint8

const (
	classOther messageClass = iota // Redirect, other FMIPv6 subtypes
	classSolicitation
	classAdvertisement
)

func classify(msg []byte) messageClass {
	switch msg[0] {
	case typeRouterSolicitation, typeNeighborSolicitation, typeCertificationPathSolicit:
		return classSolicitation
	case typeRouterAdvertisement, typeNeighborAdvertisement, typeCertificationPathAdvert:
		return classAdvertisement
	case typeFMIPv6:
		switch msg[4] {
		case subtypeRtSolPr:
			return classSolicitation
		case subtypePrRtAdv:
			return classAdvertisement
		}
	}
	return classOther
}

// layout records where the SEND options sit in a message. Offsets are of the
// whole option (Type octet); -1 means absent.
type layout struct {
	header    int
	cga       int // CGA option
	cgaLen    int
	timestamp int // Timestamp option
	nonce     int // Nonce option
	nonceLen  int
	signature int // first RSA Signature option
	sigLen    int
}

// scan walks the options of msg, stopping after the first RSA Signature
// option (RFC 3971 §5.2.2: "The receiver MUST ignore any options that come
// after the first RSA Signature option"). It checks the generic ND option
// rule (length > 0, within the message; RFC 4861 §4.6) for every option it
// walks and the fixed lengths of the SEND options.
func scan(msg []byte) (layout, error) {
	l := layout{cga: -1, timestamp: -1, nonce: -1, signature: -1}
	if len(msg) < 4 {
		return l, fmt.Errorf("%w: ICMPv6 header: need 4 octets, have %d: %w", ErrParse, len(msg), io.ErrUnexpectedEOF)
	}
	l.header = headerLen(msg[0])
	if l.header == 0 {
		return l, fmt.Errorf("%w: %w: type %d", ErrParse, ErrUnsupportedType, msg[0])
	}
	if len(msg) < l.header {
		return l, fmt.Errorf("%w: type %d message header: need %d octets, have %d: %w", ErrParse, msg[0], l.header, len(msg), io.ErrUnexpectedEOF)
	}
	for off := l.header; off < len(msg); {
		if len(msg)-off < 2 {
			return l, fmt.Errorf("%w: option header at offset %d: %w", ErrParse, off, io.ErrUnexpectedEOF)
		}
		typ, n := msg[off], int(msg[off+1])*8
		if n == 0 {
			return l, fmt.Errorf("%w: option type %d at offset %d: zero length", ErrParse, typ, off)
		}
		if len(msg)-off < n {
			return l, fmt.Errorf("%w: option type %d at offset %d: length %d, have %d: %w", ErrParse, typ, off, n, len(msg)-off, io.ErrUnexpectedEOF)
		}
		switch typ {
		case optionCGA:
			if l.cga >= 0 {
				return l, fmt.Errorf("%w: %w: CGA option at offsets %d and %d", ErrParse, ErrDuplicateOption, l.cga, off)
			}
			// Type, Length, Pad Length, Reserved, then at least the
			// fixed CGA Parameters fields; Pad Length must fit.
			if pad := int(msg[off+2]); 4+pad > n {
				return l, fmt.Errorf("%w: CGA option at offset %d: Pad Length %d exceeds option length %d", ErrParse, off, pad, n)
			}
			l.cga, l.cgaLen = off, n
		case optionTimestamp:
			if l.timestamp >= 0 {
				return l, fmt.Errorf("%w: %w: Timestamp option at offsets %d and %d", ErrParse, ErrDuplicateOption, l.timestamp, off)
			}
			// RFC 3971 §5.3.1: Length "in units of 8 octets; i.e., 2".
			if n != 16 {
				return l, fmt.Errorf("%w: Timestamp option at offset %d: length %d octets, want 16", ErrParse, off, n)
			}
			l.timestamp = off
		case optionNonce:
			if l.nonce >= 0 {
				return l, fmt.Errorf("%w: %w: Nonce option at offsets %d and %d", ErrParse, ErrDuplicateOption, l.nonce, off)
			}
			l.nonce, l.nonceLen = off, n
		case optionRSASignature:
			if n < rsaSignatureFixedLen {
				return l, fmt.Errorf("%w: RSA Signature option at offset %d: length %d octets, need at least %d", ErrParse, off, n, rsaSignatureFixedLen)
			}
			l.signature, l.sigLen = off, n
			return l, nil
		}
		off += n
	}
	return l, nil
}

// cgaParameters returns the CGA Parameters field of the CGA option
// (RFC 3971 §5.1): after Type, Length, Pad Length and Reserved, before the
// Padding. scan has checked the bounds.
func (l *layout) cgaParameters(msg []byte) []byte {
	o := msg[l.cga : l.cga+l.cgaLen]
	return o[4 : len(o)-int(o[2])]
}

// timestampValue returns the Timestamp field (RFC 3971 §5.3.1).
func (l *layout) timestampValue(msg []byte) Timestamp {
	return Timestamp(binary.BigEndian.Uint64(msg[l.timestamp+8:]))
}

// nonceValue returns the Nonce field (RFC 3971 §5.3.2).
func (l *layout) nonceValue(msg []byte) []byte {
	return msg[l.nonce+2 : l.nonce+l.nonceLen]
}

// Timestamp is the value of the Timestamp option (RFC 3971 §5.3.1): seconds
// since 1970-01-01 00:00 UTC in fixed point, the integer part in the first
// 48 bits and 1/65536 fractions of a second in the remaining 16.
type Timestamp uint64

// TimestampFromTime converts t to the RFC 3971 §5.3.1 format, rounding to
// the nearest 1/65536 s (as ndp.TimestampValue does). Times before 1970 give
// 0; times from 2^48 s on saturate.
func TimestampFromTime(t time.Time) Timestamp {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if s >= 1<<48 {
		return Timestamp(^uint64(0))
	}
	return Timestamp(uint64(s)<<16 + (uint64(t.Nanosecond())<<16+5e8)/1e9)
}

// Time returns ts as a time.Time, rounded up to the nanosecond so that
// TimestampFromTime(ts.Time()) == ts for every ts below 2^63.
func (ts Timestamp) Time() time.Time {
	return time.Unix(int64(ts>>16), int64((uint64(ts&0xffff)*1e9+0xffff)>>16)).UTC()
}
