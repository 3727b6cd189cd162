package certpath

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"strings"
)

// NameType is the Name Type field of the Trust Anchor option
// (RFC 3971 §6.4.3, RFC 6495 §3; registry in RFC 6495 §5).
type NameType uint8

// Trust Anchor option Name Types.
const (
	NameTypeDERName   NameType = 1 // DER Encoded X.501 Name (RFC 3971 §6.4.3)
	NameTypeFQDN      NameType = 2 // FQDN in DNS wire format (RFC 3971 §6.4.3)
	NameTypeSHA1SKI   NameType = 3 // SHA-1 Subject Key Identifier (RFC 6495 §3)
	NameTypeSHA224SKI NameType = 4 // SHA-224 Subject Key Identifier (RFC 6495 §3)
	NameTypeSHA256SKI NameType = 5 // SHA-256 Subject Key Identifier (RFC 6495 §3)
	NameTypeSHA384SKI NameType = 6 // SHA-384 Subject Key Identifier (RFC 6495 §3)
	NameTypeSHA512SKI NameType = 7 // SHA-512 Subject Key Identifier (RFC 6495 §3)
	maxFQDNWireLength          = 255
)

// ErrNoName is returned by (*TrustAnchor).Name when the anchor cannot be
// identified with the requested Name Type (no DNS name in subjectAltName,
// or an unknown, reserved or experimental Name Type).
var ErrNoName = errors.New("certpath: trust anchor has no name of this type")

// TrustAnchor is a trust anchor configured in a host or router
// (RFC 3971 §6.5, RFC 6494 §6): its certificate, the resources of its
// IP Address Delegation extension, and the identifiers the Trust Anchor
// option carries. A TrustAnchor is immutable and safe for concurrent use.
type TrustAnchor struct {
	// Certificate is the anchor's own parse of its certificate, with
	// id-pe-ipAddrBlocks removed from UnhandledCriticalExtensions after the
	// extension was parsed.
	Certificate *x509.Certificate
	// Resources are the anchor's addresses (RFC 3971 §6.5 "optional list of
	// address ranges"). RFC 6494 §4 makes the extension mandatory and a
	// trust anchor has no issuer to inherit from.
	Resources IPAddrBlocks

	subjectPublicKey []byte // contents of the subjectPublicKey BIT STRING
}

// NewTrustAnchor parses a DER certificate as a trust anchor. The certificate
// must carry an IP Address Delegation extension with an IPv6 family that
// does not use "inherit" (RFC 6494 §4; RFC 3779 §2.3: a trust anchor has no
// issuer). It need not be self-signed: the anchor is trusted as configured.
func NewTrustAnchor(der []byte) (*TrustAnchor, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certpath: trust anchor: %w", err)
	}
	blocks, critical, present, err := FromCertificate(c)
	switch {
	case err != nil:
		return nil, fmt.Errorf("certpath: trust anchor %q: %w", c.Subject, err)
	case !present:
		return nil, fmt.Errorf("certpath: trust anchor %q: %w", c.Subject, ErrMissingExtension)
	case !critical:
		return nil, fmt.Errorf("certpath: trust anchor %q: IP Address Delegation extension not critical (RFC 6487 §4.8.10): %w", c.Subject, ErrPathInvalid)
	case blocks.IPv6() == nil:
		return nil, fmt.Errorf("certpath: trust anchor %q: no IPv6 address block (RFC 6494 §4): %w", c.Subject, ErrMissingExtension)
	}
	for _, f := range blocks {
		if f.Inherit {
			return nil, fmt.Errorf("certpath: trust anchor %q: %s: a trust anchor cannot inherit: %w", c.Subject, f.String(), ErrPathInvalid)
		}
	}
	stripIPAddrBlocks(c)
	spk, err := subjectPublicKey(c)
	if err != nil {
		return nil, err
	}
	return &TrustAnchor{Certificate: c, Resources: blocks, subjectPublicKey: spk}, nil
}

// stripIPAddrBlocks removes id-pe-ipAddrBlocks from the extensions
// crypto/x509 reports as unhandled: the caller has parsed and enforces it.
func stripIPAddrBlocks(c *x509.Certificate) {
	out := c.UnhandledCriticalExtensions[:0]
	for _, id := range c.UnhandledCriticalExtensions {
		if !id.Equal(OIDIPAddrBlocks) {
			out = append(out, id)
		}
	}
	c.UnhandledCriticalExtensions = out
}

// subjectPublicKey returns the contents of the subjectPublicKey BIT STRING:
// the input of the SKI hash (RFC 6487 §4.8.2, RFC 5280 §4.2.1.2 method 1).
func subjectPublicKey(c *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("certpath: trust anchor %q: SubjectPublicKeyInfo: %w", c.Subject, ErrPathInvalid)
	}
	return spki.PublicKey.Bytes, nil
}

