package hokey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// The MSK-derived fast handover key of issue 12 (draft-li-mipshop-fbu-sec-00,
// docs/msk.md): the MN and the PAR, which was the EAP authenticator on the
// MN's link, derive the FBU key from the EAP MSK.
const (
	// MSKLen is the length of the MSK: "the first 64 octets of the EAP
	// method's key material" (issue 12; RFC 3748 §7.10: "the MSK is at
	// least 64 octets in length").
	MSKLen = 64
	// MaxPRFPlusLen is the longest prf+ output: "The prf+ function is not
	// defined beyond 255 times the size of the prf function output" (RFC
	// 7296 §2.13), here HMAC-SHA256.
	MaxPRFPlusLen = 255 * sha256.Size

	// fhkLabel is the label of the FHK derivation: 14 characters, then a
	// 0x00 octet, as RFC 5295 §3.2's key label.
	fhkLabel = "FMIPv6 FBU Key"
)

// Errors of the FHK derivation. Each is wrapped together with
// ErrDerivation; an unsupported AT wraps ErrAlgorithm.
var (
	// ErrMSKLength is wrapped when the MSK is not MSKLen octets.
	ErrMSKLength = errors.New("hokey: MSK is not 64 octets")
	// ErrNAILength is wrapped when the NAI is empty or longer than an
	// MN-NAI option carries (MaxNAILen).
	ErrNAILength = errors.New("hokey: NAI length out of range")
	// ErrPARAddress is wrapped when the PAR address is not a global
	// unicast IPv6 address without a zone.
	ErrPARAddress = errors.New("hokey: PAR address is not a global unicast IPv6 address")
)

// PRFPlus returns the first n octets of prf+(key, s) of RFC 7296 §2.13
// with prf = HMAC-SHA256:
//
//	prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//	T1 = prf (K, S | 0x01)
//	T2 = prf (K, T1 | S | 0x02)
//	...
//
// "The constant concatenated to the end of each prf function is a single
// octet", so n is at most MaxPRFPlusLen. The octets of the last block
// beyond n are wiped.
func PRFPlus(key, s []byte, n int) ([]byte, error) {
	if n < 0 || n > MaxPRFPlusLen {
		return nil, fmt.Errorf("%w: prf+ output length %d (0 to %d, RFC 7296 §2.13)", ErrDerivation, n, MaxPRFPlusLen)
	}
	blocks := (n + sha256.Size - 1) / sha256.Size
	out := make([]byte, 0, blocks*sha256.Size)
	m := hmac.New(sha256.New, key)
	var c [1]byte
	for i := 1; i <= blocks; i++ {
		m.Reset()
		if i > 1 {
			m.Write(out[len(out)-sha256.Size:]) // Tn-1
		}
		m.Write(s)
		c[0] = byte(i)
		m.Write(c[:])
		out = m.Sum(out)
	}
	clear(out[n:cap(out)])
	return out[:n:n], nil
}

// FHKInput returns S, the prf+ input of the FHK derivation (docs/msk.md):
//
//	S = "FMIPv6 FBU Key" | 0x00 | NAI | PAR address | L
//
// the form of RFC 5295 §3.2 (key label, NUL, optional data, length): NAI
// is the NAI's octets (RFC 4282, no terminator), PAR address the 16
// octets of the address the FBU is sent to, L two octets big-endian, the
// key length of at (AT 0: 20, AT 1: 32). It checks nai, par and at.
func FHKInput(nai string, par netip.Addr, at AlgorithmType) ([]byte, error) {
	if err := at.check(); err != nil {
		return nil, err
	}
	if len(nai) == 0 || len(nai) > MaxNAILen {
		return nil, fmt.Errorf("%w: %w: NAI of %d octets (1 to %d, RFC 4283 §3)", ErrDerivation, ErrNAILength, len(nai), MaxNAILen)
	}
	if err := CheckPARAddress(par); err != nil {
		return nil, err
	}
	a := par.As16()
	s := make([]byte, 0, len(fhkLabel)+1+len(nai)+len(a)+2)
	s = append(append(append(append(s, fhkLabel...), 0x00), nai...), a[:]...)
	return binary.BigEndian.AppendUint16(s, uint16(at.KeyLen())), nil
}

// DeriveFHK derives the fast handover key that authenticates the FBU and
// the FBack with at (docs/msk.md):
//
//	FHK = prf+(MSK, "FMIPv6 FBU Key" | 0x00 | NAI | PAR address | L)
//
// truncated to L = at.KeyLen() octets, with PRFPlus (HMAC-SHA256): RFC
// 5295 §3.2's derivation with the 64-octet MSK in place of the EMSK. msk
// must be MSKLen octets; par must pass CheckPARAddress. The prf+ output is
// wiped; the key is returned as a Key for at.
func DeriveFHK(msk []byte, nai string, par netip.Addr, at AlgorithmType) (Key, error) {
	if len(msk) != MSKLen {
		return Key{}, fmt.Errorf("%w: %w: have %d octets", ErrDerivation, ErrMSKLength, len(msk))
	}
	s, err := FHKInput(nai, par, at)
	if err != nil {
		return Key{}, err
	}
	material, err := PRFPlus(msk, s, at.KeyLen())
	if err != nil {
		return Key{}, err
	}
	defer clear(material)
	return NewKey(at, material)
}

// CheckPARAddress reports whether par can be the PAR address of the FHK
// derivation: the address the MN sends the FBU to from the new link, so
// a global unicast IPv6 address (unique local addresses included, as in
// netip.Addr.IsGlobalUnicast): not IPv4 or IPv4-mapped, unspecified,
// loopback, multicast or link-local, and without a zone (docs/msk.md).
func CheckPARAddress(par netip.Addr) error {
	return checkRouterAddress(par, "PAR address", ErrPARAddress)
}
