package certpath

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Extended key usages for SEND (RFC 6494 §7: id-kp = 1.3.6.1.5.5.7.3).
var (
	OIDSendRouter        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 23} // id-kp-sendRouter
	OIDSendProxiedRouter = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 24} // id-kp-sendProxiedRouter
	OIDSendOwner         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 25} // id-kp-sendOwner
	OIDSendProxiedOwner  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 26} // id-kp-sendProxiedOwner
)

// MaxPathLength bounds the number of certificates (anchor excluded) that
// VerifyPath processes: RFC 3971 §9.3 asks hosts to limit "the amount of
// resources devoted to the certification paths and their verification".
const MaxPathLength = 8

// Outcomes of path validation. Each error VerifyPath returns wraps exactly
// one of ErrPathInvalid, ErrExpired, ErrNotYetValid, ErrUntrustedAnchor and
// ErrPrefixNotAuthorized; the finer ErrMissingExtension,
// ErrResourcesNotContained, ErrExtendedKeyUsage and ErrNotRSA are wrapped
// together with ErrPathInvalid.
var (
	// ErrPathInvalid: a certificate does not parse, is not signed by the
	// previous one, breaks the RFC 6494 profile or fails crypto/x509
	// path validation (RFC 5280 §6.1).
	ErrPathInvalid = errors.New("certpath: certification path invalid")
	// ErrExpired: now is after the NotAfter of a certificate of the path or
	// of the trust anchor.
	ErrExpired = errors.New("certpath: certificate expired")
	// ErrNotYetValid: now is before the NotBefore of a certificate of the
	// path or of the trust anchor.
	ErrNotYetValid = errors.New("certpath: certificate not yet valid")
	// ErrUntrustedAnchor: the first certificate of the path is not issued
	// by any configured trust anchor (RFC 3971 §6.3).
	ErrUntrustedAnchor = errors.New("certpath: path does not start at a trusted anchor")
	// ErrPrefixNotAuthorized: an advertised prefix lies outside the router
	// certificate's resources (RFC 3971 §7.3, RFC 6494 §7).
	ErrPrefixNotAuthorized = errors.New("certpath: prefix not authorized by the router certificate")

	// ErrMissingExtension: a certificate lacks the IP Address Delegation
	// extension or its IPv6 block (RFC 6494 §4).
	ErrMissingExtension = errors.New("certpath: no IPv6 IP Address Delegation extension")
	// ErrResourcesNotContained: a certificate's resources are not within
	// its issuer's (RFC 3779 §2.3, RFC 3971 §6.3.1).
	ErrResourcesNotContained = errors.New("certpath: resources exceed the issuer's")
	// ErrExtendedKeyUsage: the end-entity certificate lacks the extended
	// key usage extension or the required SEND KeyPurposeId (RFC 6494 §§7, 9).
	ErrExtendedKeyUsage = errors.New("certpath: required SEND extended key usage missing")
	// ErrNotRSA: the end-entity key is not RSA (RFC 3971 §6.3.1: "Hosts
	// MUST disregard the certificate for SEND if it does not contain an RSA
	// key").
	ErrNotRSA = errors.New("certpath: end-entity key is not RSA")
)

// KeyHash is the Key Hash of the RSA Signature option (RFC 3971 §5.2): the
// leftmost 128 bits of the SHA-1 hash of the DER SubjectPublicKeyInfo. It
// keys the Cache, so that a signed advertisement finds its path.
type KeyHash [16]byte

// KeyHashOf returns the KeyHash of a DER SubjectPublicKeyInfo.
func KeyHashOf(spki []byte) KeyHash {
	h := sha1.Sum(spki)
	return KeyHash(h[:16])
}

// Authorization is the result of a successful path validation.
type Authorization struct {
	// PublicKey is the end-entity (router) RSA public key that verifies
	// the router's SEND signatures.
	PublicKey *rsa.PublicKey
	// KeyHash identifies PublicKey as the RSA Signature option does.
	KeyHash KeyHash
	// Certificate is the end-entity certificate, Path the whole path in
	// CPA order (RFC 3971 §6.4.2: the certificate after the anchor first,
	// the end-entity last; the anchor itself excluded).
	Certificate *x509.Certificate
	Path        []*x509.Certificate
	Anchor      *TrustAnchor
	// Resources are the end-entity's effective resources, "inherit"
	// resolved (RFC 3779 §2.3).
	Resources IPAddrBlocks
	// NotAfter is the earliest NotAfter on the path, anchor included: the
	// authorization ends there.
	NotAfter time.Time
}

