package ndp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/der"
)

// IP Address/Prefix option Option-Codes (RFC 5568 §6.4.1).
const (
	IPAddressOldCareOfAddress = 1 // Old Care-of Address
	IPAddressNewCareOfAddress = 2 // New Care-of Address
	IPAddressNARAddress       = 3 // NAR's IP address
	IPAddressNARPrefix        = 4 // NAR's Prefix, sent in PrRtAdv
)

// IPAddressPrefix is the IP Address/Prefix option (RFC 5568 §6.4.1, type 17,
// Length 3).
type IPAddressPrefix struct {
	OptionCode uint8
	// PrefixLength is the number of valid leading bits of IPv6Address,
	// 0 to 128.
	PrefixLength uint8
	Reserved     uint32
	// IPv6Address is the address or prefix named by OptionCode, with any
	// bits after PrefixLength kept as received.
	IPv6Address netip.Addr
}

// OptionType implements Option.
func (*IPAddressPrefix) OptionType() OptionType { return OptionIPAddressPrefix }

// Name implements Option.
func (*IPAddressPrefix) Name() string { return "IP Address/Prefix" }

func (o *IPAddressPrefix) decode(body []byte) error {
	// Option-Code, Prefix Length, Reserved (4), IPv6 Address (16).
	if len(body) != 22 {
		return fmt.Errorf("Length %d, want 3", (len(body)+2)/8)
	}
	if body[1] > 128 {
		return fmt.Errorf("Prefix Length %d at option offset 3: the value ranges from 0 to 128", body[1])
	}
	o.OptionCode, o.PrefixLength = body[0], body[1]
	o.Reserved = binary.BigEndian.Uint32(body[2:])
	o.IPv6Address = netip.AddrFrom16([16]byte(body[6:22]))
	return nil
}

func (o *IPAddressPrefix) appendBody(b []byte) ([]byte, error) {
	// RFC 5568 §6.4.1: Prefix Length "The value ranges from 0 to 128."
	if o.PrefixLength > 128 {
		return nil, fmt.Errorf("Prefix Length %d: the value ranges from 0 to 128", o.PrefixLength)
	}
	if !o.IPv6Address.Is6() {
		return nil, errors.New("IPv6 Address must be an IPv6 address")
	}
	b = append(b, o.OptionCode, o.PrefixLength)
	b = binary.BigEndian.AppendUint32(b, o.Reserved)
	a := o.IPv6Address.As16()
	return append(b, a[:]...), nil
}

// Link-layer Address option Option-Codes (RFC 5568 §6.4.3).
const (
	LLAWildcard         = 0 // wildcard: resolve all nearby access points
	LLANewAccessPoint   = 1 // LLA of the New Access Point
	LLAMobileNode       = 2 // LLA of the MN
	LLANAR              = 3 // LLA of the NAR (proxied originator)
	LLASource           = 4 // LLA of the source of the RtSolPr or PrRtAdv
	LLACurrentInterface = 5 // the AP belongs to the router's current interface
	LLANoPrefixInfo     = 6 // no prefix information available for the AP
	LLANoFastHandover   = 7 // no fast handover support for the AP
)

// LinkLayerAddress is the FMIPv6 Link-layer Address (LLA) option (RFC 5568
// §6.4.3, type 19). "The LLA option does not have a length field for the LLA
// itself", so LinkLayerAddress holds every octet after the Option-Code as
// received, padding included (13 octets for a 6-octet Ethernet address in an
// option of Length 2). Marshal zero-pads it to a multiple of 8 octets.
type LinkLayerAddress struct {
	OptionCode       uint8
	LinkLayerAddress []byte
}

// OptionType implements Option.
func (*LinkLayerAddress) OptionType() OptionType { return OptionLinkLayerAddress }

// Name implements Option.
func (*LinkLayerAddress) Name() string { return "Link-Layer Address" }

func (o *LinkLayerAddress) decode(body []byte) error {
	o.OptionCode = body[0] // Length >= 1 leaves 6 octets.
	o.LinkLayerAddress = clone(body[1:])
	return nil
}

