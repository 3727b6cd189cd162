package hokey

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/netip"
)

// Errors of the shared-key (AAA) mode, draft-vidya-mipshop-handover-keys-
// aaa-04 (docs/aaa.md). ErrInvalidPRF and ErrInvalidMAC are the outcomes
// a Handover Key Server answers with INVALID_PRF_ALG and INVALID_MAC_ALG
// (HandoverKeyStatus).
var (
	// ErrInvalidPRF is wrapped when a PRF field value is not supported.
	ErrInvalidPRF = errors.New("hokey: unsupported PRF (INVALID_PRF_ALG)")
	// ErrInvalidMAC is wrapped when a MAC option Algorithm Type is not
	// supported.
	ErrInvalidMAC = errors.New("hokey: unsupported MAC algorithm (INVALID_MAC_ALG)")
	// ErrDerivation is wrapped when an input of the key derivation is
	// unusable (an HMK shorter than 64 octets, an empty nonce, ...).
	ErrDerivation = errors.New("hokey: bad key derivation input")
)

// PRF is the 3-bit PRF field of the HKReq and HKResp (draft §5.1.1,
// §5.1.2): the pseudo-random function of gprf+ (§6.1).
type PRF uint8

const (
	// PRFHMACSHA1 (1) is the draft's only value: "the value of 1 is
	// assigned to indicate HMAC-SHA1" (§5.1.1).
	PRFHMACSHA1 PRF = 1
	// PRFHMACSHA256 (2) is HMAC-SHA-256, an fhkey extension (docs/aaa.md).
	PRFHMACSHA256 PRF = 2
)

// ParsePRF returns the PRF of a received PRF field, or an error wrapping
// ErrInvalidPRF.
func ParsePRF(v uint8) (PRF, error) {
	p := PRF(v)
	return p, p.check()
}

// Valid reports whether p is supported.
func (p PRF) Valid() bool { return hmacOf(uint8(p)).size > 0 }

// Size is the output length of p in octets (0 if p is not supported).
func (p PRF) Size() int { return hmacOf(uint8(p)).size }

func (p PRF) hash() func() hash.Hash { return hmacOf(uint8(p)).newHash }

func (p PRF) check() error { return hmacOf(uint8(p)).check(ErrInvalidPRF, "PRF", uint8(p)) }

// String names p.
func (p PRF) String() string { return hmacOf(uint8(p)).describe("PRF", uint8(p)) }

// MACAlgorithm is the 4-bit Algorithm Type of the MAC option (draft
// §5.2.2): the MAC whose AUTH Value the option carries. It is a different
// number space from AlgorithmType, the AT of the BADF (docs/aaa.md).
type MACAlgorithm uint8

const (
	// MACHMACSHA1 (1) is the draft's only value: "Set to 1 to indicate
	// HMAC-SHA-1" (§5.2.2). The AUTH Value is the whole 20-octet HMAC;
	// keys are 20 octets.
	MACHMACSHA1 MACAlgorithm = 1
	// MACHMACSHA256 (2) is HMAC-SHA-256, an fhkey extension: 32-octet
	// AUTH Value, 32-octet keys.
	MACHMACSHA256 MACAlgorithm = 2
)

// ParseMACAlgorithm returns the MAC algorithm of a received Algorithm Type,
// or an error wrapping ErrInvalidMAC.
func ParseMACAlgorithm(v uint8) (MACAlgorithm, error) {
	m := MACAlgorithm(v)
	return m, m.check()
}

// Valid reports whether m is supported.
func (m MACAlgorithm) Valid() bool { return hmacOf(uint8(m)).size > 0 }

// KeyLen is the length in octets of the HIK or HK used with m (the hash
// length, RFC 2104 §3's recommended key length): the n of gprf+.
func (m MACAlgorithm) KeyLen() int { return hmacOf(uint8(m)).size }

// AuthValueLen is the length of the AUTH Value m produces (the whole HMAC).
func (m MACAlgorithm) AuthValueLen() int { return m.KeyLen() }

