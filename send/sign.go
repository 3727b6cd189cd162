package send

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/inet"
)

// KeyHash returns the Key Hash of RFC 3971 §5.2: the leftmost 128 bits of
// SHA-1 over the DER SubjectPublicKeyInfo "presentation used in the Public
// Key field of the CGA Parameters data structure".
func KeyHash(subjectPublicKeyInfo []byte) [16]byte {
	s := sha1.Sum(subjectPublicKeyInfo)
	return [16]byte(s[:16])
}

// Sign signs msg, an already marshalled ICMPv6 ND message (Type through the
// last option, without an RSA Signature option) sent from src to dst, with
// signer, whose public key must be RSA. It returns a new slice: msg followed
// by the RSA Signature option (RFC 3971 §5.2.1: "added as the last option in
// the message"), the signature zero-padded to the 8-octet boundary, and the
// ICMPv6 checksum over the whole message set in octets 2-3.
//
// The signed data is built as in RFC 3971 §5.2 with the checksum convention
// of the package doc. The Key Hash is taken over the Public Key field of the
// CGA option when msg has one (which must hold signer's key), otherwise over
// the DER SubjectPublicKeyInfo of signer's key (a router's certified key).
//
// Sign enforces the sender MUSTs of RFC 3971 §5.1.1 and §5.3.3: a Timestamp
// option in every message, a Nonce option in solicitations, and a CGA option
// in Neighbor Solicitations and Advertisements, Router Solicitations from a
// specified source, and RtSolPr (RFC 5269 §3.1).
func Sign(msg []byte, src, dst netip.Addr, signer crypto.Signer) ([]byte, error) {
	if !src.Is6() || !dst.Is6() {
		return nil, fmt.Errorf("%w: source %v and destination %v must be IPv6 addresses", ErrSign, src, dst)
	}
	l, err := scan(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSign, err)
	}
	if l.signature >= 0 {
		return nil, fmt.Errorf("%w: message already has an RSA Signature option at offset %d", ErrSign, l.signature)
	}
	if l.timestamp < 0 {
		// §5.3.3: "all solicitation, advertisement, and redirect messages
		// MUST include a Timestamp."
		return nil, fmt.Errorf("%w: %w", ErrSign, ErrMissingTimestamp)
	}
	class := classify(msg)
	if class == classSolicitation && l.nonce < 0 {
		// §5.3.3: "all solicitation messages MUST include a Nonce."
		return nil, fmt.Errorf("%w: %w", ErrSign, ErrMissingNonce)
	}
	if l.cga < 0 && cgaRequired(msg, src) {
		// §5.1.1: "the CGA option MUST be present in all Neighbor
		// Solicitation and Advertisement messages and MUST be present in
		// Router Solicitation messages unless they are sent with the
		// unspecified source address."
		return nil, fmt.Errorf("%w: %w: required in type %d", ErrSign, ErrMissingCGA, msg[0])
	}
	return signMessage(msg, l, src, dst, signer)
}

// signMessage does the work of Sign without the sender MUSTs, so that tests
// can build messages receivers must reject.
func signMessage(msg []byte, l layout, src, dst netip.Addr, signer crypto.Signer) ([]byte, error) {
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %w: signer key is %T, want *rsa.PublicKey", ErrSign, ErrBadKey, signer.Public())
	}
	var spki []byte
	if l.cga >= 0 {
		p, err := cga.ParseParameters(l.cgaParameters(msg))
		if err != nil {
			return nil, fmt.Errorf("%w: CGA option at offset %d: %w", ErrSign, l.cga, err)
		}
		k, err := x509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: CGA option public key: %w", ErrSign, ErrBadKey, err)
		}
		// §5.1: "the public key found from the CGA Parameters field in the
		// CGA option MUST be that referred by the Key Hash field".
		if !pub.Equal(k) {
			return nil, fmt.Errorf("%w: %w: signer key differs from the CGA option key", ErrSign, ErrKeyHashMismatch)
		}
		spki = p.PublicKey
	} else if s, err := x509.MarshalPKIXPublicKey(pub); err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrSign, ErrBadKey, err)
	} else {
		spki = s
	}

	k := pub.Size()
	optLen := (rsaSignatureFixedLen + k + 7) &^ 7
	if optLen > 255*8 {
		return nil, fmt.Errorf("%w: %w: %d-octet signature does not fit an ND option", ErrSign, ErrKeySize, k)
	}
	out := make([]byte, len(msg)+optLen)
	copy(out, msg)
	o := out[len(msg):]
	o[0], o[1] = optionRSASignature, byte(optLen/8) // Reserved stays zero
	h := KeyHash(spki)
	copy(o[4:20], h[:])

	digest := signedDigest(src, dst, out, len(msg))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSign, err)
	}
	if len(sig) != k {
		return nil, fmt.Errorf("%w: signer returned %d octets, want %d", ErrSign, len(sig), k)
	}
	copy(o[rsaSignatureFixedLen:], sig) // the rest is the zero Padding

	out[2], out[3] = 0, 0
	binary.BigEndian.PutUint16(out[2:], inet.Checksum(src, dst, inet.ProtocolICMPv6, out))
	return out, nil
}

// cgaRequired reports whether RFC 3971 §5.1.1 (and RFC 5269 §3.1 for
// RtSolPr) requires the CGA option in msg sent from src.
func cgaRequired(msg []byte, src netip.Addr) bool {
	switch msg[0] {
	case typeNeighborSolicitation, typeNeighborAdvertisement:
		return true
	case typeRouterSolicitation:
		return !src.IsUnspecified()
	case typeFMIPv6:
		return msg[4] == subtypeRtSolPr
	}
	return false
}

// SignedData returns the octets RFC 3971 §5.2 signs for msg sent from src to
// dst: the CGA Message Type tag, the source and destination addresses, and
// msg up to its first RSA Signature option (all of msg if it has none), with
// the checksum field replaced by the ICMPv6 checksum of exactly that
// truncated message (the sendd/NDprotector convention). Verification hashes
// the same octets without building this slice; SignedData is for tests,
// documentation and interop debugging.
func SignedData(msg []byte, src, dst netip.Addr) ([]byte, error) {
	l, err := scan(msg)
	if err != nil {
		return nil, err
	}
	end := len(msg)
	if l.signature >= 0 {
		end = l.signature
	}
	return appendSignedData(nil, src, dst, msg[:end]), nil
}

// appendSignedData appends the signed data for the truncated message part
// (which ends just before the RSA Signature option) to b.
func appendSignedData(b []byte, src, dst netip.Addr, part []byte) []byte {
	s, d := src.As16(), dst.As16()
	b = append(b, MessageTypeTag[:]...)
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	start := len(b)
	b = append(b, part...)
	body := b[start:]
	body[2], body[3] = 0, 0
	binary.BigEndian.PutUint16(body[2:], inet.Checksum(src, dst, inet.ProtocolICMPv6, body))
	return b
}

// bufPool holds signed-data buffers so that verification does not allocate.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// signedDigest returns SHA-1 over the signed data of msg[:sigOff].
func signedDigest(src, dst netip.Addr, msg []byte, sigOff int) [sha1.Size]byte {
	bp := bufPool.Get().(*[]byte)
	b := appendSignedData((*bp)[:0], src, dst, msg[:sigOff])
	sum := sha1.Sum(b)
	if cap(b) <= 1<<16 {
		*bp = b
		bufPool.Put(bp)
	}
	return sum
}