func (o *LinkLayerAddress) appendBody(b []byte) ([]byte, error) {
	b = append(b, o.OptionCode)
	return append(b, o.LinkLayerAddress...), nil
}

// NAACK Status values (RFC 5568 §6.4.6).
const (
	NAACKAddressConfiguration = 1   // NCoA invalid, perform address configuration
	NAACKUseSuppliedNCoA      = 2   // NCoA invalid, use the supplied NCoA
	NAACKUseNARAddress        = 3   // NCoA invalid, use NAR's IP address as NCoA in FBU
	NAACKPCoASupplied         = 4   // PCoA supplied, do not send FBU
	NAACKLLAUnrecognized      = 128 // Link-Layer Address unrecognized
)

// NAACK is the Neighbor Advertisement Acknowledgment option (RFC 5568 §6.4.6,
// type 20): "The length is 1 when a new CoA is not supplied. The length is 3
// when a new CoA is present (immediately following the Reserved field)."
type NAACK struct {
	OptionCode uint8
	Status     uint8
	Reserved   uint32
	// SuppliedNCoA is the new CoA after Reserved, or the zero Addr when
	// the option has Length 1.
	SuppliedNCoA netip.Addr
}

// OptionType implements Option.
func (*NAACK) OptionType() OptionType { return OptionNAACK }

// Name implements Option.
func (*NAACK) Name() string { return "Neighbor Advertisement Acknowledgment" }

func (o *NAACK) decode(body []byte) error {
	if len(body) != 6 && len(body) != 22 {
		return fmt.Errorf("Length %d, want 1 (no new CoA) or 3 (new CoA)", (len(body)+2)/8)
	}
	o.OptionCode, o.Status = body[0], body[1]
	o.Reserved = binary.BigEndian.Uint32(body[2:])
	if len(body) == 22 {
		o.SuppliedNCoA = netip.AddrFrom16([16]byte(body[6:22]))
	}
	return nil
}

func (o *NAACK) appendBody(b []byte) ([]byte, error) {
	b = append(b, o.OptionCode, o.Status)
	b = binary.BigEndian.AppendUint32(b, o.Reserved)
	if !o.SuppliedNCoA.IsValid() {
		return b, nil
	}
	if !o.SuppliedNCoA.Is6() {
		return nil, errors.New("Supplied NCoA must be an IPv6 address")
	}
	a := o.SuppliedNCoA.As16()
	return append(b, a[:]...), nil
}

