package ndp

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// OptionType is the Type octet of a Neighbor Discovery option (RFC 4861 §4.6;
// IANA "IPv6 Neighbor Discovery Option Formats").
type OptionType uint8

// Option types implemented by this package. Numbers are from
// shared/specs/CODEPOINTS.md §2.
const (
	OptionSourceLinkLayerAddress    OptionType = 1  // RFC 4861 §4.6.1
	OptionTargetLinkLayerAddress    OptionType = 2  // RFC 4861 §4.6.1
	OptionPrefixInformation         OptionType = 3  // RFC 4861 §4.6.2
	OptionRedirectedHeader          OptionType = 4  // RFC 4861 §4.6.3 (kept as RawOption)
	OptionMTU                       OptionType = 5  // RFC 4861 §4.6.4
	OptionCGA                       OptionType = 11 // RFC 3971 §5.1
	OptionRSASignature              OptionType = 12 // RFC 3971 §5.2
	OptionTimestamp                 OptionType = 13 // RFC 3971 §5.3.1
	OptionNonce                     OptionType = 14 // RFC 3971 §5.3.2
	OptionTrustAnchor               OptionType = 15 // RFC 3971 §6.4.3
	OptionCertificate               OptionType = 16 // RFC 3971 §6.4.4
	OptionIPAddressPrefix           OptionType = 17 // RFC 5568 §6.4.1
	OptionLinkLayerAddress          OptionType = 19 // RFC 5568 §6.4.3
	OptionNAACK                     OptionType = 20 // RFC 5568 §6.4.6
	OptionHandoverKeyRequest        OptionType = 27 // RFC 5269 §4.1
	OptionHandoverKeyReply          OptionType = 28 // RFC 5269 §4.2
	OptionHandoverAssistInformation OptionType = 29 // RFC 5271 §6.1
	OptionMobileNodeIdentifier      OptionType = 30 // RFC 5271 §6.2
)

// maxOptionLen is the longest ND option: the 8-bit Length field counts units
// of 8 octets (RFC 4861 §4.6).
const maxOptionLen = 255 * 8

// Option is one Neighbor Discovery option. The concrete types are the
// pointers to the option structs of this package; RawOption holds any other
// type.
type Option interface {
	// OptionType returns the option's Type octet.
	OptionType() OptionType
	// Name returns the option's name as the defining RFC spells it.
	Name() string

	// appendBody appends the octets that follow Type and Length, padding
	// included, so that the whole option is a multiple of 8 octets. The
	// caller zero-pads if it is not.
	appendBody(b []byte) ([]byte, error)
}

// RawOption is an option whose type this package does not decode. Data holds
// every octet after the Type and Length fields, as received.
type RawOption struct {
	Type OptionType
	Data []byte
}

// OptionType implements Option.
func (o *RawOption) OptionType() OptionType { return o.Type }

// Name implements Option: the IANA name where one is known.
func (o *RawOption) Name() string {
	switch o.Type {
	case OptionRedirectedHeader:
		return "Redirected Header"
	case 7:
		return "Advertisement Interval"
	case 8:
		return "Home Agent Information"
	case 18:
		return "New Router Prefix Information"
	}
	return fmt.Sprintf("Unknown option %d", uint8(o.Type))
}

func (o *RawOption) appendBody(b []byte) ([]byte, error) { return append(b, o.Data...), nil }

// ParseOptions decodes a sequence of ND options that fills b exactly (RFC
// 4861 §4.6). An option with Length 0 is an error: "Nodes MUST silently
// discard an ND packet that contains an option with length zero." The result
// does not alias b.
func ParseOptions(b []byte) ([]Option, error) {
	opts, err := parseOptions(b, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return opts, nil
}

// parseOptions is ParseOptions for options found at offset base of a message,
// so that errors name the offset in the message. Its errors are causes only:
// the caller adds ErrParse.
func parseOptions(b []byte, base int) ([]Option, error) {
	var opts []Option
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("option header at offset %d: need 2 octets, have %d: %w", base+off, len(b)-off, io.ErrUnexpectedEOF)
		}
		typ, l := OptionType(b[off]), int(b[off+1])*8
		if l == 0 {
			return nil, fmt.Errorf("option type %d at offset %d: Length is 0 (RFC 4861 §4.6)", typ, base+off)
		}
		if len(b)-off < l {
			return nil, fmt.Errorf("option type %d at offset %d: Length %d octets, have %d: %w", typ, base+off, l, len(b)-off, io.ErrUnexpectedEOF)
		}
		o, err := parseOption(typ, b[off+2:off+l])
		if err != nil {
			return nil, fmt.Errorf("%s option at offset %d: %w", o.Name(), base+off, err)
		}
		opts = append(opts, o)
		off += l
	}
	return opts, nil
}

