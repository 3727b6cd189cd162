package hokey

import (
	"bytes"
	"crypto/hmac"
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
// into sum and returns the full MAC, a slice of sum: stackHMAC, without
// allocating, for any Mobility Header. The key is at most MaxKeyLen < B
// octets, so it is used zero-padded, without hashing.
func (k *Key) mac(sum *[sha256.Size]byte, careOf, correspondent netip.Addr, mhData []byte) []byte {
	if len(mhData) > maxStackMHData {
		return k.macLong(sum, careOf, correspondent, mhData)
	}
	var buf hmacBuf
	c, p := careOf.As16(), correspondent.As16()
	t := buf.text()
	n := copy(t, c[:])
	n += copy(t[n:], p[:])
	n += copy(t[n:], mhData)
	return stackHMAC(k.at.hash(), sum, k.buf[:k.n], &buf, hmacBlockLen+n)
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

// hash is the hash of at's HMAC.
func (at AlgorithmType) hash() hashFunc {
	switch at {
	case HMACSHA1Trunc96:
		return hashSHA1
	case HMACSHA256Trunc128:
		return hashSHA256
	}
	panic(fmt.Sprintf("hokey: no hash for %s", at)) // a registry entry without a case here
}
