package hokey

import (
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
)

// ErrAlgorithm is wrapped when an algorithm type is not in the registry.
var ErrAlgorithm = errors.New("hokey: unknown algorithm type")

// AlgorithmType is the 4-bit AT field of the Handover Key Request and Reply
// options (RFC 5269 §4.1, §4.2). RFC 5269 says "See [FMIP] for details",
// but neither RFC 5268 nor RFC 5568 defines values, and IANA has no
// registry. fhkey defines the registry below (docs/handover-keys.md).
type AlgorithmType uint8

const (
	// HMACSHA1Trunc96 (AT 0) is RFC 5568 §6.4.5's default: "HMAC_SHA1 with
	// the first 96 bits used for the MAC". Key: 20 random octets (the
	// SHA-1 output length, RFC 2104 §3's recommended minimum).
	HMACSHA1Trunc96 AlgorithmType = 0
	// HMACSHA256Trunc128 (AT 1) is HMAC-SHA-256 truncated to 128 bits, as
	// in RFC 4868 §2.1.1 (HMAC-SHA-256-128). Key: 32 random octets.
	// RFC 5568 §6.4.5: "implementations can use other algorithms such as
	// HMAC_SHA256".
	HMACSHA256Trunc128 AlgorithmType = 1
)

// algorithms is the registry, indexed by AT.
var algorithms = [...]struct {
	name    string
	keyLen  int
	macLen  int
	newHash func() hash.Hash
	// strength is the security strength in bits, used to refuse bidding
	// down (RFC 5269 §3.3) and to pick an equal-or-stronger AT (§3.2).
	strength int
}{
	HMACSHA1Trunc96:    {"HMAC-SHA1-96", 20, 12, sha1.New, 96},
	HMACSHA256Trunc128: {"HMAC-SHA256-128", 32, 16, sha256.New, 128},
}

// Supported returns every registered AT, weakest first.
func Supported() []AlgorithmType {
	return []AlgorithmType{HMACSHA1Trunc96, HMACSHA256Trunc128}
}

// Valid reports whether at is in the registry.
func (at AlgorithmType) Valid() bool { return int(at) < len(algorithms) }

// check returns a wrapped ErrAlgorithm for an unregistered AT.
func (at AlgorithmType) check() error {
	if !at.Valid() {
		return fmt.Errorf("%w: AT %d", ErrAlgorithm, at)
	}
	return nil
}

// String returns the algorithm's name, or "AT(n)" for an unknown value.
func (at AlgorithmType) String() string {
	if !at.Valid() {
		return fmt.Sprintf("AT(%d)", uint8(at))
	}
	return algorithms[at].name
}

// KeyLen is the length in octets of a key for at (0 if unknown).
func (at AlgorithmType) KeyLen() int {
	if !at.Valid() {
		return 0
	}
	return algorithms[at].keyLen
}

// AuthenticatorLen is the length in octets of the truncated MAC, which is
// the BADF Option Length (RFC 5568 §6.4.5). 0 if unknown.
func (at AlgorithmType) AuthenticatorLen() int {
	if !at.Valid() {
		return 0
	}
	return algorithms[at].macLen
}

// Strength is the security strength of at in bits (0 if unknown).
func (at AlgorithmType) Strength() int {
	if !at.Valid() {
		return 0
	}
	return algorithms[at].strength
}

// AtLeastAsStrong reports whether at is registered and as strong as other.
func (at AlgorithmType) AtLeastAsStrong(other AlgorithmType) bool {
	return at.Valid() && at.Strength() >= other.Strength()
}

// Negotiate is the AR side of RFC 5269 §3.2: "The AR SHOULD set the AT
// field ... to the MN's preferred algorithm type ..., if it is supported;
// otherwise, the AR MUST select an authentication algorithm that is of
// equivalent strength or stronger". supported lists the AR's algorithms.
// Among those strong enough, the weakest is chosen (closest to what the MN
// asked for); for an unknown preferred AT, whose strength cannot be known,
// the strongest supported one. It returns false if none qualifies.
func Negotiate(preferred AlgorithmType, supported []AlgorithmType) (AlgorithmType, bool) {
	var best AlgorithmType
	ok := false
	for _, at := range supported {
		switch {
		case !at.Valid():
			continue
		case at == preferred:
			return at, true
		case !preferred.Valid():
			if !ok || at.Strength() > best.Strength() {
				best, ok = at, true
			}
		case at.Strength() >= preferred.Strength():
			if !ok || at.Strength() < best.Strength() {
				best, ok = at, true
			}
		}
	}
	return best, ok
}
