package mh

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Mobility option types assigned by IANA (shared/specs/CODEPOINTS.md §4).
const (
	OptionTypePad1                            uint8 = 0  // RFC 6275 §6.2.2
	OptionTypePadN                            uint8 = 1  // RFC 6275 §6.2.3
	OptionTypeBindingRefreshAdvice            uint8 = 2  // RFC 6275 §6.2.4
	OptionTypeAlternateCareOfAddress          uint8 = 3  // RFC 6275 §6.2.5
	OptionTypeNonceIndices                    uint8 = 4  // RFC 6275 §6.2.6
	OptionTypeBindingAuthorizationData        uint8 = 5  // RFC 6275 §6.2.7
	OptionTypeLinkLayerAddress                uint8 = 7  // RFC 5568 §6.4.4
	OptionTypeMobileNodeIdentifier            uint8 = 8  // RFC 4283 §3
	OptionTypeMobilityMessageAuthentication   uint8 = 9  // RFC 4285 §5
	OptionTypeMobilityMessageReplayProtection uint8 = 10 // RFC 4285 §6
	OptionTypeBADF                            uint8 = 21 // RFC 5568 §6.4.5
	// OptionTypeIPv6AddressPrefix is 34 as in RFC 5568 §11 and the IANA
	// registry; RFC 5568 §6.4.2 misprints 17 (see docs/codepoints.md).
	OptionTypeIPv6AddressPrefix uint8 = 34
)

// Sub-field values.
const (
	// LinkLayerAddressCodeMN is the MH-LLA Option-Code "Link-Layer Address
	// of the MN" (RFC 5568 §6.4.4).
	LinkLayerAddressCodeMN uint8 = 2

	// IPv6AddressPrefix Option-Codes (RFC 5568 §6.4.2).
	PrefixCodeOldCareOfAddress uint8 = 1
	PrefixCodeNewCareOfAddress uint8 = 2
	PrefixCodeNARAddress       uint8 = 3
	PrefixCodeNARPrefix        uint8 = 4

	// MobileNodeIdentifierSubtypeNAI is the MN-NAI subtype (RFC 4283 §3.1).
	MobileNodeIdentifierSubtypeNAI uint8 = 1

	// Mobility Message Authentication subtypes (RFC 4285 §5.1, §5.2).
	AuthenticationSubtypeMNHA  uint8 = 1
	AuthenticationSubtypeMNAAA uint8 = 2
	// HMACSHA1SPI is the well-known mobility SPI HMAC_SHA1_SPI (RFC 4285 §8).
	HMACSHA1SPI uint32 = 3

	// Handover Nonce subtypes (draft §5.2.1).
	NonceSubtypeHKS uint8 = 1 // HKS-Nonce
	NonceSubtypeMN  uint8 = 2 // MN-Nonce

	// MAC option subtypes and Algorithm Type (draft §5.2.2).
	MACSubtypeMNHKS       uint8 = 1 // MN-HKS MAC
	MACSubtypeMNAR        uint8 = 2 // MN-AR MAC
	AlgorithmTypeHMACSHA1 uint8 = 1
	// AlgorithmTypeHMACSHA256 (HMAC-SHA-256) is an fhkey extension, not
	// in the draft (docs/aaa.md).
	AlgorithmTypeHMACSHA256 uint8 = 2
)

// Field sizes and limits.
const (
	maxAlgorithmType               = 0x0f // 4-bit AT field
	maxPrefixLength                = 128
	lifetimeUnit                   = 4 * time.Second // RFC 6275 §6.1.7, §6.2.4
	ipv6Len                        = 16
	maxOptionData                  = 255
	badfSPILen                     = 4
	authSubtypeSPILen              = 1 + 4
	nonceHeaderLen                 = 2 // Sub-type, Reserved
	macHeaderLen                   = 2 // Sub-type, Reserved/AT
	timestampLen                   = 8
	bindingRefreshAdviceLen        = 2
	nonceIndicesLen                = 4
	ipv6AddressPrefixLen           = 2 + ipv6Len
	linkLayerAddressCodeLen        = 1
	mobileNodeIdentifierSubtypeLen = 1
)

