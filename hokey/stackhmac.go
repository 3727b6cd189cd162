package hokey

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
)

const (
	// hmacBlockLen is B of RFC 2104 §2 for SHA-1 and SHA-256.
	hmacBlockLen = 64
	// maxStackMHData is the longest MH Data authenticated without
	// allocating: the longest Mobility Header, (255+1)*8 octets (RFC 6275
	// §6.1.1). Longer input takes crypto/hmac.
	maxStackMHData = 2048
	// maxStackText is the longest HMAC text stackHMAC takes: two
	// addresses and the longest MH Data (the BADF's Mobility Data), which
	// also holds every gprf+ block input (docs/aaa.md).
	maxStackText = 2*16 + maxStackMHData
)

// hashFunc is the hash of an HMAC fhkey computes: both registries (the
// BADF AT, and the PRF and MAC Algorithm Types of the AAA mode) use SHA-1
// and SHA-256 only.
type hashFunc uint8

const (
	hashSHA1 hashFunc = iota + 1
	hashSHA256
)

// digest hashes data with h into sum and returns the digest, a slice of
// sum. A switch rather than a function value: an indirect call would make
// data escape to the heap.
func (h hashFunc) digest(sum *[sha256.Size]byte, data []byte) []byte {
	switch h {
	case hashSHA1:
		s := sha1.Sum(data)
		n := copy(sum[:], s[:])
		clear(s[:])
		return sum[:n]
	case hashSHA256:
		*sum = sha256.Sum256(data)
		return sum[:]
	}
	panic(fmt.Sprintf("hokey: no hash %d", h)) // a registry entry without a hash
}

// hmacBuf is stackHMAC's buffer: K XOR ipad | text, then K XOR opad |
// inner hash.
type hmacBuf [hmacBlockLen + maxStackText]byte

// text returns the room for the HMAC text in b.
func (b *hmacBuf) text() []byte { return b[hmacBlockLen:] }

// stackHMAC computes HMAC_H(key, text) (RFC 2104 §2), text being b[B:n]
// (the caller writes it through b.text()), into sum and returns the full
// MAC, a slice of sum. key is at most B octets (a longer one is hashed
// first by the caller, RFC 2104 §2 step 1) and used zero-padded.
//
// H(K XOR opad, H(K XOR ipad, text)) is computed with the one-shot
// sha1.Sum and sha256.Sum256 over the caller's buffer, on its stack, so
// that nothing escapes to the heap: no allocation, and no key-derived
// block left behind in garbage (crypto/hmac.New allocates its ipad/opad
// blocks on the heap and never wipes them). b's key-derived octets and
// text are cleared before returning; the hash functions' internal state on
// their own stack frames cannot be (docs/handover-keys.md).
func stackHMAC(h hashFunc, sum *[sha256.Size]byte, key []byte, b *hmacBuf, n int) []byte {
	if len(key) > hmacBlockLen {
		panic("hokey: stackHMAC key longer than the block") // callers hash it first
	}
	pad(b, key, 0x36)
	inner := h.digest(sum, b[:n])
	pad(b, key, 0x5c)
	m := hmacBlockLen + copy(b[hmacBlockLen:], inner)
	full := h.digest(sum, b[:m])
	clear(b[:max(n, m)])
	return full
}

// pad writes K XOR pad (the key zero-padded to B octets) into b's first
// block.
func pad(b *hmacBuf, key []byte, pad byte) {
	for i := range hmacBlockLen {
		b[i] = pad
	}
	for i, x := range key {
		b[i] ^= x
	}
}
