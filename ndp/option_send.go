package ndp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/der"
)

// CGA is the CGA option (RFC 3971 §5.1, type 11).
type CGA struct {
	Reserved uint8
	// Parameters is the CGA Parameters data structure (RFC 3972 §3).
	Parameters cga.Parameters
	// Padding holds the padding octets as received (Pad Length is its
	// length). Nil means the minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*CGA) OptionType() OptionType { return OptionCGA }

// Name implements Option.
func (*CGA) Name() string { return "CGA" }

func (o *CGA) decode(body []byte) error {
	// Pad Length, Reserved.
	if len(body) < 2 {
		return fmt.Errorf("fixed fields: %w", io.ErrUnexpectedEOF)
	}
	pad := int(body[0])
	if pad > len(body)-2 {
		return fmt.Errorf("Pad Length %d exceeds the %d octets after the fixed fields", pad, len(body)-2)
	}
	o.Reserved = body[1]
	p, err := cga.ParseParameters(body[2 : len(body)-pad])
	if err != nil {
		return fmt.Errorf("CGA Parameters at option offset 4: %w", err)
	}
	o.Parameters = *p
	o.Padding = clone(body[len(body)-pad:])
	return nil
}

func (o *CGA) appendBody(b []byte) ([]byte, error) {
	n := 4 + o.Parameters.Len()
	pad, err := padding(n, o.Padding)
	if err != nil {
		return nil, err
	}
	// RFC 3971 §5.1: Pad Length is "The number of padding octets beyond
	// the end of the CGA Parameters field but within the length specified
	// by the Length field."
	if len(pad) > 255 {
		return nil, fmt.Errorf("Pad Length %d does not fit in 8 bits", len(pad))
	}
	b = append(b, byte(len(pad)), o.Reserved)
	if b, err = o.Parameters.AppendTo(b); err != nil {
		return nil, err
	}
	return append(b, pad...), nil
}

// RSASignature is the RSA Signature option (RFC 3971 §5.2, type 12).
//
// The signature covers every octet of the message before this option (after
// the CGA Message Type tag and the IPv6 source and destination addresses);
// see RSASignatureOffset. The length of the Digital Signature is not encoded:
// it is the length of the signer's RSA modulus.
type RSASignature struct {
	Reserved uint16
	// KeyHash is the leftmost 128 bits of the SHA-1 hash of the signer's
	// public key as encoded in the CGA Parameters.
	KeyHash [16]byte
	// DigitalSignature holds every octet after the Key Hash as received:
	// the PKCS#1 v1.5 signature followed by the option's padding. Use
	// Signature to split them. When marshalling it is zero-padded to a
	// multiple of 8 octets.
	DigitalSignature []byte
}

// OptionType implements Option.
func (*RSASignature) OptionType() OptionType { return OptionRSASignature }

// Name implements Option.
func (*RSASignature) Name() string { return "RSA Signature" }

func (o *RSASignature) decode(body []byte) error {
	// Reserved (2) and Key Hash (16).
	if len(body) < 18 {
		return fmt.Errorf("Key Hash: Length %d leaves %d octets for Reserved and Key Hash, need 18: %w", (len(body)+2)/8, len(body), io.ErrUnexpectedEOF)
	}
	o.Reserved = binary.BigEndian.Uint16(body)
	copy(o.KeyHash[:], body[2:18])
	o.DigitalSignature = clone(body[18:])
	return nil
}

func (o *RSASignature) appendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, o.Reserved)
	b = append(b, o.KeyHash[:]...)
	return append(b, o.DigitalSignature...), nil
}

// Signature splits DigitalSignature into the signature of a key whose modulus
// is modulusLen octets long and the padding after it. RFC 3971 §5.2.2: "The
// Digital Signature field MUST have correct encoding and MUST not exceed the
// length of the RSA Signature option minus the Padding."
func (o *RSASignature) Signature(modulusLen int) (signature, padding []byte, err error) {
	if modulusLen <= 0 || modulusLen > len(o.DigitalSignature) {
		return nil, nil, fmt.Errorf("%w: RSA Signature option: Digital Signature of %d octets cannot hold a %d-octet signature", ErrParse, len(o.DigitalSignature), modulusLen)
	}
	return o.DigitalSignature[:modulusLen], o.DigitalSignature[modulusLen:], nil
}

// Timestamp is the Timestamp option (RFC 3971 §5.3.1, type 13, Length 2).
type Timestamp struct {
	Reserved [6]byte
	// Timestamp is the raw 64-bit field: seconds since 1970-01-01 00:00
	// UTC in the first 48 bits, 1/64K fractions of a second in the last
	// 16. Time converts it.
	Timestamp uint64
}

// OptionType implements Option.
func (*Timestamp) OptionType() OptionType { return OptionTimestamp }

// Name implements Option.
func (*Timestamp) Name() string { return "Timestamp" }

// NewTimestamp returns a Timestamp option for t, rounded to the nearest
// 1/65536 s. Times before 1970 or past the 48-bit range are clamped to it.
func NewTimestamp(t time.Time) *Timestamp {
	return &Timestamp{Timestamp: TimestampValue(t)}
}

// TimestampValue encodes t in the format of RFC 3971 §5.3.1: "the integer
// number of seconds is contained in the first 48 bits of the field, and the
// remaining 16 bits indicate the number of 1/64K fractions of a second."
// The fraction is rounded to the nearest 1/65536 s, so that
// TimestampValue(o.Time()) == o.Timestamp; times outside the 48-bit range are
// clamped.
func TimestampValue(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	frac := (uint64(t.Nanosecond())<<16 + 5e8) / 1e9
	if frac == 1<<16 {
		s, frac = s+1, 0
	}
	if s >= 1<<48 {
		return 1<<64 - 1
	}
	return uint64(s)<<16 | frac
}

// Time returns the Timestamp as a time (UTC), rounded down to the
// nanosecond.
func (o *Timestamp) Time() time.Time {
	sec := int64(o.Timestamp >> 16)
	ns := int64((o.Timestamp & 0xffff) * 1e9 >> 16)
	return time.Unix(sec, ns).UTC()
}

func (o *Timestamp) decode(body []byte) error {
	// RFC 3971 §5.3.1: Length "in units of 8 octets; i.e., 2."
	if len(body) != 14 {
		return fmt.Errorf("Length %d, want 2", (len(body)+2)/8)
	}
	copy(o.Reserved[:], body[:6])
	o.Timestamp = binary.BigEndian.Uint64(body[6:])
	return nil
}

func (o *Timestamp) appendBody(b []byte) ([]byte, error) {
	b = append(b, o.Reserved[:]...)
	return binary.BigEndian.AppendUint64(b, o.Timestamp), nil
}

// Nonce is the Nonce option (RFC 3971 §5.3.2, type 14).
type Nonce struct {
	Nonce []byte
}

// OptionType implements Option.
func (*Nonce) OptionType() OptionType { return OptionNonce }

// Name implements Option.
func (*Nonce) Name() string { return "Nonce" }

func (o *Nonce) decode(body []byte) error {
	// Length >= 1 already leaves the 6 octets the RFC asks for.
	o.Nonce = clone(body)
	return nil
}

func (o *Nonce) appendBody(b []byte) ([]byte, error) {
	// RFC 3971 §5.3.2: "The length of the random number MUST be at least
	// 6 bytes. The length of the random number MUST be selected so that
	// the length of the nonce option is a multiple of 8 octets."
	if len(o.Nonce) < 6 || (2+len(o.Nonce))%8 != 0 {
		return nil, fmt.Errorf("Nonce of %d octets: want 6, 14, 22, ... octets", len(o.Nonce))
	}
	return append(b, o.Nonce...), nil
}

// NameType is the Name Type of a Trust Anchor option (RFC 3971 §6.4.3, RFC
// 6495 §3).
type NameType uint8

// Trust Anchor Name Types.
const (
	NameTypeDERX501Name NameType = 1 // DER Encoded X.501 Name (RFC 3971)
	NameTypeFQDN        NameType = 2 // FQDN in DNS wire format (RFC 3971)
	NameTypeSHA1SKI     NameType = 3 // SHA-1 Subject Key Identifier (RFC 6495)
	NameTypeSHA224SKI   NameType = 4 // SHA-224 Subject Key Identifier (RFC 6495)
	NameTypeSHA256SKI   NameType = 5 // SHA-256 Subject Key Identifier (RFC 6495)
	NameTypeSHA384SKI   NameType = 6 // SHA-384 Subject Key Identifier (RFC 6495)
	NameTypeSHA512SKI   NameType = 7 // SHA-512 Subject Key Identifier (RFC 6495)
)

// skiLen is the length of the SKI hash of the RFC 6495 name types.
func (t NameType) skiLen() int {
	switch t {
	case NameTypeSHA1SKI:
		return 20
	case NameTypeSHA224SKI:
		return 28
	case NameTypeSHA256SKI:
		return 32
	case NameTypeSHA384SKI:
		return 48
	case NameTypeSHA512SKI:
		return 64
	}
	return 0
}