// An Option is one mobility option (RFC 6275 §6.2.1). The concrete types
// are the structs of this package; RawOption carries any other type.
type Option interface {
	optionType(cp Codepoints) uint8
	// dataLen is the Option Length (octets after Type and Length).
	dataLen() int
	appendData(b []byte) ([]byte, error)
	alignment() alignment
}

// alignment is an xn+y requirement relative to the start of the Mobility
// Header (RFC 6275 §6.2.1). x == 1 means none. last marks the Binding
// Authorization Data options, whose requirement is that they end the
// Mobility Header (RFC 6275 §6.2.7: "an implicit alignment requirement").
type alignment struct {
	x, y int
	last bool
}

var noAlign = alignment{x: 1}

// pad returns how many octets of padding put an option of total length
// n (type and length included) that starts at off on its boundary.
func (a alignment) pad(off, n int) int {
	if a.last {
		return (8 - (off+n)%8) % 8
	}
	return ((a.y-off%a.x)%a.x + a.x) % a.x
}

// Pad1 is the one-octet padding option (RFC 6275 §6.2.2). It has no length.
type Pad1 struct{}

// PadN is N octets of padding, N >= 2 (RFC 6275 §6.2.3). Its Option Data
// "MUST be ignored by the receiver" and is written as zeros.
type PadN struct {
	N int
}

// BindingRefreshAdvice is the option of RFC 6275 §6.2.4 (alignment 2n).
// RefreshInterval is carried in units of 4 seconds.
type BindingRefreshAdvice struct {
	RefreshInterval time.Duration
}

// AlternateCareOfAddress is the option of RFC 6275 §6.2.5 (alignment 8n+6).
type AlternateCareOfAddress struct {
	Address netip.Addr
}

// NonceIndices is the option of RFC 6275 §6.2.6 (alignment 2n).
type NonceIndices struct {
	HomeNonceIndex   uint16
	CareOfNonceIndex uint16
}

// BindingAuthorizationData is the option of RFC 6275 §6.2.7. It MUST be
// the last option and MUST NOT have trailing padding, hence its implicit
// alignment: it ends the Mobility Header (8n+2 for a 96-bit Authenticator).
type BindingAuthorizationData struct {
	Authenticator []byte
}

// MobilityHeaderLinkLayerAddress is the MH-LLA option of RFC 5568 §6.4.4
// (no alignment requirement). OptionCode 2 is the LLA of the MN.
type MobilityHeaderLinkLayerAddress struct {
	OptionCode       uint8
	LinkLayerAddress []byte
}

// MobileNodeIdentifier is the option of RFC 4283 §3 (no alignment
// requirement). Subtype 1 is the NAI (§3.1).
type MobileNodeIdentifier struct {
	Subtype    uint8
	Identifier []byte
}

// MobilityMessageAuthentication is the option of RFC 4285 §5 (alignment
// 4n+1). AuthenticationData protects the message from the start of the
// Mobility Header up to and including the Mobility SPI field.
type MobilityMessageAuthentication struct {
	Subtype            uint8
	SPI                uint32
	AuthenticationData []byte
}

// MobilityMessageReplayProtection is the option of RFC 4285 §6 (alignment
// 8n+2) carrying a 64-bit NTP timestamp.
type MobilityMessageReplayProtection struct {
	Timestamp NTPTimestamp
}

// BindingAuthorizationDataForFMIPv6 is the BADF option of RFC 5568 §6.4.5.
// SPI 0 "is reserved for the Authenticator computed using SEND-based
// handover keys". The option MUST be the last mobility option; like the
// Binding Authorization Data option it must therefore end the Mobility
// Header (8n+6 for a 96-bit Authenticator). Its Option Length counts the
// SPI and the Authenticator, as the generic TLV rule of RFC 6275 §6.2.1
// requires (RFC 5568 §6.4.5 describes it as "the length of the
// Authenticator", which would leave the SPI outside the option).
type BindingAuthorizationDataForFMIPv6 struct {
	SPI           uint32
	Authenticator []byte
}

