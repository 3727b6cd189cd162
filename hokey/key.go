package hokey

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// MaxKeyLen is the longest key of any registered algorithm.
const MaxKeyLen = 32

// ErrKey is wrapped when key material does not fit its algorithm.
var ErrKey = errors.New("hokey: bad key")

// Key is a handover key with its algorithm type (RFC 5269 §3.6: "a key
// having sufficient strength to match the authentication algorithm").
// The material is a fixed array so that Zero reaches every copy the
// program holds through this value; fmt and slog print it redacted.
type Key struct {
	at  AlgorithmType
	n   uint8
	buf [MaxKeyLen]byte
}

// NewKey returns a Key for at holding a copy of material, which must be
// exactly at.KeyLen() octets.
func NewKey(at AlgorithmType, material []byte) (Key, error) {
	if err := at.check(); err != nil {
		return Key{}, err
	}
	if len(material) != at.KeyLen() {
		return Key{}, fmt.Errorf("%w: %s needs %d octets, have %d", ErrKey, at, at.KeyLen(), len(material))
	}
	k := Key{at: at, n: uint8(len(material))}
	copy(k.buf[:], material)
	return k, nil
}

// GenerateKey returns a fresh random key for at read from rand (use
// crypto/rand.Reader). RFC 5269 §3.6: "The AR MUST randomly generate a key
// having sufficient strength to match the authentication algorithm."
func GenerateKey(at AlgorithmType, rand io.Reader) (Key, error) {
	if err := at.check(); err != nil {
		return Key{}, err
	}
	k := Key{at: at, n: uint8(at.KeyLen())}
	if _, err := io.ReadFull(rand, k.buf[:k.n]); err != nil {
		return Key{}, fmt.Errorf("hokey: generate key: %w", err)
	}
	return k, nil
}

// Algorithm returns the key's algorithm type.
func (k *Key) Algorithm() AlgorithmType { return k.at }

// IsZero reports whether k holds no key.
func (k *Key) IsZero() bool { return k.n == 0 }

// Bytes returns the key material. The slice aliases k: do not keep it
// beyond k's life, and never log it.
func (k *Key) Bytes() []byte { return k.buf[:k.n] }

// Equal reports in constant time whether k and o are the same key for the
// same algorithm.
func (k *Key) Equal(o *Key) bool {
	same := subtle.ConstantTimeCompare(k.buf[:], o.buf[:])
	same &= subtle.ConstantTimeByteEq(k.n, o.n)
	same &= subtle.ConstantTimeByteEq(uint8(k.at), uint8(o.at))
	return same == 1
}

// Zero overwrites the key material. Copies made elsewhere (by the garbage
// collector moving nothing — Go does not move heap objects — but by value
// copies of Key) are not reached; see docs/handover-keys.md.
func (k *Key) Zero() {
	clear(k.buf[:])
	k.n = 0
}

// String redacts the material.
func (k Key) String() string {
	if k.n == 0 {
		return "hokey.Key(empty)"
	}
	return fmt.Sprintf("hokey.Key(%s, %d octets, redacted)", k.at, k.n)
}

// GoString redacts the material in %#v.
func (k Key) GoString() string { return k.String() }

// Format redacts the material for every verb.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// LogValue redacts the material in log/slog output.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }
