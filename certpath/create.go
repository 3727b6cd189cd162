package certpath

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// CertificateTemplate describes a certificate of the SEND profile
// (RFC 6494 §4, after the RPKI profile of RFC 6487) for CreateCertificate.
type CertificateTemplate struct {
	// CommonName is the subject's (and, when self-signed, the issuer's) CN.
	CommonName string
	// IsCA makes a CA certificate (basicConstraints cA critical; key usage
	// keyCertSign and cRLSign, RFC 6487 §4.8.4); otherwise an end-entity
	// certificate (key usage digitalSignature, no basicConstraints).
	IsCA bool
	// Resources is the IP Address Delegation extension, always critical
	// (RFC 6487 §4.8.10). It must be canonical and hold an IPv6 family
	// (RFC 6494 §4). Use NewIPv6Blocks, or a family with Inherit set.
	Resources IPAddrBlocks
	// ExtKeyUsage lists SEND KeyPurposeIds for an end-entity, e.g.
	// OIDSendRouter (RFC 6494 §7: the extension "MUST be present when
	// issuing end-entity certificates for SEND"). It is non-critical.
	ExtKeyUsage []asn1.ObjectIdentifier
	// DNSNames, when set, go in subjectAltName so that the FQDN Name Type
	// can identify a trust anchor (RFC 3971 §6.4.3). RFC 6487 §4.8 has no
	// subjectAltName; leave it empty for a strict RPKI profile.
	DNSNames []string
	// NotBefore and NotAfter bound the validity period.
	NotBefore, NotAfter time.Time
	// SerialNumber, when nil, is 128 random bits (positive).
	SerialNumber *big.Int
}

// CreateCertificate returns the DER certificate for pub described by t,
// signed by issuerKey as issuer. With a nil issuer the certificate is
// self-signed and issuerKey must be the private key of pub. The Subject Key
// Identifier is the SHA-1 hash of the subjectPublicKey bits (RFC 6487
// §4.8.2), the Authority Key Identifier the issuer's SKI (RFC 6487 §4.8.3),
// the signature sha256WithRSAEncryption for RSA issuers (RFC 6485 §2).
func CreateCertificate(rand io.Reader, t *CertificateTemplate, pub crypto.PublicKey, issuer *x509.Certificate, issuerKey crypto.Signer) ([]byte, error) {
	if t.Resources.IPv6() == nil {
		return nil, fmt.Errorf("certpath: create certificate: %w", ErrMissingExtension)
	}
	if !t.IsCA && len(t.ExtKeyUsage) == 0 {
		return nil, fmt.Errorf("certpath: create certificate: %w: an end-entity certificate needs a SEND KeyPurposeId (RFC 6494 §7)", ErrExtendedKeyUsage)
	}
	if !t.NotBefore.Before(t.NotAfter) {
		return nil, errors.New("certpath: create certificate: NotBefore is not before NotAfter")
	}
	ext, err := t.Resources.Extension(true)
	if err != nil {
		return nil, fmt.Errorf("certpath: create certificate: %w", err)
	}
	spkiDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certpath: create certificate: %w", err)
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		return nil, fmt.Errorf("certpath: create certificate: %w", err)
	}
	ski := sha1.Sum(spki.PublicKey.Bytes)
	serial := t.SerialNumber
	if serial == nil {
		var b [16]byte
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, fmt.Errorf("certpath: create certificate: serial: %w", err)
		}
		b[0] &= 0x7f
		b[0] |= 0x40 // 127 significant bits, never zero
		serial = new(big.Int).SetBytes(b[:])
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{CommonName: t.CommonName},
		NotBefore:          t.NotBefore,
		NotAfter:           t.NotAfter,
		SubjectKeyId:       ski[:],
		ExtraExtensions:    []pkix.Extension{ext},
		UnknownExtKeyUsage: t.ExtKeyUsage,
		DNSNames:           t.DNSNames,
	}
	if t.IsCA {
		tmpl.BasicConstraintsValid = true
		tmpl.IsCA = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	parent := issuer
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand, tmpl, parent, pub, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("certpath: create certificate: %w", err)
	}
	return der, nil
}