// MobilityHeaderIPv6AddressPrefix is the Mobility Header IP Address/Prefix
// option of RFC 5568 §6.4.2 (type 34, alignment 8n+4).
type MobilityHeaderIPv6AddressPrefix struct {
	OptionCode   uint8
	PrefixLength uint8 // 0-128
	Address      netip.Addr
}

// HandoverNonce is the Handover Nonce option of draft §5.2.1. The draft
// states no alignment requirement and none is applied (its fields are
// single octets and an octet string). The Reserved octet is written as 0.
type HandoverNonce struct {
	Subtype uint8 // NonceSubtypeHKS or NonceSubtypeMN
	Nonce   []byte
}

// MessageAuthenticationCode is the MAC option of draft §5.2.2. The draft's
// figure leaves the split of the octet after Sub-type unclear; here the high
// four bits are Reserved and the low four bits are the Algorithm Type, as in
// the RFC 5269 options. No alignment requirement (none is stated; no field
// is a multi-octet integer).
type MessageAuthenticationCode struct {
	Subtype       uint8 // MACSubtypeMNHKS or MACSubtypeMNAR
	AlgorithmType uint8 // 0-15; 1 = HMAC-SHA-1
	AuthValue     []byte
}

// Timestamp is the Timestamp option of draft §5.2.3. Its layout is that of
// the RFC 4285 §6 replay protection option, so the same alignment, 8n+2,
// is applied (the draft states none).
type Timestamp struct {
	Value NTPTimestamp
}

// RawOption is an option of a type this package does not decode, kept as
// received. Type must not be Pad1 or PadN.
type RawOption struct {
	Type uint8
	Data []byte
}

func (Pad1) optionType(Codepoints) uint8                   { return OptionTypePad1 }
func (PadN) optionType(Codepoints) uint8                   { return OptionTypePadN }
func (BindingRefreshAdvice) optionType(Codepoints) uint8   { return OptionTypeBindingRefreshAdvice }
func (AlternateCareOfAddress) optionType(Codepoints) uint8 { return OptionTypeAlternateCareOfAddress }
func (NonceIndices) optionType(Codepoints) uint8           { return OptionTypeNonceIndices }
func (BindingAuthorizationData) optionType(Codepoints) uint8 {
	return OptionTypeBindingAuthorizationData
}
func (MobilityHeaderLinkLayerAddress) optionType(Codepoints) uint8 {
	return OptionTypeLinkLayerAddress
}
func (MobileNodeIdentifier) optionType(Codepoints) uint8 { return OptionTypeMobileNodeIdentifier }
func (MobilityMessageAuthentication) optionType(Codepoints) uint8 {
	return OptionTypeMobilityMessageAuthentication
}
func (MobilityMessageReplayProtection) optionType(Codepoints) uint8 {
	return OptionTypeMobilityMessageReplayProtection
}
func (BindingAuthorizationDataForFMIPv6) optionType(Codepoints) uint8 { return OptionTypeBADF }
func (MobilityHeaderIPv6AddressPrefix) optionType(Codepoints) uint8 {
	return OptionTypeIPv6AddressPrefix
}
func (HandoverNonce) optionType(cp Codepoints) uint8             { return cp.HandoverNonce }
func (MessageAuthenticationCode) optionType(cp Codepoints) uint8 { return cp.MAC }
func (Timestamp) optionType(cp Codepoints) uint8                 { return cp.Timestamp }
func (o RawOption) optionType(Codepoints) uint8                  { return o.Type }

func (Pad1) dataLen() int                             { return -1 }
func (o PadN) dataLen() int                           { return o.N - 2 }
func (BindingRefreshAdvice) dataLen() int             { return bindingRefreshAdviceLen }
func (AlternateCareOfAddress) dataLen() int           { return ipv6Len }
func (NonceIndices) dataLen() int                     { return nonceIndicesLen }
func (o BindingAuthorizationData) dataLen() int       { return len(o.Authenticator) }
func (o MobilityHeaderLinkLayerAddress) dataLen() int { return 1 + len(o.LinkLayerAddress) }
func (o MobileNodeIdentifier) dataLen() int           { return 1 + len(o.Identifier) }
func (o MobilityMessageAuthentication) dataLen() int {
	return authSubtypeSPILen + len(o.AuthenticationData)
}
func (MobilityMessageReplayProtection) dataLen() int     { return timestampLen }
func (o BindingAuthorizationDataForFMIPv6) dataLen() int { return badfSPILen + len(o.Authenticator) }
func (MobilityHeaderIPv6AddressPrefix) dataLen() int     { return ipv6AddressPrefixLen }
func (o HandoverNonce) dataLen() int                     { return nonceHeaderLen + len(o.Nonce) }
func (o MessageAuthenticationCode) dataLen() int         { return macHeaderLen + len(o.AuthValue) }
func (Timestamp) dataLen() int                           { return timestampLen }
func (o RawOption) dataLen() int                         { return len(o.Data) }