// BADFAlgorithm is the AT with which an HK for m authenticates the FBU's
// BADF (docs/handover-keys.md): HMAC-SHA1-96 for HMAC-SHA1, HMAC-SHA256-128
// for HMAC-SHA256. The key lengths agree.
func (m MACAlgorithm) BADFAlgorithm() (AlgorithmType, error) {
	switch m {
	case MACHMACSHA1:
		return HMACSHA1Trunc96, nil
	case MACHMACSHA256:
		return HMACSHA256Trunc128, nil
	}
	return 0, m.check()
}

// MACAlgorithmOf is the inverse of BADFAlgorithm: the MAC algorithm an HK
// stored with BADF AT at was derived for (a key store record keeps the
// BADF AT). Another AT wraps ErrInvalidMAC.
func MACAlgorithmOf(at AlgorithmType) (MACAlgorithm, error) {
	switch at {
	case HMACSHA1Trunc96:
		return MACHMACSHA1, nil
	case HMACSHA256Trunc128:
		return MACHMACSHA256, nil
	}
	return 0, fmt.Errorf("%w: no MAC algorithm for BADF AT %v", ErrInvalidMAC, at)
}

func (m MACAlgorithm) hash() func() hash.Hash { return hmacOf(uint8(m)).newHash }

func (m MACAlgorithm) check() error {
	return hmacOf(uint8(m)).check(ErrInvalidMAC, "Algorithm Type", uint8(m))
}

// String names m.
func (m MACAlgorithm) String() string { return hmacOf(uint8(m)).describe("MAC", uint8(m)) }

// hmacAlg is an HMAC of the PRF and MAC algorithm registries, which give
// the same numbers to the same hashes: 1 HMAC-SHA1, 2 HMAC-SHA256.
type hmacAlg struct {
	name    string
	size    int
	newHash func() hash.Hash
	fn      hashFunc
}

// hmacOf returns the registry entry for v (size 0 if v is not supported).
func hmacOf(v uint8) hmacAlg {
	switch v {
	case 1:
		return hmacAlg{"HMAC-SHA1", sha1.Size, sha1.New, hashSHA1}
	case 2:
		return hmacAlg{"HMAC-SHA256", sha256.Size, sha256.New, hashSHA256}
	}
	return hmacAlg{}
}

// check returns sentinel, wrapped and naming field, if v is not supported.
func (a hmacAlg) check(sentinel error, field string, v uint8) error {
	if a.size == 0 {
		return fmt.Errorf("%w: %s %d (supported: 1 HMAC-SHA1, 2 HMAC-SHA256)", sentinel, field, v)
	}
	return nil
}

func (a hmacAlg) describe(kind string, v uint8) string {
	if a.size == 0 {
		return fmt.Sprintf("%s(%d)", kind, v)
	}
	return a.name
}

// Derivation limits and labels (draft §6.1).
const (
	// MinHMKLen: "The HMK MUST be at least 64 bytes in length" (§6.1).
	MinHMKLen = 64
	// MaxGPRFBlocks bounds gprf+ to one block per value of the 2-octet Y.
	MaxGPRFBlocks = 1 << 16
	// MaxNonceLen is the longest nonce a Handover Nonce option carries
	// (Option Length 255 less Sub-type and Reserved, §5.2.1).
	MaxNonceLen = 253
	// MaxNAILen is the longest NAI a Mobile Node Identifier option carries
	// (Option Length 255 less Subtype, RFC 4283 §3).
	MaxNAILen = 254

	hikLabel = "Handover Integrity Key" // §6.1.1: 22 characters, no NUL
	hkLabel  = "Handover Key"           // §6.1.2: 12 characters, no NUL
)

