package mip6udp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// AESXCBCMAC is AES-XCBC-MAC (RFC 3566 §4) under one 128-bit key; its
// first 96 bits are AES-XCBC-MAC-96 (§2.2). The Go standard library has
// no XCBC. It is safe for concurrent use.
type AESXCBCMAC struct {
	k1     cipher.Block
	k2, k3 [aes.BlockSize]byte
}

// NewAESXCBCMAC derives K1, K2, K3 from key (RFC 3566 §4, step 1):
// K1 = E(K, 0x01…01), K2 = E(K, 0x02…02), K3 = E(K, 0x03…03).
func NewAESXCBCMAC(key []byte) (*AESXCBCMAC, error) {
	if len(key) != 16 {
		// RFC 3566 §2.1: AES-XCBC-MAC-96 uses a 128-bit key; the
		// variable-length keys of RFC 4434 are for the PRF, not the ICV.
		return nil, fmt.Errorf("%w: %w: AES-XCBC-MAC key of %d octets, want 16", ErrConfig, ErrKeyLength, len(key))
	}
	k, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var x AESXCBCMAC
	var c [aes.BlockSize]byte
	var k1 [aes.BlockSize]byte
	for i, dst := range []*[aes.BlockSize]byte{&k1, &x.k2, &x.k3} {
		for j := range c {
			c[j] = byte(i + 1)
		}
		k.Encrypt(dst[:], c[:])
	}
	if x.k1, err = aes.NewCipher(k1[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	clear(k1[:])
	return &x, nil
}

// Sum writes AES-XCBC-MAC(K, msg), 16 octets, to mac (RFC 3566 §4,
// steps 2–3).
func (x *AESXCBCMAC) Sum(mac *[aes.BlockSize]byte, msg []byte) {
	e := mac // E[i-1], starting from E[0] = 0
	*e = [aes.BlockSize]byte{}
	// Step 3: every block but the last is XORed with E[i-1] and
	// encrypted with K1.
	for len(msg) > aes.BlockSize {
		subtle.XORBytes(e[:], e[:], msg[:aes.BlockSize])
		x.k1.Encrypt(e[:], e[:])
		msg = msg[aes.BlockSize:]
	}
	// Step 4: a complete last block is XORed with E[n-1] and K2; an
	// incomplete (or empty) one is padded with 0x80 then zeros and XORed
	// with E[n-1] and K3; then encrypted with K1.
	if len(msg) == aes.BlockSize {
		subtle.XORBytes(e[:], e[:], msg)
		subtle.XORBytes(e[:], e[:], x.k2[:])
	} else {
		subtle.XORBytes(e[:len(msg)], e[:len(msg)], msg)
		e[len(msg)] ^= 0x80
		subtle.XORBytes(e[:], e[:], x.k3[:])
	}
	x.k1.Encrypt(e[:], e[:])
}