func (Pad1) alignment() alignment                              { return noAlign }
func (PadN) alignment() alignment                              { return noAlign }
func (BindingRefreshAdvice) alignment() alignment              { return alignment{x: 2} }
func (AlternateCareOfAddress) alignment() alignment            { return alignment{x: 8, y: 6} }
func (NonceIndices) alignment() alignment                      { return alignment{x: 2} }
func (BindingAuthorizationData) alignment() alignment          { return alignment{x: 1, last: true} }
func (MobilityHeaderLinkLayerAddress) alignment() alignment    { return noAlign }
func (MobileNodeIdentifier) alignment() alignment              { return noAlign }
func (MobilityMessageAuthentication) alignment() alignment     { return alignment{x: 4, y: 1} }
func (MobilityMessageReplayProtection) alignment() alignment   { return alignment{x: 8, y: 2} }
func (BindingAuthorizationDataForFMIPv6) alignment() alignment { return alignment{x: 1, last: true} }
func (MobilityHeaderIPv6AddressPrefix) alignment() alignment   { return alignment{x: 8, y: 4} }
func (HandoverNonce) alignment() alignment                     { return noAlign }
func (MessageAuthenticationCode) alignment() alignment         { return noAlign }
func (Timestamp) alignment() alignment                         { return alignment{x: 8, y: 2} }
func (RawOption) alignment() alignment                         { return noAlign }

func (Pad1) appendData(b []byte) ([]byte, error) { return b, nil }

func (o PadN) appendData(b []byte) ([]byte, error) {
	if o.N < 2 || o.N-2 > maxOptionData {
		return nil, marshalErr("PadN: N = %d outside 2-257: %w", o.N, ErrValue)
	}
	return append(b, make([]byte, o.N-2)...), nil
}

func (o BindingRefreshAdvice) appendData(b []byte) ([]byte, error) {
	v, err := units(o.RefreshInterval, lifetimeUnit, "Binding Refresh Advice", "Refresh Interval")
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint16(b, v), nil
}

func (o AlternateCareOfAddress) appendData(b []byte) ([]byte, error) {
	return appendAddr(b, o.Address, "Alternate Care-of Address")
}

func (o NonceIndices) appendData(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, o.HomeNonceIndex)
	return binary.BigEndian.AppendUint16(b, o.CareOfNonceIndex), nil
}

func (o BindingAuthorizationData) appendData(b []byte) ([]byte, error) {
	if len(o.Authenticator) == 0 {
		return nil, marshalErr("Binding Authorization Data: empty Authenticator: %w", ErrValue)
	}
	return append(b, o.Authenticator...), nil
}

func (o MobilityHeaderLinkLayerAddress) appendData(b []byte) ([]byte, error) {
	b = append(b, o.OptionCode)
	return append(b, o.LinkLayerAddress...), nil
}

func (o MobileNodeIdentifier) appendData(b []byte) ([]byte, error) {
	b = append(b, o.Subtype)
	return append(b, o.Identifier...), nil
}

func (o MobilityMessageAuthentication) appendData(b []byte) ([]byte, error) {
	if len(o.AuthenticationData) == 0 {
		return nil, marshalErr("Mobility Message Authentication: empty Authentication Data: %w", ErrValue)
	}
	b = append(b, o.Subtype)
	b = binary.BigEndian.AppendUint32(b, o.SPI)
	return append(b, o.AuthenticationData...), nil
}