// GPRFPlus returns the first n octets of gprf+(key, s) with the counter
// starting at y (draft §6.1, adapted from RFC 4306 §2.13's prf+):
//
//	gprf+(K, S) = T1 | T2 | T3 | ...
//	T1 = PRF(K, S | Y)
//	Tn = PRF(K, Tn-1 | S | Y+n-1)
//
// Y is two octets, big-endian, incremented modulo 2^16 (docs/aaa.md).
// n may be at most MaxGPRFBlocks blocks of the PRF output; the blocks
// beyond n are wiped.
func GPRFPlus(prf PRF, key, s []byte, y uint16, n int) ([]byte, error) {
	if err := prf.check(); err != nil {
		return nil, err
	}
	size := prf.Size()
	if n < 0 || n > MaxGPRFBlocks*size {
		return nil, fmt.Errorf("%w: gprf+ output length %d (0 to %d)", ErrDerivation, n, MaxGPRFBlocks*size)
	}
	blocks := (n + size - 1) / size
	out := make([]byte, blocks*size)
	gprfPlus(prf, key, s, y, out)
	clear(out[n:])
	return out[:n:n], nil
}

// gprfPlus writes gprf+(key, s) with the counter starting at y into out,
// a whole number of blocks of prf's output (prf is valid). Through
// stackHMAC, without allocating, when a block's input Tn-1 | S | Y fits
// its buffer (every HIK and HK derivation: docs/aaa.md); through
// crypto/hmac otherwise.
func gprfPlus(prf PRF, key, s []byte, y uint16, out []byte) {
	size := prf.Size()
	if size+len(s)+2 > maxStackText {
		gprfPlusLong(prf, key, s, y, out)
		return
	}
	h := hmacOf(uint8(prf)).fn
	var keyHash, sum [sha256.Size]byte
	if len(key) > hmacBlockLen {
		key = h.digest(&keyHash, key) // RFC 2104 §2: a key longer than B is hashed
	}
	var buf hmacBuf
	for i := 0; i < len(out); i += size {
		t := buf.text()
		n := 0
		if i > 0 {
			n = copy(t, out[i-size:i]) // Tn-1
		}
		n += copy(t[n:], s)
		binary.BigEndian.PutUint16(t[n:], y+uint16(i/size)) // wraps modulo 2^16
		copy(out[i:], stackHMAC(h, &sum, key, &buf, hmacBlockLen+n+2))
	}
	clear(sum[:])
	clear(keyHash[:])
}

// gprfPlusLong is gprfPlus through crypto/hmac, for an S longer than any
// derivation of the draft uses. It works on copies of key and s, and
// copies each block out, so that the callers' buffers stay on their stacks
// (the key's copy is wiped; crypto/hmac's ipad/opad blocks cannot be).
func gprfPlusLong(prf PRF, key, s []byte, y uint16, out []byte) {
	size := prf.Size()
	k := bytes.Clone(key)
	m := hmac.New(prf.hash(), k)
	clear(k)
	seed := bytes.Clone(s)
	var yb [2]byte
	for i := 0; i < len(out); i += size {
		m.Reset()
		if i > 0 {
			m.Write(bytes.Clone(out[i-size : i])) // Tn-1
		}
		m.Write(seed)
		binary.BigEndian.PutUint16(yb[:], y+uint16(i/size)) // wraps modulo 2^16
		m.Write(yb[:])
		t := m.Sum(nil)
		copy(out[i:], t)
		clear(t)
	}
}

// DeriveHIK derives the Handover Integrity Key (draft §6.1.1):
//
//	HIK = gprf+(HMK, "Handover Integrity Key"), Y = Message ID
//
// with the HKReq's one-octet Message ID zero-extended to Y, and as many
// octets as mac, the MN-HKS MAC's algorithm, needs.
func DeriveHIK(prf PRF, hmk []byte, messageID uint8, mac MACAlgorithm) (IntegrityKey, error) {
	if err := checkDerivation(prf, hmk, mac); err != nil {
		return IntegrityKey{}, err
	}
	var blocks derivationBlocks
	defer clear(blocks[:])
	return NewIntegrityKey(mac, blocks.derive(prf, hmk, []byte(hikLabel), uint16(messageID), mac))
}