// Name returns the Name field of a Trust Anchor option of type t that
// identifies ta:
//   - NameTypeDERName: the DER Subject (RFC 3971 §6.4.3: "the Name must be
//     equal to the Subject field in the anchor's certificate");
//   - NameTypeFQDN: the first DNS name of subjectAltName in DNS wire format
//     (RFC 3971 §6.4.3, RFC 1034 §3.1);
//   - NameTypeSHA1SKI: the Subject Key Identifier extension when present
//     (RFC 6495 §4: it "MUST be equal to the X.509 SKI extension"),
//     otherwise the SHA-1 hash of the subjectPublicKey bits;
//   - NameTypeSHA224SKI..NameTypeSHA512SKI: that hash of the subjectPublicKey
//     bits (RFC 6495 §3, RFC 6487 §4.8.2).
func (ta *TrustAnchor) Name(t NameType) ([]byte, error) {
	switch t {
	case NameTypeDERName:
		return bytes.Clone(ta.Certificate.RawSubject), nil
	case NameTypeFQDN:
		for _, n := range ta.Certificate.DNSNames {
			if w, err := FQDNWire(n); err == nil {
				return w, nil
			}
		}
		return nil, ErrNoName
	case NameTypeSHA1SKI:
		if len(ta.Certificate.SubjectKeyId) > 0 {
			return bytes.Clone(ta.Certificate.SubjectKeyId), nil
		}
	}
	if h := ta.ski(t); h != nil {
		return h, nil
	}
	return nil, fmt.Errorf("%w: Name Type %d", ErrNoName, t)
}

// ski returns the RFC 6495 §3 SKI of type t computed from the key, or nil.
func (ta *TrustAnchor) ski(t NameType) []byte {
	switch t {
	case NameTypeSHA1SKI:
		h := sha1.Sum(ta.subjectPublicKey)
		return h[:]
	case NameTypeSHA224SKI:
		h := sha256.Sum224(ta.subjectPublicKey)
		return h[:]
	case NameTypeSHA256SKI:
		h := sha256.Sum256(ta.subjectPublicKey)
		return h[:]
	case NameTypeSHA384SKI:
		h := sha512.Sum384(ta.subjectPublicKey)
		return h[:]
	case NameTypeSHA512SKI:
		h := sha512.Sum512(ta.subjectPublicKey)
		return h[:]
	}
	return nil
}

// Matches reports whether a Trust Anchor option with Name Type t and Name
// name (padding removed) identifies ta (RFC 3971 §6.4.5, RFC 6495 §4). An
// FQDN matches any DNS name of subjectAltName, ignoring ASCII case. A SHA-1
// SKI matches the SKI extension or the computed hash. Unknown Name Types
// never match.
func (ta *TrustAnchor) Matches(t NameType, name []byte) bool {
	switch t {
	case NameTypeDERName:
		return bytes.Equal(name, ta.Certificate.RawSubject)
	case NameTypeFQDN:
		s, err := ParseFQDNWire(name)
		if err != nil {
			return false
		}
		for _, n := range ta.Certificate.DNSNames {
			if strings.EqualFold(strings.TrimSuffix(n, "."), s) {
				return true
			}
		}
		return false
	case NameTypeSHA1SKI:
		if len(ta.Certificate.SubjectKeyId) > 0 && subtle.ConstantTimeCompare(name, ta.Certificate.SubjectKeyId) == 1 {
			return true
		}
	}
	h := ta.ski(t)
	return h != nil && subtle.ConstantTimeCompare(name, h) == 1
}

// FQDNWire encodes a domain name in DNS wire format (RFC 1034 §3.1,
// RFC 1035 §3.1): length-prefixed ASCII labels ending with the root label,
// as the Trust Anchor option's FQDN Name Type requires (RFC 3971 §6.4.3).
func FQDNWire(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil, fmt.Errorf("certpath: empty domain name")
	}
	out := make([]byte, 0, len(name)+2)
	for _, l := range strings.Split(name, ".") {
		if len(l) == 0 || len(l) > 63 {
			return nil, fmt.Errorf("certpath: domain name %q: label of %d octets", name, len(l))
		}
		for i := 0; i < len(l); i++ {
			if l[i] <= ' ' || l[i] >= 0x7f {
				return nil, fmt.Errorf("certpath: domain name %q: not an ASCII label (RFC 3971 §6.4.3)", name)
			}
		}
		out = append(out, byte(len(l)))
		out = append(out, l...)
	}
	out = append(out, 0)
	if len(out) > maxFQDNWireLength {
		return nil, fmt.Errorf("certpath: domain name %q: %d octets in wire format", name, len(out))
	}
	return out, nil
}

// ParseFQDNWire decodes a DNS wire-format name (no compression) into dotted
// form without the trailing dot. Errors wrap ErrParse.
func ParseFQDNWire(b []byte) (string, error) {
	var sb strings.Builder
	for i := 0; ; {
		if i >= len(b) {
			return "", fmt.Errorf("%w: FQDN label at offset %d: %w", ErrParse, i, io.ErrUnexpectedEOF)
		}
		n := int(b[i])
		if n == 0 {
			if i+1 != len(b) {
				return "", fmt.Errorf("%w: FQDN: %d octets after the root label", ErrParse, len(b)-i-1)
			}
			if sb.Len() == 0 {
				return "", fmt.Errorf("%w: FQDN: root name only", ErrParse)
			}
			return sb.String(), nil
		}
		if n > 63 {
			return "", fmt.Errorf("%w: FQDN label at offset %d: length %d (compression is not allowed)", ErrParse, i, n)
		}
		if i+1+n > len(b) {
			return "", fmt.Errorf("%w: FQDN label at offset %d: %w", ErrParse, i, io.ErrUnexpectedEOF)
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(b[i+1 : i+1+n])
		i += 1 + n
	}
}
