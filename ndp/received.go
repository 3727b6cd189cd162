package ndp

import (
	"fmt"
	"io"
)

// OptionsOffset returns the offset of the first option in the raw ICMPv6
// message msg: 8 for Router Solicitation, Certification Path Solicitation and
// the FMIPv6 RtSolPr and PrRtAdv; 12 for Certification Path Advertisement;
// 16 for Router Advertisement; 24 for Neighbor Solicitation and
// Advertisement; 40 for Redirect (RFC 4861 §4.1-§4.5, RFC 3971 §6.4.1-§6.4.2,
// RFC 5568 §6.1). Other types give an error wrapping ErrUnknownMessage; a
// message too short for its fixed fields gives ErrParse with
// io.ErrUnexpectedEOF.
func OptionsOffset(msg []byte) (int, error) {
	if len(msg) < 4 {
		return 0, fmt.Errorf("%w: ICMPv6 header: need 4 octets, have %d: %w", ErrParse, len(msg), io.ErrUnexpectedEOF)
	}
	typ := MessageType(msg[0])
	var sub uint8
	if typ == TypeFMIPv6 {
		if len(msg) < 5 {
			return 0, fmt.Errorf("%w: FMIPv6 message: Subtype at offset 4: %w", ErrParse, io.ErrUnexpectedEOF)
		}
		sub = msg[4]
	}
	off := optionsOffset(typ, sub)
	if off == 0 {
		if typ == TypeFMIPv6 {
			return 0, fmt.Errorf("%w: ICMPv6 type %d, Subtype %d", ErrUnknownMessage, typ, sub)
		}
		return 0, fmt.Errorf("%w: ICMPv6 type %d", ErrUnknownMessage, typ)
	}
	if len(msg) < off {
		return 0, fmt.Errorf("%w: ICMPv6 type %d: need %d octets before the options, have %d: %w", ErrParse, typ, off, len(msg), io.ErrUnexpectedEOF)
	}
	return off, nil
}

// OptionSpan locates one option in a raw message as received.
type OptionSpan struct {
	Type OptionType
	// Offset is the offset of the option's Type octet in the message.
	Offset int
	// Length is the option's length in octets (8 times its Length
	// field).
	Length int
}

// OptionSpans lists every option of the raw ICMPv6 message msg in order, with
// its offset and length as received. It checks only the TLV framing (RFC 4861
// §4.6: no Length 0, no option past the end); the option contents are not
// decoded.
func OptionSpans(msg []byte) ([]OptionSpan, error) {
	off, err := OptionsOffset(msg)
	if err != nil {
		return nil, err
	}
	var spans []OptionSpan
	for off < len(msg) {
		if len(msg)-off < 2 {
			return nil, fmt.Errorf("%w: option header at offset %d: need 2 octets, have %d: %w", ErrParse, off, len(msg)-off, io.ErrUnexpectedEOF)
		}
		typ, l := OptionType(msg[off]), int(msg[off+1])*8
		if l == 0 {
			return nil, fmt.Errorf("%w: option type %d at offset %d: Length is 0 (RFC 4861 §4.6)", ErrParse, typ, off)
		}
		if len(msg)-off < l {
			return nil, fmt.Errorf("%w: option type %d at offset %d: Length %d octets, have %d: %w", ErrParse, typ, off, l, len(msg)-off, io.ErrUnexpectedEOF)
		}
		spans = append(spans, OptionSpan{Type: typ, Offset: off, Length: l})
		off += l
	}
	return spans, nil
}

// RSASignatureOffset returns the offset of the first RSA Signature option in
// the raw ICMPv6 message msg. The octets msg[:off] are what RFC 3971 §5.2
// signs after the CGA Message Type tag and the IPv6 source and destination
// addresses: "The 8-bit Type, 8-bit Code, and 16-bit Checksum fields from the
// ICMP header", "The NDP message header, starting from the octet after the
// ICMP Checksum field and continuing up to but not including NDP options",
// and "All NDP options preceding the RSA Signature option". Signers and
// verifiers must take these octets from the message as sent or received,
// never from a re-marshalled one.
//
// Options after the first RSA Signature option are allowed here; RFC 3971
// §5.2.2 says "The receiver MUST ignore any options that come after the first
// RSA Signature option", so callers must not act on them. The error wraps
// ErrNoRSASignature when there is no RSA Signature option,
// ErrUnknownMessage when the options of msg's type cannot be located, and
// ErrParse when the option framing is broken or the RSA Signature option is
// too short for its Reserved and Key Hash fields.
func RSASignatureOffset(msg []byte) (int, error) {
	spans, err := OptionSpans(msg)
	if err != nil {
		return 0, err
	}
	for _, s := range spans {
		if s.Type != OptionRSASignature {
			continue
		}
		if s.Length < 24 {
			return 0, fmt.Errorf("%w: RSA Signature option at offset %d: Length %d leaves no room for Reserved, Key Hash and a signature: %w", ErrParse, s.Offset, s.Length/8, io.ErrUnexpectedEOF)
		}
		return s.Offset, nil
	}
	return 0, fmt.Errorf("%w in ICMPv6 type %d", ErrNoRSASignature, msg[0])
}
