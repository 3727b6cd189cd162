package mip6udp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"fmt"
	"hash"
)

// integrity computes the ICV of one SA direction. Not safe for concurrent
// use: the SA serializes it.
type integrity interface {
	// sum writes the ICVLen-octet ICV of msg to icv.
	sum(icv, msg []byte)
}

// hmacSHA196 is HMAC-SHA1-96: the first 96 bits of HMAC-SHA-1 (RFC 2404
// §2, RFC 2104 §5).
type hmacSHA196 struct {
	h   hash.Hash
	out [sha1.Size]byte
}

func (m *hmacSHA196) sum(icv, msg []byte) {
	m.h.Reset()
	m.h.Write(msg)
	copy(icv, m.h.Sum(m.out[:0]))
}

// xcbcMAC96 is AES-XCBC-MAC-96: the first 96 bits of AES-XCBC-MAC (RFC
// 3566 §2.2).
type xcbcMAC96 struct {
	x   *AESXCBCMAC
	out [aes.BlockSize]byte
}

func (m *xcbcMAC96) sum(icv, msg []byte) {
	m.x.Sum(&m.out, msg)
	copy(icv, m.out[:])
}

func newIntegrity(s Suite, key []byte) (integrity, error) {
	if len(key) != s.IntegrityKeyLen {
		return nil, fmt.Errorf("%w: %w: %s integrity key of %d octets, want %d", ErrConfig, ErrKeyLength, s.Integrity, len(key), s.IntegrityKeyLen)
	}
	switch s.Integrity {
	case HMACSHA196:
		return &hmacSHA196{h: hmac.New(sha1.New, key)}, nil
	case AESXCBCMAC96:
		x, err := NewAESXCBCMAC(key)
		if err != nil {
			return nil, err
		}
		return &xcbcMAC96{x: x}, nil
	}
	return nil, fmt.Errorf("%w: %w: integrity %s", ErrConfig, ErrCipherSuite, s.Integrity)
}

// cbcMode is a CBC block mode whose IV is set per packet, so that sealing
// and opening allocate nothing (the standard library's CBC modes have
// SetIV; crypto/tls relies on it too).
type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// encryption encrypts or decrypts the ciphertext of one packet in place,
// under the packet's explicit IV. Nil means NULL encryption (RFC 2410:
// the identity). Not safe for concurrent use.
type encryption struct {
	mode cbcMode
}

func (e *encryption) crypt(buf, iv []byte) {
	if e == nil {
		return
	}
	e.mode.SetIV(iv)
	e.mode.CryptBlocks(buf, buf)
}

func newEncryption(s Suite, key []byte, decrypt bool) (*encryption, error) {
	if len(key) != s.EncryptionKeyLen {
		return nil, fmt.Errorf("%w: %w: %s key of %d octets, want %d", ErrConfig, ErrKeyLength, s.Encryption, len(key), s.EncryptionKeyLen)
	}
	var (
		b   cipher.Block
		err error
	)
	switch s.Encryption {
	case EncryptionNull:
		return nil, nil
	case TripleDESCBC:
		b, err = des.NewTripleDESCipher(key)
	case AESCBC128:
		b, err = aes.NewCipher(key)
	default:
		return nil, fmt.Errorf("%w: %w: encryption %s", ErrConfig, ErrCipherSuite, s.Encryption)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	zero := make([]byte, b.BlockSize())
	var m cipher.BlockMode
	if decrypt {
		m = cipher.NewCBCDecrypter(b, zero)
	} else {
		m = cipher.NewCBCEncrypter(b, zero)
	}
	mode, ok := m.(cbcMode)
	if !ok {
		return nil, fmt.Errorf("%w: the CBC mode of %s cannot set its IV", ErrConfig, s.Encryption)
	}
	return &encryption{mode: mode}, nil
}