func (o MobilityMessageReplayProtection) appendData(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint64(b, uint64(o.Timestamp)), nil
}

func (o BindingAuthorizationDataForFMIPv6) appendData(b []byte) ([]byte, error) {
	if len(o.Authenticator) == 0 {
		return nil, marshalErr("BADF: empty Authenticator: %w", ErrValue)
	}
	b = binary.BigEndian.AppendUint32(b, o.SPI)
	return append(b, o.Authenticator...), nil
}

func (o MobilityHeaderIPv6AddressPrefix) appendData(b []byte) ([]byte, error) {
	if o.PrefixLength > maxPrefixLength {
		return nil, marshalErr("IPv6 Address/Prefix: Prefix Length %d > 128: %w", o.PrefixLength, ErrValue)
	}
	b = append(b, o.OptionCode, o.PrefixLength)
	return appendAddr(b, o.Address, "IPv6 Address/Prefix")
}

func (o HandoverNonce) appendData(b []byte) ([]byte, error) {
	if len(o.Nonce) == 0 {
		return nil, marshalErr("Handover Nonce: empty nonce: %w", ErrValue)
	}
	b = append(b, o.Subtype, 0)
	return append(b, o.Nonce...), nil
}

func (o MessageAuthenticationCode) appendData(b []byte) ([]byte, error) {
	if o.AlgorithmType > maxAlgorithmType {
		return nil, marshalErr("MAC: Algorithm Type %d does not fit 4 bits: %w", o.AlgorithmType, ErrValue)
	}
	if len(o.AuthValue) == 0 {
		return nil, marshalErr("MAC: empty AUTH Value: %w", ErrValue)
	}
	b = append(b, o.Subtype, o.AlgorithmType)
	return append(b, o.AuthValue...), nil
}

func (o Timestamp) appendData(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint64(b, uint64(o.Value)), nil
}

func (o RawOption) appendData(b []byte) ([]byte, error) {
	if o.Type == OptionTypePad1 || o.Type == OptionTypePadN {
		return nil, marshalErr("raw option: type %d is padding; use Pad1 or PadN: %w", o.Type, ErrValue)
	}
	return append(b, o.Data...), nil
}

func appendAddr(b []byte, a netip.Addr, field string) ([]byte, error) {
	if !a.Is6() || a.Zone() != "" {
		return nil, marshalErr("%s: %v is not an IPv6 address without zone: %w", field, a, ErrValue)
	}
	s := a.As16()
	return append(b, s[:]...), nil
}

// units converts d, the field of message or option name, into a 16-bit
// count of unit.
func units(d, unit time.Duration, name, field string) (uint16, error) {
	if d < 0 || d%unit != 0 || d/unit > 0xffff {
		return 0, marshalErr("%s: %s: %v is not a multiple of %v in 0-%v: %w", name, field, d, unit, 0xffff*unit, ErrValue)
	}
	return uint16(d / unit), nil
}

// isLastOnly reports the options that MUST be the last option.
func isLastOnly(o Option) bool {
	switch o.(type) {
	case BindingAuthorizationData, BindingAuthorizationDataForFMIPv6:
		return true
	}
	return false
}

// ParseOptions decodes the mobility options in b with the default
// codepoints. offset is the position of b[0] from the start of the
// Mobility Header; it is used for alignment checks and error messages.
func ParseOptions(b []byte, offset int) ([]Option, error) {
	return Codepoints{}.ParseOptions(b, offset)
}

// MarshalOptions encodes opts with the default codepoints. See
// Codepoints.MarshalOptions.
func MarshalOptions(opts []Option, offset int) ([]byte, error) {
	return Codepoints{}.MarshalOptions(opts, offset)
}

// ParseOptions decodes the mobility options in b (RFC 6275 §6.2.1). offset
// is the position of b[0] from the start of the Mobility Header. Padding
// options are kept in the result. A known option with a wrong Option
// Length or off its alignment boundary, a Binding Authorization Data or
// BADF option that is not the last option, and an option that overruns b
// are errors; options of unknown type become RawOption. The result does
// not alias b.
func (cp Codepoints) ParseOptions(b []byte, offset int) ([]Option, error) {
	r := cp.resolved()
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return r.parseOptions(b, offset)
}

