package mip6udp

import (
	"fmt"
	"slices"
)

// CipherSuite is a ciphersuite of RFC 6618 §5.6.5 in the TLS 1.2 numeric
// representation (RFC 5246 Appendix A.5): {0x00,0x2F} is 0x002F.
type CipherSuite uint16

// The ciphersuites RFC 6618 §5.6.5 allows; "all other Ciphersuite values
// are reserved".
const (
	NullSHA            CipherSuite = 0x0002 // NULL_SHA
	NullSHA256         CipherSuite = 0x003B // NULL_SHA256
	TripleDESEDECBCSHA CipherSuite = 0x000A // 3DES_EDE_CBC_SHA
	AES128CBCSHA       CipherSuite = 0x002F // AES_128_CBC_SHA
	AES128CBCSHA256    CipherSuite = 0x003C // AES_128_CBC_SHA256
)

// IntegrityAlgorithm is an integrity algorithm of RFC 6618 §5.6.5.
type IntegrityAlgorithm uint8

// Integrity algorithms; "Implementations MUST NOT use a NULL integrity
// algorithm" (§5.6.5), so there is none.
const (
	HMACSHA196   IntegrityAlgorithm = iota + 1 // HMAC-SHA1-96, RFC 2404
	AESXCBCMAC96                               // AES-XCBC-MAC-96, RFC 3566
)

// String names the algorithm as RFC 6618 §5.6.5 does.
func (a IntegrityAlgorithm) String() string {
	switch a {
	case HMACSHA196:
		return "HMAC-SHA1-96"
	case AESXCBCMAC96:
		return "AES-XCBC-MAC-96"
	}
	return fmt.Sprintf("IntegrityAlgorithm(%d)", uint8(a))
}

// EncryptionAlgorithm is an encryption algorithm of RFC 6618 §5.6.5.
type EncryptionAlgorithm uint8

// Encryption algorithms.
const (
	EncryptionNull EncryptionAlgorithm = iota + 1 // NULL, RFC 2410
	TripleDESCBC                                  // TripleDES-CBC, RFC 2451
	AESCBC128                                     // AES-CBC with 128-bit keys, RFC 3602
)

// String names the algorithm as RFC 6618 §5.6.5 does.
func (a EncryptionAlgorithm) String() string {
	switch a {
	case EncryptionNull:
		return "NULL"
	case TripleDESCBC:
		return "TripleDES-CBC"
	case AESCBC128:
		return "AES-CBC with 128-bit keys"
	}
	return fmt.Sprintf("EncryptionAlgorithm(%d)", uint8(a))
}

// Suite describes a ciphersuite: the algorithms of the RFC 6618 §5.6.5
// mapping table and the lengths they imply.
type Suite struct {
	ID         CipherSuite
	Name       string // as RFC 6618 §5.6.5 spells it
	Integrity  IntegrityAlgorithm
	Encryption EncryptionAlgorithm
	// IntegrityKeyLen: 20 octets for HMAC-SHA1-96 (RFC 2404 fixes the key
	// at 160 bits), 16 for AES-XCBC-MAC-96 (RFC 3566 §2.1).
	IntegrityKeyLen int
	// EncryptionKeyLen: 0 (NULL), 24 (TripleDES-CBC, RFC 2451 §2.2:
	// three DES keys, parity bits ignored), 16 (AES-128-CBC).
	EncryptionKeyLen int
	// IVLen: the explicit IV in front of the ciphertext, the cipher's
	// block size for CBC (RFC 2451 §2.3, RFC 3602 §3), none for NULL.
	IVLen int
	// BlockSize: the ciphertext is a multiple of it (RFC 4303 §2.4); 1 for
	// NULL (RFC 2410 §2).
	BlockSize int
	// ICVLen: 12 octets for both integrity algorithms (96 bits).
	ICVLen int
}

// suites is the RFC 6618 §5.6.5 "Ciphersuite-to-Algorithm Mapping" table.
var suites = []Suite{
	{ID: NullSHA, Name: "NULL_SHA", Integrity: HMACSHA196, Encryption: EncryptionNull, IntegrityKeyLen: 20, EncryptionKeyLen: 0, IVLen: 0, BlockSize: 1, ICVLen: 12},
	{ID: NullSHA256, Name: "NULL_SHA256", Integrity: AESXCBCMAC96, Encryption: EncryptionNull, IntegrityKeyLen: 16, EncryptionKeyLen: 0, IVLen: 0, BlockSize: 1, ICVLen: 12},
	{ID: TripleDESEDECBCSHA, Name: "3DES_EDE_CBC_SHA", Integrity: HMACSHA196, Encryption: TripleDESCBC, IntegrityKeyLen: 20, EncryptionKeyLen: 24, IVLen: 8, BlockSize: 8, ICVLen: 12},
	{ID: AES128CBCSHA, Name: "AES_128_CBC_SHA", Integrity: HMACSHA196, Encryption: AESCBC128, IntegrityKeyLen: 20, EncryptionKeyLen: 16, IVLen: 16, BlockSize: 16, ICVLen: 12},
	{ID: AES128CBCSHA256, Name: "AES_128_CBC_SHA256", Integrity: AESXCBCMAC96, Encryption: AESCBC128, IntegrityKeyLen: 16, EncryptionKeyLen: 16, IVLen: 16, BlockSize: 16, ICVLen: 12},
}

// Suites lists the ciphersuites of RFC 6618 §5.6.5 in the RFC's order.
func Suites() []Suite { return slices.Clone(suites) }

// LookupSuite returns the description of id, or ErrCipherSuite.
func LookupSuite(id CipherSuite) (Suite, error) {
	for _, s := range suites {
		if s.ID == id {
			return s, nil
		}
	}
	return Suite{}, fmt.Errorf("%w: %w: {0x%02X,0x%02X}", ErrConfig, ErrCipherSuite, byte(id>>8), byte(id))
}

// String is the RFC's name of a known suite, else the TLS numbers.
func (c CipherSuite) String() string {
	if s, err := LookupSuite(c); err == nil {
		return s.Name
	}
	return fmt.Sprintf("{0x%02X,0x%02X}", byte(c>>8), byte(c))
}

// align is the multiple the ciphertext (payload, padding, Pad Length, Next
// Header) is padded to: the block size, and at least 4 so that the ICV
// starts on a 4-octet boundary (RFC 4303 §2.4).
func (s Suite) align() int { return max(s.BlockSize, 4) }