// optionDecoder is implemented by every typed option: it decodes the octets
// after Type and Length. It returns the cause only; parseOptions adds the
// option's name and offset, and its callers ErrParse.
type optionDecoder interface {
	Option
	decode(body []byte) error
}

// newOption returns an empty typed option for typ, or a RawOption.
func newOption(typ OptionType) Option {
	switch typ {
	case OptionSourceLinkLayerAddress:
		return &SourceLinkLayerAddress{}
	case OptionTargetLinkLayerAddress:
		return &TargetLinkLayerAddress{}
	case OptionPrefixInformation:
		return &PrefixInformation{}
	case OptionMTU:
		return &MTU{}
	case OptionCGA:
		return &CGA{}
	case OptionRSASignature:
		return &RSASignature{}
	case OptionTimestamp:
		return &Timestamp{}
	case OptionNonce:
		return &Nonce{}
	case OptionTrustAnchor:
		return &TrustAnchor{}
	case OptionCertificate:
		return &Certificate{}
	case OptionIPAddressPrefix:
		return &IPAddressPrefix{}
	case OptionLinkLayerAddress:
		return &LinkLayerAddress{}
	case OptionNAACK:
		return &NAACK{}
	case OptionHandoverKeyRequest:
		return &HandoverKeyRequest{}
	case OptionHandoverKeyReply:
		return &HandoverKeyReply{}
	case OptionHandoverAssistInformation:
		return &HandoverAssistInformation{}
	case OptionMobileNodeIdentifier:
		return &MobileNodeIdentifier{}
	}
	return &RawOption{Type: typ}
}

// parseOption decodes one option body. It always returns a non-nil Option so
// that the caller can name it in errors.
func parseOption(typ OptionType, body []byte) (Option, error) {
	o := newOption(typ)
	if d, ok := o.(optionDecoder); ok {
		return o, d.decode(body)
	}
	o.(*RawOption).Data = clone(body)
	return o, nil
}

// MarshalOptions encodes opts in order (RFC 4861 §4.6).
func MarshalOptions(opts []Option) ([]byte, error) {
	b, err := appendOptions(nil, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, nil
}

// appendOptions appends the encoding of opts to b. Its errors are causes
// only: the caller adds ErrInvalid.
func appendOptions(b []byte, opts []Option) ([]byte, error) {
	for i, o := range opts {
		var err error
		if b, err = appendOption(b, o); err != nil {
			return nil, fmt.Errorf("option %d: %w", i, err)
		}
	}
	return b, nil
}

// appendOption appends one option: Type, Length and the body, zero-padded to
// a multiple of 8 octets as RFC 4861 §4.6 asks: "Options should be padded
// when necessary to ensure that they end on their natural 64-bit boundaries."
func appendOption(b []byte, o Option) ([]byte, error) {
	if o == nil {
		return nil, errors.New("nil option")
	}
	start := len(b)
	b = append(b, byte(o.OptionType()), 0)
	b, err := o.appendBody(b)
	if err != nil {
		return nil, fmt.Errorf("%s option: %w", o.Name(), err)
	}
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	n := len(b) - start
	// RFC 4861 §4.6: Length is an "8-bit unsigned integer. The length of
	// the option (including the type and length fields) in units of 8
	// octets."
	if n > maxOptionLen {
		return nil, fmt.Errorf("%s option: %d octets, the limit is %d", o.Name(), n, maxOptionLen)
	}
	b[start+1] = byte(n / 8)
	return b, nil
}

// clone returns a copy of b, or nil when b is empty, so that parsed values
// compare equal however the input slice was shaped.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// padding returns the zero octets that complete an option of n octets to a
// multiple of 8, or p when the caller supplied padding of its own (as
// received), after checking that p completes it.
func padding(n int, p []byte) ([]byte, error) {
	if p == nil {
		return make([]byte, (8-n%8)%8), nil
	}
	if (n+len(p))%8 != 0 {
		return nil, fmt.Errorf("%d padding octets leave the option at %d octets, not a multiple of 8", len(p), n+len(p))
	}
	return p, nil
}

// Infinity is the lifetime of all one bits that RFC 4861 §4.6.2 defines as
// infinite for the Valid and Preferred Lifetimes ("A value of all one bits
// (0xffffffff) represents infinity").
const Infinity = time.Duration(0xffffffff) * time.Second

// durationUnits converts d to a whole number of units that fits in max, or
// explains why it cannot.
func durationUnits(field string, d, unit time.Duration, max uint64) (uint64, error) {
	if d < 0 || d%unit != 0 || uint64(d/unit) > max {
		return 0, fmt.Errorf("%s %v is not a whole number of %v from 0 to %d", field, d, unit, max)
	}
	return uint64(d / unit), nil
}