func (cp *Codepoints) parseOptions(b []byte, offset int) ([]Option, error) {
	var opts []Option // nil when there are no options
	if n := countOptions(b); n > 0 {
		opts = make([]Option, 0, n)
	}
	err := cp.walkOptions(b, offset, func(typ uint8, d []byte) {
		opts = append(opts, cp.buildOption(typ, d))
	})
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// walkOptions checks the mobility options in b as ParseOptions describes
// and calls visit, in order, with the type and Option Data of each (nil
// data for Pad1). offset is the position of b[0] from the start of the
// Mobility Header. It allocates only for an error, so receivers that need
// a few fields (ParseFastBindingUpdate) decode without allocating.
func (cp *Codepoints) walkOptions(b []byte, offset int, visit func(typ uint8, d []byte)) error {
	lastOnly := -1 // offset of a Binding Authorization Data or BADF option
	for i := 0; i < len(b); {
		off := offset + i
		if lastOnly >= 0 {
			return parseErr("option type %d at offset %d follows the authorization data option at offset %d: %w",
				b[i], off, lastOnly, ErrBADFNotLast)
		}
		if b[i] == OptionTypePad1 {
			visit(OptionTypePad1, nil)
			i++
			continue
		}
		if len(b)-i < 2 {
			return parseErr("option type %d at offset %d: no Option Length: %w", b[i], off, io.ErrUnexpectedEOF)
		}
		typ, n := b[i], int(b[i+1])
		if len(b)-i-2 < n {
			return parseErr("option type %d at offset %d: Option Length %d overruns the message by %d octets: %w",
				typ, off, n, n-(len(b)-i-2), io.ErrUnexpectedEOF)
		}
		d := b[i+2 : i+2+n]
		spec := cp.specOf(typ)
		if err := spec.check(d); err != nil {
			return parseErr("option type %d at offset %d: %w", typ, off, err)
		}
		if a := spec.align; !a.last && a.x > 1 && a.pad(off, 2+n) != 0 {
			return parseErr("option type %d at offset %d: not at %dn+%d: %w", typ, off, a.x, a.y, ErrAlignment)
		}
		if spec.align.last {
			lastOnly = off
		}
		visit(typ, d)
		i += 2 + n
	}
	return nil
}

// countOptions returns the number of TLVs in b (at most len(b)), stopping
// at the first malformed one, so that parseOptions allocates once.
func countOptions(b []byte) int {
	n := 0
	for i := 0; i < len(b); n++ {
		if b[i] == OptionTypePad1 {
			i++
		} else if i+1 < len(b) {
			i += 2 + int(b[i+1])
		} else {
			break
		}
	}
	return n
}

// optionSpec is what a received option of one type must satisfy before it
// is decoded: an Option Length of exactly n octets, or at least n when
// atLeast, the alignment of its type (whose last flag marks the options
// that must be last), and for the IPv6 Address/Prefix option a Prefix
// Length of at most 128.
type optionSpec struct {
	name    string
	n       int
	atLeast bool
	align   alignment
	prefix  bool
}

// specOf returns the spec of option type typ (not Pad1). Unknown types,
// decoded as RawOption, take any length and have no alignment.
func (cp *Codepoints) specOf(typ uint8) optionSpec {
	switch typ {
	case OptionTypePadN:
		return optionSpec{name: "PadN", atLeast: true, align: PadN{}.alignment()}
	case OptionTypeBindingRefreshAdvice:
		return optionSpec{name: "Binding Refresh Advice", n: bindingRefreshAdviceLen, align: BindingRefreshAdvice{}.alignment()}
	case OptionTypeAlternateCareOfAddress:
		return optionSpec{name: "Alternate Care-of Address", n: ipv6Len, align: AlternateCareOfAddress{}.alignment()}
	case OptionTypeNonceIndices:
		return optionSpec{name: "Nonce Indices", n: nonceIndicesLen, align: NonceIndices{}.alignment()}
	case OptionTypeBindingAuthorizationData:
		return optionSpec{name: "Binding Authorization Data", n: 1, atLeast: true, align: BindingAuthorizationData{}.alignment()}
	case OptionTypeLinkLayerAddress:
		return optionSpec{name: "MH Link-Layer Address", n: linkLayerAddressCodeLen, atLeast: true,
			align: MobilityHeaderLinkLayerAddress{}.alignment()}
	case OptionTypeMobileNodeIdentifier:
		return optionSpec{name: "Mobile Node Identifier", n: mobileNodeIdentifierSubtypeLen, atLeast: true,
			align: MobileNodeIdentifier{}.alignment()}
	case OptionTypeMobilityMessageAuthentication:
		return optionSpec{name: "Mobility Message Authentication", n: authSubtypeSPILen + 1, atLeast: true,
			align: MobilityMessageAuthentication{}.alignment()}
	case OptionTypeMobilityMessageReplayProtection:
		return optionSpec{name: "Mobility Message Replay Protection", n: timestampLen, align: MobilityMessageReplayProtection{}.alignment()}
	case OptionTypeBADF:
		return optionSpec{name: "BADF", n: badfSPILen + 1, atLeast: true, align: BindingAuthorizationDataForFMIPv6{}.alignment()}
	case OptionTypeIPv6AddressPrefix:
		return optionSpec{name: "IPv6 Address/Prefix", n: ipv6AddressPrefixLen, align: MobilityHeaderIPv6AddressPrefix{}.alignment(), prefix: true}
	case cp.HandoverNonce:
		return optionSpec{name: "Handover Nonce", n: nonceHeaderLen + 1, atLeast: true, align: HandoverNonce{}.alignment()}
	case cp.MAC:
		return optionSpec{name: "MAC", n: macHeaderLen + 1, atLeast: true, align: MessageAuthenticationCode{}.alignment()}
	case cp.Timestamp:
		return optionSpec{name: "Timestamp", n: timestampLen, align: Timestamp{}.alignment()}
	}
	return optionSpec{atLeast: true, align: RawOption{}.alignment()}
}

// check reports why d cannot be the Option Data of an option of spec s.
func (s *optionSpec) check(d []byte) error {
	switch {
	case s.atLeast && len(d) < s.n:
		return fmt.Errorf("%s: Option Length %d, want at least %d: %w", s.name, len(d), s.n, ErrOptionLength)
	case !s.atLeast && len(d) != s.n:
		return fmt.Errorf("%s: Option Length %d, want %d: %w", s.name, len(d), s.n, ErrOptionLength)
	case s.prefix && d[1] > maxPrefixLength:
		return fmt.Errorf("%s: Prefix Length %d > 128: %w", s.name, d[1], ErrValue)
	}
	return nil
}

// buildOption decodes the Option Data d of an option of type typ that
// passed its spec's check.
func (cp *Codepoints) buildOption(typ uint8, d []byte) Option {
	switch typ {
	case OptionTypePad1:
		return Pad1{}
	case OptionTypePadN:
		return PadN{N: 2 + len(d)}
	case OptionTypeBindingRefreshAdvice:
		return BindingRefreshAdvice{RefreshInterval: time.Duration(binary.BigEndian.Uint16(d)) * lifetimeUnit}
	case OptionTypeAlternateCareOfAddress:
		return AlternateCareOfAddress{Address: netip.AddrFrom16([16]byte(d))}
	case OptionTypeNonceIndices:
		return NonceIndices{HomeNonceIndex: binary.BigEndian.Uint16(d), CareOfNonceIndex: binary.BigEndian.Uint16(d[2:])}
	case OptionTypeBindingAuthorizationData:
		return BindingAuthorizationData{Authenticator: bytes.Clone(d)}
	case OptionTypeLinkLayerAddress:
		return MobilityHeaderLinkLayerAddress{OptionCode: d[0], LinkLayerAddress: bytes.Clone(d[1:])}
	case OptionTypeMobileNodeIdentifier:
		return MobileNodeIdentifier{Subtype: d[0], Identifier: bytes.Clone(d[1:])}
	case OptionTypeMobilityMessageAuthentication:
		return MobilityMessageAuthentication{Subtype: d[0], SPI: binary.BigEndian.Uint32(d[1:]),
			AuthenticationData: bytes.Clone(d[authSubtypeSPILen:])}
	case OptionTypeMobilityMessageReplayProtection:
		return MobilityMessageReplayProtection{Timestamp: NTPTimestamp(binary.BigEndian.Uint64(d))}
	case OptionTypeBADF:
		return BindingAuthorizationDataForFMIPv6{SPI: binary.BigEndian.Uint32(d), Authenticator: bytes.Clone(d[badfSPILen:])}
	case OptionTypeIPv6AddressPrefix:
		return MobilityHeaderIPv6AddressPrefix{OptionCode: d[0], PrefixLength: d[1], Address: netip.AddrFrom16([16]byte(d[2:]))}
	case cp.HandoverNonce:
		return HandoverNonce{Subtype: d[0], Nonce: bytes.Clone(d[nonceHeaderLen:])}
	case cp.MAC:
		return MessageAuthenticationCode{Subtype: d[0], AlgorithmType: d[1] & maxAlgorithmType, AuthValue: bytes.Clone(d[macHeaderLen:])}
	case cp.Timestamp:
		return Timestamp{Value: NTPTimestamp(binary.BigEndian.Uint64(d))}
	}
	return RawOption{Type: typ, Data: bytes.Clone(d)}
}

// MarshalOptions encodes opts as the options area of a Mobility Header in
// which the area starts at offset octets from the start of the header.
// Before each option that is off its xn+y boundary it inserts Pad1 (one
// octet) or PadN (two or more, as RFC 6275 §6.2.2 advises), and it pads the
// end so that offset plus the result is a multiple of 8 (RFC 6275 §6.1.1:
// "The length of the Mobility Header MUST be a multiple of 8 octets").
// Options already in opts, including padding, are written as given.
// Binding Authorization Data and BADF must be last (RFC 6275 §6.2, RFC 5568
// §6.4.5) and are placed so that they end the header without trailing
// padding.
func (cp Codepoints) MarshalOptions(opts []Option, offset int) ([]byte, error) {
	r := cp.resolved()
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMarshal, err)
	}
	b, err := r.appendOptions(make([]byte, 0, optionsLen(opts)+16), opts, offset)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func optionsLen(opts []Option) int {
	n := 0
	for _, o := range opts {
		if o != nil {
			n += 2 + o.dataLen()
		}
	}
	return n
}

