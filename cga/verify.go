package cga

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
)

// ErrVerify is the category of every CGA verification failure (RFC 3972
// §5). Each failed step has its own error below; all of them wrap ErrVerify,
// and a malformed CGA Parameters data structure yields an error that wraps
// both ErrVerify and ErrParse.
var ErrVerify = errors.New("cga: verification failed")

// Verification failures, one per step of RFC 3972 §5 plus the checks on the
// address and the public key. Each wraps ErrVerify.
var (
	// ErrAddress: the address is not an IPv6 address (RFC 3972 §2).
	ErrAddress = fmt.Errorf("%w: not an IPv6 address", ErrVerify)
	// ErrCollisionCount: RFC 3972 §5 step 1, the collision count is not
	// 0, 1 or 2.
	ErrCollisionCount = fmt.Errorf("%w: collision count greater than 2", ErrVerify)
	// ErrSubnetPrefix: RFC 3972 §5 step 2, the subnet prefix in the CGA
	// Parameters differs from the leftmost 64 bits of the address.
	ErrSubnetPrefix = fmt.Errorf("%w: subnet prefix differs from the address", ErrVerify)
	// ErrHash1: RFC 3972 §5 step 4, Hash1 differs from the interface
	// identifier outside the five ignored bits.
	ErrHash1 = fmt.Errorf("%w: Hash1 differs from the interface identifier", ErrVerify)
	// ErrHash2: RFC 3972 §5 step 7, the 16·Sec leftmost bits of Hash2 are
	// not all zero.
	ErrHash2 = fmt.Errorf("%w: Hash2 does not start with 16*Sec zero bits", ErrVerify)
	// ErrPublicKey: the Public Key field is not a well-formed DER
	// SubjectPublicKeyInfo (RFC 3972 §3).
	ErrPublicKey = fmt.Errorf("%w: bad public key encoding", ErrVerify)
	// ErrPublicKeyAlgorithm: the key is not rsaEncryption. RFC 3972 §3:
	// "Other public key types are undesirable in SEND"; this package
	// accepts RSA only.
	ErrPublicKeyAlgorithm = fmt.Errorf("%w: public key algorithm is not rsaEncryption", ErrVerify)
	// ErrPublicKeySize: the RSA modulus is shorter than MinKeyBits or
	// longer than MaxKeyBits.
	ErrPublicKeySize = fmt.Errorf("%w: RSA key size outside %d-%d bits", ErrVerify, MinKeyBits, MaxKeyBits)
)

// Accepted RSA modulus sizes. RFC 3972 §3: "The RSA key length SHOULD be at
// least 384 bits"; §5: verifiers "SHOULD be able to process RSA public keys
// that have the algorithm identifier rsaEncryption and, key length between
// 384 and 2,048 bits. Implementations MAY support longer keys." This package
// supports up to 4096 bits, which bounds the cost of a signature check.
const (
	MinKeyBits = 384
	MaxKeyBits = 4096
)

// oidRSAEncryption is rsaEncryption, 1.2.840.113549.1.1.1 (RFC 3972 §3).
var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// Verify checks that addr is a CGA for the CGA Parameters data structure
// params, exactly as received, following RFC 3972 §5 steps 1–7 in order and
// stopping at the first failure. The hashes are computed over params itself,
// never over a re-encoding. On success it returns the public key (always an
// *rsa.PublicKey), the "authentic public key of the address owner" (§5).
// Every error wraps ErrVerify and one of the step errors above, or ErrParse.
//
// The zone of addr is ignored. The "u" and "g" bits of the interface
// identifier are ignored (§5 step 4), so addresses with them set verify.
// All Sec values 0–7 are processed (§5) with SHA-1; see docs/cga.md on
// RFC 4982.
func Verify(addr netip.Addr, params []byte) (crypto.PublicKey, error) {
	if !addr.Is6() || addr.Is4In6() {
		return nil, fmt.Errorf("%w: %s", ErrAddress, addr)
	}
	keyEnd, _, err := scanParameters(params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	a := addr.As16()
	// Step 1.
	if cc := params[24]; cc > 2 {
		return nil, fmt.Errorf("%w: %d", ErrCollisionCount, cc)
	}
	// Step 2.
	if pp, ap := binary.BigEndian.Uint64(params[16:24]), binary.BigEndian.Uint64(a[:8]); pp != ap {
		return nil, fmt.Errorf("%w: parameters carry %016x, address has %016x", ErrSubnetPrefix, pp, ap)
	}
	// Steps 3 and 4.
	h1 := sha1.Sum(params)
	if !hash1Matches(&h1, a[8:]) {
		return nil, fmt.Errorf("%w: Hash1 %016x, interface identifier %016x", ErrHash1, binary.BigEndian.Uint64(h1[:8]), binary.BigEndian.Uint64(a[8:]))
	}
	// Steps 5–7 (skipped for Sec=0: they never fail).
	if sec := a[8] >> 5; sec > 0 {
		h2 := hash2(params)
		if !hash2Zero(&h2, sec) {
			return nil, fmt.Errorf("%w: Sec %d, Hash2 %s", ErrHash2, sec, hex.EncodeToString(h2[:14]))
		}
	}
	// The verifier extracts the key "by removing 25 octets from the
	// beginning of the CGA Parameters and by decoding the following
	// SubjectPublicKeyInfo data structure" (§5).
	k, err := ParsePublicKey(params[fixedLen:keyEnd])
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return k, nil
}

// ParsePublicKey decodes the Public Key field of the CGA Parameters: a DER
// SubjectPublicKeyInfo whose algorithm is rsaEncryption with an RSAPublicKey
// of MinKeyBits to MaxKeyBits (RFC 3972 §3, RFC 3279 §2.3.1). Errors wrap
// ErrPublicKey, ErrPublicKeyAlgorithm or ErrPublicKeySize (and so
// ErrVerify). Generate applies the same check to its key.
func ParsePublicKey(der []byte) (*rsa.PublicKey, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPublicKey, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d octets after the SubjectPublicKeyInfo", ErrPublicKey, len(rest))
	}
	if !spki.Algorithm.Algorithm.Equal(oidRSAEncryption) {
		return nil, fmt.Errorf("%w: algorithm %s", ErrPublicKeyAlgorithm, spki.Algorithm.Algorithm)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPublicKey, err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok { // unreachable: the OID is rsaEncryption
		return nil, fmt.Errorf("%w: %T", ErrPublicKeyAlgorithm, k)
	}
	if n := rk.N.BitLen(); n < MinKeyBits || n > MaxKeyBits {
		return nil, fmt.Errorf("%w: %d bits", ErrPublicKeySize, n)
	}
	if rk.E < 3 || rk.E&1 == 0 {
		return nil, fmt.Errorf("%w: RSA public exponent %d", ErrPublicKey, rk.E)
	}
	return rk, nil
}