// HandoverKeyRequest is the Handover Key Request option (RFC 5269 §4.1, type
// 27), sent in an RtSolPr with the SEND CGA, RSA Signature and Nonce options.
type HandoverKeyRequest struct {
	// AT is the 4-bit algorithm type of the FMIPv6 authenticator.
	AT uint8
	// Reserved is the 4-bit field after AT.
	Reserved uint8
	// HandoverKeyEncryptionPublicKey is DER-encoded like the CGA key (a
	// SubjectPublicKeyInfo SEQUENCE).
	HandoverKeyEncryptionPublicKey []byte
	// Padding holds the padding octets as received (Pad Length is its
	// length). Nil means the minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*HandoverKeyRequest) OptionType() OptionType { return OptionHandoverKeyRequest }

// Name implements Option.
func (*HandoverKeyRequest) Name() string { return "Handover Key Request" }

func (o *HandoverKeyRequest) decode(body []byte) error {
	// Pad Length, AT/Reserved.
	if len(body) < 2 {
		return fmt.Errorf("fixed fields: %w", io.ErrUnexpectedEOF)
	}
	pad := int(body[0])
	if pad > len(body)-2 {
		return fmt.Errorf("Pad Length %d exceeds the %d octets after the fixed fields", pad, len(body)-2)
	}
	o.AT, o.Reserved = body[1]>>4, body[1]&0x0f
	o.HandoverKeyEncryptionPublicKey = clone(body[2 : len(body)-pad])
	o.Padding = clone(body[len(body)-pad:])
	return o.checkKey()
}

// checkKey enforces RFC 5269 §4.1: "The key MUST be formatted according to
// the same specification as the CGA key in the CGA Parameters Option", that
// is a DER SubjectPublicKeyInfo SEQUENCE, which must fill the field.
func (o *HandoverKeyRequest) checkKey() error {
	n, err := der.SequenceLength(o.HandoverKeyEncryptionPublicKey)
	if err != nil {
		return fmt.Errorf("Handover Key Encryption Public Key at option offset 4: %w", err)
	}
	if n != len(o.HandoverKeyEncryptionPublicKey) {
		return fmt.Errorf("Handover Key Encryption Public Key at option offset 4: %d octets after the DER SEQUENCE (Pad Length too small?)", len(o.HandoverKeyEncryptionPublicKey)-n)
	}
	return nil
}

func (o *HandoverKeyRequest) appendBody(b []byte) ([]byte, error) {
	if o.AT > 0x0f || o.Reserved > 0x0f {
		return nil, fmt.Errorf("AT %d and Reserved %d must fit in 4 bits each", o.AT, o.Reserved)
	}
	if err := o.checkKey(); err != nil {
		return nil, err
	}
	pad, err := padding(4+len(o.HandoverKeyEncryptionPublicKey), o.Padding)
	if err != nil {
		return nil, err
	}
	if len(pad) > 255 {
		return nil, fmt.Errorf("Pad Length %d does not fit in 8 bits", len(pad))
	}
	b = append(b, byte(len(pad)), o.AT<<4|o.Reserved)
	b = append(b, o.HandoverKeyEncryptionPublicKey...)
	return append(b, pad...), nil
}

// HandoverKeyReply is the Handover Key Reply option (RFC 5269 §4.2, type
// 28), sent in a PrRtAdv.
type HandoverKeyReply struct {
	AT       uint8
	Reserved uint8
	// KeyLifetime is the handover key lifetime, HK-LIFETIME, in whole
	// seconds (16 bits).
	KeyLifetime time.Duration
	// EncryptedHandoverKey is the RSAES-PKCS1-v1_5 encryption of the
	// handover key under the MN's handover key encryption public key.
	EncryptedHandoverKey []byte
	// Padding holds the padding octets as received (Pad Length is its
	// length). Nil means the minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*HandoverKeyReply) OptionType() OptionType { return OptionHandoverKeyReply }

// Name implements Option.
func (*HandoverKeyReply) Name() string { return "Handover Key Reply" }

func (o *HandoverKeyReply) decode(body []byte) error {
	// Pad Length, AT/Reserved, Key Lifetime.
	if len(body) < 4 {
		return fmt.Errorf("fixed fields: %w", io.ErrUnexpectedEOF)
	}
	pad := int(body[0])
	if pad > len(body)-4 {
		return fmt.Errorf("Pad Length %d exceeds the %d octets after the fixed fields", pad, len(body)-4)
	}
	o.AT, o.Reserved = body[1]>>4, body[1]&0x0f
	o.KeyLifetime = time.Duration(binary.BigEndian.Uint16(body[2:])) * time.Second
	o.EncryptedHandoverKey = clone(body[4 : len(body)-pad])
	o.Padding = clone(body[len(body)-pad:])
	return nil
}

func (o *HandoverKeyReply) appendBody(b []byte) ([]byte, error) {
	if o.AT > 0x0f || o.Reserved > 0x0f {
		return nil, fmt.Errorf("AT %d and Reserved %d must fit in 4 bits each", o.AT, o.Reserved)
	}
	lifetime, err := durationUnits("Key Lifetime", o.KeyLifetime, time.Second, 0xffff)
	if err != nil {
		return nil, err
	}
	pad, err := padding(6+len(o.EncryptedHandoverKey), o.Padding)
	if err != nil {
		return nil, err
	}
	if len(pad) > 255 {
		return nil, fmt.Errorf("Pad Length %d does not fit in 8 bits", len(pad))
	}
	b = append(b, byte(len(pad)), o.AT<<4|o.Reserved)
	b = binary.BigEndian.AppendUint16(b, uint16(lifetime))
	b = append(b, o.EncryptedHandoverKey...)
	return append(b, pad...), nil
}

// Handover Assist Information Option-Codes (RFC 5271 §6.1).
const (
	HAIAccessNetworkIdentifier = 1 // Access Network Identifier (AN ID)
	HAISectorID                = 2 // Sector ID
)

// HandoverAssistInformation is the Handover Assist Information option (RFC
// 5271 §6.1, type 29).
type HandoverAssistInformation struct {
	OptionCode uint8
	// HAIValue is the value named by OptionCode; HAI-Length is its
	// length.
	HAIValue []byte
	// Padding holds the octets after HAIValue as received. Nil means the
	// minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*HandoverAssistInformation) OptionType() OptionType {
	return OptionHandoverAssistInformation
}

// Name implements Option.
func (*HandoverAssistInformation) Name() string { return "Handover Assist Information" }

func (o *HandoverAssistInformation) decode(body []byte) error {
	o.OptionCode = body[0] // Length >= 1 leaves 6 octets.
	v, pad, err := decodeCodedValue("HAI-Length", body)
	o.HAIValue, o.Padding = v, pad
	return err
}

func (o *HandoverAssistInformation) appendBody(b []byte) ([]byte, error) {
	return appendCodedValue(b, "HAI-Length", o.OptionCode, o.HAIValue, o.Padding)
}

// Mobile Node Identifier Option-Codes (RFC 5271 §6.2).
const (
	MNIDNAI  = 1 // Network Access Identifier (RFC 4282)
	MNIDIMSI = 2 // IMSI
)

// MobileNodeIdentifier is the ND Mobile Node Identifier option (RFC 5271
// §6.2, type 30); not the Mobility Header option of RFC 4283.
type MobileNodeIdentifier struct {
	OptionCode uint8
	// MNID is the identifier named by OptionCode; MN ID-Length is its
	// length.
	MNID []byte
	// Padding holds the octets after MNID as received. Nil means the
	// minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*MobileNodeIdentifier) OptionType() OptionType { return OptionMobileNodeIdentifier }

// Name implements Option.
func (*MobileNodeIdentifier) Name() string { return "Mobile Node Identifier" }

func (o *MobileNodeIdentifier) decode(body []byte) error {
	o.OptionCode = body[0] // Length >= 1 leaves 6 octets.
	v, pad, err := decodeCodedValue("MN ID-Length", body)
	o.MNID, o.Padding = v, pad
	return err
}

func (o *MobileNodeIdentifier) appendBody(b []byte) ([]byte, error) {
	return appendCodedValue(b, "MN ID-Length", o.OptionCode, o.MNID, o.Padding)
}

// decodeCodedValue decodes the Option-Code, 8-bit length, value and padding
// layout of RFC 5271 §6.1 and §6.2. body has at least 6 octets.
func decodeCodedValue(lengthField string, body []byte) (value, pad []byte, err error) {
	n := int(body[1])
	if n > len(body)-2 {
		return nil, nil, fmt.Errorf("%s %d at option offset 3 exceeds the %d octets left: %w", lengthField, n, len(body)-2, io.ErrUnexpectedEOF)
	}
	return clone(body[2 : 2+n]), clone(body[2+n:]), nil
}

// appendCodedValue appends the layout of RFC 5271 §6.1 and §6.2. RFC 5271
// §6.1: "Depending on the size of the HAI-Value field, appropriate padding
// MUST be used to ensure that the entire option size is a multiple of 8
// octets."
func appendCodedValue(b []byte, lengthField string, code uint8, value, pad []byte) ([]byte, error) {
	if len(value) > 255 {
		return nil, fmt.Errorf("%s %d does not fit in 8 bits", lengthField, len(value))
	}
	pad, err := padding(4+len(value), pad)
	if err != nil {
		return nil, err
	}
	b = append(b, code, byte(len(value)))
	b = append(b, value...)
	return append(b, pad...), nil
}