// Authorizes reports whether the IPv6 prefix p lies within the end-entity's
// certified IPv6 resources (RFC 3971 §7.3, RFC 6494 §7 "encompassed").
// A Prefix Information option failing it is an uncertified prefix.
func (a *Authorization) Authorizes(p netip.Prefix) bool {
	f := a.Resources.IPv6()
	return f != nil && p.IsValid() && p.Addr().Is6() && p.Addr().Zone() == "" && f.ContainsPrefix(p)
}

// VerifyRouter validates a certification path for a Router Authorization
// Certificate (RFC 3971 §6.3.1 as updated by RFC 6494 §9) and checks that
// the router may advertise every prefix in prefixes. path is in the order of
// the Certification Path Advertisement (RFC 3971 §6.4.2): the certificate
// issued by the anchor first, the router's last; an anchor certificate
// sent at the head of the path is skipped. The end-entity must carry
// id-kp-sendRouter (RFC 6494 §9: "The host MUST verify that the
// KeyPurposeId value corresponding to the Neighbor Discovery message type
// is present"). It returns the router's verified RSA public key within the
// Authorization.
func VerifyRouter(path [][]byte, anchors []*TrustAnchor, prefixes []netip.Prefix, now time.Time) (*Authorization, error) {
	a, err := VerifyPath(path, anchors, OIDSendRouter, now)
	if err != nil {
		return nil, err
	}
	for _, p := range prefixes {
		if !a.Authorizes(p) {
			return nil, fmt.Errorf("%w: %v is outside %s", ErrPrefixNotAuthorized, p, resourcesString(a.Resources))
		}
	}
	return a, nil
}

func resourcesString(b IPAddrBlocks) string {
	if f := b.IPv6(); f != nil {
		return f.String()
	}
	return "no IPv6 resources"
}