// appendOptions appends opts to b; b[len(b)] is at offset from the start of
// the Mobility Header.
func (cp *Codepoints) appendOptions(b []byte, opts []Option, offset int) ([]byte, error) {
	base := len(b) - offset
	for i, o := range opts {
		if o == nil {
			return nil, marshalErr("option %d is nil: %w", i, ErrValue)
		}
		if _, ok := o.(Pad1); ok {
			b = append(b, OptionTypePad1)
			continue
		}
		// RFC 6275 §6.2: "the Binding Authorization Data option ... MUST
		// be the last option and MUST NOT have trailing padding"; RFC 5568
		// §6.4.5: "This option MUST be the last Mobility Option present."
		if isLastOnly(o) && i != len(opts)-1 {
			return nil, marshalErr("option %d: %w", i, ErrBADFNotLast)
		}
		n := o.dataLen()
		if n > maxOptionData {
			return nil, marshalErr("option %d (type %d): Option Length %d > 255: %w", i, o.optionType(*cp), n, ErrValue)
		}
		if p := o.alignment().pad(len(b)-base, 2+n); p > 0 {
			b = appendPadding(b, p)
		}
		b = append(b, o.optionType(*cp), uint8(n))
		var err error
		if b, err = o.appendData(b); err != nil {
			return nil, fmt.Errorf("option %d: %w", i, err)
		}
	}
	if p := (8 - (len(b)-base)%8) % 8; p > 0 {
		b = appendPadding(b, p)
	}
	return b, nil
}

// appendPadding appends p > 0 octets of padding: Pad1 or one PadN.
func appendPadding(b []byte, p int) []byte {
	if p == 1 {
		return append(b, OptionTypePad1)
	}
	b = append(b, OptionTypePadN, uint8(p-2))
	for range p - 2 {
		b = append(b, 0)
	}
	return b
}
