package hokey

import (
	"crypto/hmac"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
)

// ErrAuthenticator is wrapped when an authenticator does not verify.
var ErrAuthenticator = errors.New("hokey: authenticator mismatch")

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
// in docs/handover-keys.md.
func (k *Key) Authenticator(dst []byte, careOf, correspondent netip.Addr, mhData []byte) ([]byte, error) {
	if k.n == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrKey)
	}
	if err := k.at.check(); err != nil {
		return nil, err
	}
	alg := algorithms[k.at]
	m := hmac.New(alg.newHash, k.buf[:k.n])
	c, p := careOf.As16(), correspondent.As16()
	m.Write(c[:])
	m.Write(p[:])
	m.Write(mhData)
	var sum [64]byte
	full := m.Sum(sum[:0])
	return append(dst, full[:alg.macLen]...), nil
}

// VerifyAuthenticator checks, in constant time, that auth is the
// Authenticator k gives for the same inputs. It returns a wrapped
// ErrAuthenticator on mismatch (including a wrong length, which would
// mean the sender used another algorithm).
func (k *Key) VerifyAuthenticator(careOf, correspondent netip.Addr, mhData, auth []byte) error {
	var buf [64]byte
	want, err := k.Authenticator(buf[:0], careOf, correspondent, mhData)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeEq(int32(len(want)), int32(len(auth))) != 1 || !hmac.Equal(want, auth) {
		return fmt.Errorf("%w: %s", ErrAuthenticator, k.at)
	}
	return nil
}