// DeriveHK derives the Handover Key (draft §6.1.2, the order of that
// section, not of §4's overview):
//
//	HK = gprf+(HMK, MN-Nonce | HKS-Nonce | MN ID | AR ID | "Handover Key"), Y = 0x0000
//
// MN ID is the NAI's octets (RFC 4282, no terminator); AR ID is the 16
// octets of the AR's IPv6 address as the MN sees it (the address it sends
// the HKReq and the FBU to). The key has as many octets as mac, the MN-AR
// MAC's algorithm, needs; HandoverKey.BADFKey gives the FBU key.
func DeriveHK(prf PRF, hmk, mnNonce, hksNonce []byte, nai string, ar netip.Addr, mac MACAlgorithm) (HandoverKey, error) {
	if err := checkDerivation(prf, hmk, mac); err != nil {
		return HandoverKey{}, err
	}
	for _, f := range [...]struct {
		name string
		n    int
		max  int
	}{{"MN-Nonce", len(mnNonce), MaxNonceLen}, {"HKS-Nonce", len(hksNonce), MaxNonceLen}, {"MN ID (NAI)", len(nai), MaxNAILen}} {
		if f.n == 0 || f.n > f.max {
			return HandoverKey{}, fmt.Errorf("%w: %s of %d octets (1 to %d)", ErrDerivation, f.name, f.n, f.max)
		}
	}
	if err := CheckARID(ar); err != nil {
		return HandoverKey{}, err
	}
	a := ar.As16()
	var sb [2*MaxNonceLen + MaxNAILen + 16 + len(hkLabel)]byte
	s := append(append(append(append(append(sb[:0], mnNonce...), hksNonce...), nai...), a[:]...), hkLabel...)
	var blocks derivationBlocks
	defer clear(blocks[:])
	return NewHandoverKey(mac, blocks.derive(prf, hmk, s, 0, mac))
}

// derivationBlocks holds the gprf+ blocks of an HIK or HK: the longest
// key (32 octets, HMAC-SHA256) in blocks of the shortest PRF output (20
// octets, HMAC-SHA1).
type derivationBlocks [2 * sha256.Size]byte

// derive runs gprf+(hmk, s) from y into b and returns the key for mac, a
// slice of b (prf and mac are valid: checkDerivation).
func (b *derivationBlocks) derive(prf PRF, hmk, s []byte, y uint16, mac MACAlgorithm) []byte {
	size := prf.Size()
	gprfPlus(prf, hmk, s, y, b[:(mac.KeyLen()+size-1)/size*size])
	return b[:mac.KeyLen()]
}

// CheckARID reports whether ar can be the AR ID of the HK derivation: "the
// IP address of the AR as seen by the MN" (§6.1.2), which the MN later
// sends the FBU to from another link, so a global IPv6 address: not
// IPv4 or IPv4-mapped, unspecified, loopback, multicast or link-local,
// and without a zone.
func CheckARID(ar netip.Addr) error { return checkRouterAddress(ar, "AR ID", nil) }

// checkRouterAddress reports why a, the address named name of a router
// that a key derivation binds, is not a global unicast IPv6 address
// without a zone, wrapping ErrDerivation and, if not nil, sentinel.
func checkRouterAddress(a netip.Addr, name string, sentinel error) error {
	why := ""
	switch {
	case !a.Is6() || a.Is4In6():
		why = "is not an IPv6 address"
	case a.Zone() != "":
		why = "has a zone"
	case !a.IsGlobalUnicast():
		why = "is not a global unicast address"
	default:
		return nil
	}
	if sentinel == nil {
		return fmt.Errorf("%w: %s %v %s", ErrDerivation, name, a, why)
	}
	return fmt.Errorf("%w: %w: %s %v %s", ErrDerivation, sentinel, name, a, why)
}

func checkDerivation(prf PRF, hmk []byte, mac MACAlgorithm) error {
	if err := prf.check(); err != nil {
		return err
	}
	if err := mac.check(); err != nil {
		return err
	}
	if len(hmk) < MinHMKLen {
		return fmt.Errorf("%w: HMK of %d octets, the draft requires at least %d (§6.1)", ErrDerivation, len(hmk), MinHMKLen)
	}
	return nil
}
