package hokey

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
)

// ErrAuthenticator is wrapped when an authenticator does not verify.
var ErrAuthenticator = errors.New("hokey: authenticator mismatch")

// errMismatch holds the mismatch error of each AT, built once so that a
// rejected authenticator costs no allocation.
var errMismatch = func() (e [len(algorithms)]error) {
	for at := range e {
		e[at] = fmt.Errorf("%w: %s", ErrAuthenticator, AlgorithmType(at))
	}
	return e
}()

const (
	// hmacBlockLen is B of RFC 2104 §2 for SHA-1 and SHA-256.
	hmacBlockLen = 64
	// maxStackMHData is the longest MH Data authenticated without
	// allocating: the longest Mobility Header, (255+1)*8 octets (RFC 6275
	// §6.1.1). Longer input takes crypto/hmac.
	maxStackMHData = 2048
)

// Authenticator appends to dst the BADF Authenticator of RFC 5568 §6.4.5
// computed with k:
//
//	Mobility Data = care-of address | correspondent | MH Data
//	Authenticator = First(L, HMAC_H(k, Mobility Data))
//
// (RFC 6275 §6.2.7), with the correspondent replaced by the PAR's address
// and L and H given by k's algorithm type (AT 0: 96 bits of HMAC-SHA1).
// mhData is the Mobility Header with the Authenticator field excluded and
// the Checksum field taken as zero; package mh extracts it from received
// bytes. Which address is the care-of address for FBU and FBack is fixed
// in docs/handover-keys.md. It does not allocate unless dst is too small.
func (k *Key) Authenticator(dst []byte, careOf, correspondent netip.Addr, mhData []byte) ([]byte, error) {
	if err := k.usable(); err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	full := k.mac(&sum, careOf, correspondent, mhData)
	dst = append(dst, full[:algorithms[k.at].macLen]...)
	clear(sum[:])
	return dst, nil
}

// VerifyAuthenticator checks, in constant time, that auth is the
// Authenticator k gives for the same inputs. It returns a wrapped
// ErrAuthenticator on mismatch (including a wrong length, which would
// mean the sender used another algorithm). It does not allocate, on
// success or mismatch.
func (k *Key) VerifyAuthenticator(careOf, correspondent netip.Addr, mhData, auth []byte) error {
	if err := k.usable(); err != nil {
		return err
	}
	var sum [sha256.Size]byte
	want := k.mac(&sum, careOf, correspondent, mhData)[:algorithms[k.at].macLen]
	ok := subtle.ConstantTimeEq(int32(len(want)), int32(len(auth))) == 1 && hmac.Equal(want, auth)
	clear(sum[:])
	if !ok {
		return errMismatch[k.at]
	}
	return nil
}

// usable reports why k cannot compute an authenticator.
func (k *Key) usable() error {
	if k.n == 0 {
		return fmt.Errorf("%w: empty key", ErrKey)
	}
	return k.at.check()
}

// mac computes HMAC_H(k, careOf | correspondent | mhData) (RFC 2104 §2)
// into sum and returns the full MAC, a slice of sum.
//
// H(K XOR opad, H(K XOR ipad, text)) is computed with the one-shot
// sha1.Sum and sha256.Sum256 over a buffer on the stack, so that nothing
// escapes to the heap: no allocation, and no key-derived block left behind
// in garbage (crypto/hmac.New allocates its ipad/opad blocks on the heap
// and never wipes them). The key is at most MaxKeyLen < B octets, so it is
// used zero-padded, without hashing (RFC 2104 §2 step 1). The buffer's
// key-derived octets and the inner hash are cleared before returning; the
// hash functions' internal state on their own stack frames cannot be
// (docs/handover-keys.md).
func (k *Key) mac(sum *[sha256.Size]byte, careOf, correspondent netip.Addr, mhData []byte) []byte {
	if len(mhData) > maxStackMHData {
		return k.macLong(sum, careOf, correspondent, mhData)
	}
	// buf is K XOR ipad | text, then K XOR opad | inner hash.
	var buf [hmacBlockLen + 2*16 + maxStackMHData]byte
	k.pad(&buf, 0x36)
	c, p := careOf.As16(), correspondent.As16()
	n := hmacBlockLen
	n += copy(buf[n:], c[:])
	n += copy(buf[n:], p[:])
	n += copy(buf[n:], mhData)
	inner := k.at.digest(sum, buf[:n])
	k.pad(&buf, 0x5c)
	m := hmacBlockLen + copy(buf[hmacBlockLen:], inner)
	full := k.at.digest(sum, buf[:m])
	clear(buf[:m])
	return full
}

// macLong is mac through crypto/hmac, for MH Data longer than any
// Mobility Header. It allocates (copies of the key and of mhData, so that
// callers' buffers stay on their stacks); the heap copy of the key is wiped, the
// ipad/opad blocks crypto/hmac keeps cannot be.
func (k *Key) macLong(sum *[sha256.Size]byte, careOf, correspondent netip.Addr, mhData []byte) []byte {
	key := append([]byte(nil), k.buf[:k.n]...) // a copy, so that k does not escape
	m := hmac.New(algorithms[k.at].newHash, key)
	clear(key)
	c, p := careOf.As16(), correspondent.As16()
	m.Write(c[:])
	m.Write(p[:])
	m.Write(bytes.Clone(mhData)) // a copy, so that mhData does not escape
	full := m.Sum(nil)
	n := copy(sum[:], full)
	clear(full)
	return sum[:n]
}

// pad writes K XOR pad (the key zero-padded to B octets) into b's first
// block.
func (k *Key) pad(b *[hmacBlockLen + 2*16 + maxStackMHData]byte, pad byte) {
	for i := range hmacBlockLen {
		b[i] = pad
	}
	for i, x := range k.buf[:k.n] {
		b[i] ^= x
	}
}

// digest hashes data with at's hash into sum and returns the digest, a
// slice of sum. A switch rather than a function value in the registry:
// an indirect call would make data escape to the heap.
func (at AlgorithmType) digest(sum *[sha256.Size]byte, data []byte) []byte {
	switch at {
	case HMACSHA1Trunc96:
		s := sha1.Sum(data)
		n := copy(sum[:], s[:])
		clear(s[:])
		return sum[:n]
	case HMACSHA256Trunc128:
		*sum = sha256.Sum256(data)
		return sum[:]
	}
	panic(fmt.Sprintf("hokey: no digest for %s", at)) // a registry entry without a case here
}