// TrustAnchor is the Trust Anchor option (RFC 3971 §6.4.3, type 15).
type TrustAnchor struct {
	NameType NameType
	// TrustAnchorName is the Name field: the DER-encoded X.501 Name, the
	// FQDN in DNS wire format (see EncodeFQDN and DecodeFQDN) or the SKI
	// hash (RFC 6495 §3). (The Go name avoids a clash with the Name
	// method.)
	TrustAnchorName []byte
	// Padding holds the padding octets as received (Pad Length is its
	// length). Nil means the minimal zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*TrustAnchor) OptionType() OptionType { return OptionTrustAnchor }

// Name implements Option.
func (*TrustAnchor) Name() string { return "Trust Anchor" }

func (o *TrustAnchor) decode(body []byte) error {
	// Name Type, Pad Length.
	if len(body) < 2 {
		return fmt.Errorf("fixed fields: %w", io.ErrUnexpectedEOF)
	}
	pad := int(body[1])
	if pad > len(body)-2 {
		return fmt.Errorf("Pad Length %d exceeds the %d octets after the fixed fields", pad, len(body)-2)
	}
	o.NameType = NameType(body[0])
	o.TrustAnchorName = clone(body[2 : len(body)-pad])
	o.Padding = clone(body[len(body)-pad:])
	return o.checkName()
}

// checkName checks the Name against its Name Type where the RFCs fix its
// form.
func (o *TrustAnchor) checkName() error {
	if n := o.NameType.skiLen(); n != 0 && len(o.TrustAnchorName) != n {
		// RFC 6495 §3: Name Type 3 "contains a 160-bit SHA-1 hash", and
		// 4-7 the SHA-224 ... SHA-512 hashes.
		return fmt.Errorf("Name of %d octets for Name Type %d, want a %d-octet SKI", len(o.TrustAnchorName), o.NameType, n)
	}
	if o.NameType == NameTypeFQDN {
		// RFC 3971 §6.4.3: "The name is stored as a string, in the DNS
		// wire format, as specified in RFC 1034."
		if err := checkFQDN(o.TrustAnchorName); err != nil {
			return fmt.Errorf("Name at option offset 4: %w", err)
		}
	}
	return nil
}

func (o *TrustAnchor) appendBody(b []byte) ([]byte, error) {
	if err := o.checkName(); err != nil {
		return nil, err
	}
	pad, err := padding(4+len(o.TrustAnchorName), o.Padding)
	if err != nil {
		return nil, err
	}
	if len(pad) > 255 {
		return nil, fmt.Errorf("Pad Length %d does not fit in 8 bits", len(pad))
	}
	b = append(b, byte(o.NameType), byte(len(pad)))
	b = append(b, o.TrustAnchorName...)
	return append(b, pad...), nil
}

// FQDN returns the dotted name of a Trust Anchor of Name Type 2.
func (o *TrustAnchor) FQDN() (string, error) {
	if o.NameType != NameTypeFQDN {
		return "", fmt.Errorf("%w: Trust Anchor Name Type %d is not FQDN", ErrParse, o.NameType)
	}
	return DecodeFQDN(o.TrustAnchorName)
}

// CertTypeX509v3 is the Cert Type of an X.509v3 certificate (RFC 3971
// §6.4.4), the only one defined.
const CertTypeX509v3 = 1

// Certificate is the Certificate option (RFC 3971 §6.4.4, type 16).
type Certificate struct {
	CertType uint8
	Reserved uint8
	// Certificate is the DER certificate. For Cert Type 1 its DER length
	// tells where Padding begins ("beginning after the ASN.1 encoding of
	// the previous field ends"); for other types it is every octet after
	// Reserved.
	Certificate []byte
	// Padding holds the padding octets as received. Nil means the minimal
	// zero padding when marshalling.
	Padding []byte
}

// OptionType implements Option.
func (*Certificate) OptionType() OptionType { return OptionCertificate }

// Name implements Option.
func (*Certificate) Name() string { return "Certificate" }

func (o *Certificate) decode(body []byte) error {
	// Cert Type, Reserved.
	if len(body) < 2 {
		return fmt.Errorf("fixed fields: %w", io.ErrUnexpectedEOF)
	}
	o.CertType, o.Reserved = body[0], body[1]
	rest := body[2:]
	n := len(rest)
	if o.CertType == CertTypeX509v3 {
		var err error
		if n, err = der.SequenceLength(rest); err != nil {
			return fmt.Errorf("Certificate at option offset 4: %w", err)
		}
	}
	o.Certificate = clone(rest[:n])
	o.Padding = clone(rest[n:])
	return nil
}

func (o *Certificate) appendBody(b []byte) ([]byte, error) {
	if o.CertType == CertTypeX509v3 {
		// The DER length must end exactly where the field ends, or the
		// receiver would read the rest as padding.
		n, err := der.SequenceLength(o.Certificate)
		if err != nil {
			return nil, fmt.Errorf("Certificate: %w", err)
		}
		if n != len(o.Certificate) {
			return nil, fmt.Errorf("Certificate: %d octets after the DER SEQUENCE", len(o.Certificate)-n)
		}
	} else if len(o.Padding) > 0 {
		return nil, errors.New("Padding is only defined for Cert Type 1, whose DER length delimits it")
	}
	pad, err := padding(4+len(o.Certificate), o.Padding)
	if err != nil {
		return nil, err
	}
	b = append(b, o.CertType, o.Reserved)
	b = append(b, o.Certificate...)
	return append(b, pad...), nil
}