// VerifyPath validates path (CPA order, see VerifyRouter) against anchors at
// time now and requires the SEND KeyPurposeId purpose in the end-entity
// certificate (RFC 6494 §7). The checks, in order:
//  1. each certificate parses and the path has 1..MaxPathLength of them;
//  2. the first is signed by a trust anchor whose Subject is its Issuer
//     (else ErrUntrustedAnchor), each next one by its predecessor;
//  3. every certificate and the anchor is valid at now;
//  4. every certificate carries exactly one critical IP Address Delegation
//     extension with an IPv6 block, whose resources, "inherit" resolved,
//     lie within its issuer's (RFC 6494 §4, RFC 3779 §2.3);
//  5. the end-entity has an RSA key and the purpose EKU;
//  6. crypto/x509 validates the chain (basic constraints, key usage, name
//     constraints, other critical extensions) once id-pe-ipAddrBlocks has
//     been removed from UnhandledCriticalExtensions.
func VerifyPath(path [][]byte, anchors []*TrustAnchor, purpose asn1.ObjectIdentifier, now time.Time) (*Authorization, error) {
	if len(path) > 0 {
		for _, ta := range anchors {
			if ta != nil && bytes.Equal(path[0], ta.Certificate.Raw) {
				path = path[1:] // RFC 3971 §6.4.2: SHOULD NOT be sent, but may be.
				break
			}
		}
	}
	if len(path) == 0 || len(path) > MaxPathLength {
		return nil, fmt.Errorf("%w: %d certificates, want 1 to %d", ErrPathInvalid, len(path), MaxPathLength)
	}
	certs := make([]*x509.Certificate, len(path))
	for i, der := range path {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrPathInvalid, i, err)
		}
		certs[i] = c
	}

	// 2. Signatures, anchor first.
	var anchor *TrustAnchor
	for _, ta := range anchors {
		if ta != nil && bytes.Equal(certs[0].RawIssuer, ta.Certificate.RawSubject) && certs[0].CheckSignatureFrom(ta.Certificate) == nil {
			anchor = ta
			break
		}
	}
	if anchor == nil {
		return nil, fmt.Errorf("%w: issuer %q of %q", ErrUntrustedAnchor, certs[0].Issuer, certs[0].Subject)
	}
	for i := 1; i < len(certs); i++ {
		if !bytes.Equal(certs[i].RawIssuer, certs[i-1].RawSubject) {
			return nil, fmt.Errorf("%w: certificate %d: issuer %q is not the subject %q of certificate %d",
				ErrPathInvalid, i, certs[i].Issuer, certs[i-1].Subject, i-1)
		}
		if err := certs[i].CheckSignatureFrom(certs[i-1]); err != nil {
			return nil, fmt.Errorf("%w: certificate %d (%q): %w", ErrPathInvalid, i, certs[i].Subject, err)
		}
	}

	// 3. Validity periods.
	notAfter := anchor.Certificate.NotAfter
	for i, c := range append([]*x509.Certificate{anchor.Certificate}, certs...) {
		what := fmt.Sprintf("certificate %d (%q)", i-1, c.Subject)
		if i == 0 {
			what = fmt.Sprintf("trust anchor %q", c.Subject)
		}
		if now.Before(c.NotBefore) {
			return nil, fmt.Errorf("%w: %s valid from %v", ErrNotYetValid, what, c.NotBefore.UTC())
		}
		if now.After(c.NotAfter) {
			return nil, fmt.Errorf("%w: %s valid until %v", ErrExpired, what, c.NotAfter.UTC())
		}
		if c.NotAfter.Before(notAfter) {
			notAfter = c.NotAfter
		}
	}

	// 4. RFC 3779 resources down the path.
	effective := anchor.Resources
	for i, c := range certs {
		blocks, critical, present, err := FromCertificate(c)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: certificate %d (%q): %w", ErrPathInvalid, i, c.Subject, err)
		case !present:
			return nil, fmt.Errorf("%w: certificate %d (%q): %w", ErrPathInvalid, i, c.Subject, ErrMissingExtension)
		case !critical:
			return nil, fmt.Errorf("%w: certificate %d (%q): IP Address Delegation extension not critical (RFC 6487 §4.8.10)", ErrPathInvalid, i, c.Subject)
		case blocks.IPv6() == nil:
			return nil, fmt.Errorf("%w: certificate %d (%q): no IPv6 address block: %w", ErrPathInvalid, i, c.Subject, ErrMissingExtension)
		}
		if effective, err = resolve(blocks, effective); err != nil {
			return nil, fmt.Errorf("%w: certificate %d (%q): %w", ErrPathInvalid, i, c.Subject, err)
		}
		stripIPAddrBlocks(c)
	}

	// 5. End-entity key and purpose.
	leaf := certs[len(certs)-1]
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %w: %T", ErrPathInvalid, ErrNotRSA, leaf.PublicKey)
	}
	if err := checkPurpose(leaf, purpose); err != nil {
		return nil, err
	}

	// 6. The rest of RFC 5280 §6.1 by crypto/x509, on this exact chain.
	roots := x509.NewCertPool()
	roots.AddCert(anchor.Certificate)
	inter := x509.NewCertPool()
	for _, c := range certs[:len(certs)-1] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, // SEND EKUs checked above
	}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPathInvalid, err)
	}

	return &Authorization{
		PublicKey:   pub,
		KeyHash:     KeyHashOf(leaf.RawSubjectPublicKeyInfo),
		Certificate: leaf,
		Path:        certs,
		Anchor:      anchor,
		Resources:   effective,
		NotAfter:    notAfter,
	}, nil
}

// checkPurpose enforces RFC 6494 §7: "Relying parties MUST require the
// extended key usage extension to be present" and reject certificates
// without a SEND KeyPurposeId "even if they include the
// anyExtendedKeyUsage OID"; §9 requires the one for the message type.
func checkPurpose(c *x509.Certificate, purpose asn1.ObjectIdentifier) error {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return fmt.Errorf("%w: %w: no extended key usage extension in %q", ErrPathInvalid, ErrExtendedKeyUsage, c.Subject)
	}
	for _, id := range c.UnknownExtKeyUsage {
		if id.Equal(purpose) {
			return nil
		}
	}
	return fmt.Errorf("%w: %w: %v not in %q", ErrPathInvalid, ErrExtendedKeyUsage, purpose, c.Subject)
}

// resolve returns the effective resources of a certificate whose extension
// is child and whose issuer's effective resources are parent (RFC 3779
// §2.3): "inherit" takes the issuer's family; any other family must be
// contained in the issuer's same family.
func resolve(child, parent IPAddrBlocks) (IPAddrBlocks, error) {
	out := make(IPAddrBlocks, len(child))
	for i, f := range child {
		pf := parent.Family(f.AFI, f.HasSAFI, f.SAFI)
		if pf == nil {
			return nil, fmt.Errorf("%w: %s: issuer has no such address family", ErrResourcesNotContained, f.String())
		}
		if f.Inherit {
			out[i] = *pf
			continue
		}
		for _, r := range f.AddressesOrRanges {
			if !pf.ContainsRange(r) {
				return nil, fmt.Errorf("%w: %v not within issuer's %s", ErrResourcesNotContained, r, pf.String())
			}
		}
		out[i] = f
	}
	return out, nil
}
