package mip6tls

import (
	"crypto/subtle"
	"fmt"
)

// MaxKeyLen bounds an MN-HA key. RFC 6618 §5.6.2 says only that "the length
// of these keys depend on the selected ciphersuite"; the longest key of the
// §5.6.5 algorithms is TripleDES-CBC's 24 octets, and 64 leaves room for
// any HMAC key (docs/tls.md).
const MaxKeyLen = 64

// Key is MN-HA key material (RFC 6618 §5.6.2). The octets sit in a fixed
// array so that Zero reaches them; fmt prints a Key redacted, whatever the
// verb, and it has no JSON or text marshaller.
type Key struct {
	n   uint8
	buf [MaxKeyLen]byte
}

// NewKey returns a Key holding a copy of material, 1..MaxKeyLen octets.
func NewKey(material []byte) (Key, error) {
	if len(material) == 0 || len(material) > MaxKeyLen {
		return Key{}, wrapCause(ErrValue, "key of %d octets (1..%d)", len(material), MaxKeyLen)
	}
	k := Key{n: uint8(len(material))}
	copy(k.buf[:], material)
	return k, nil
}

// Len returns the key length in octets.
func (k *Key) Len() int { return int(k.n) }

// Bytes returns the key material. The slice aliases k: never log it.
func (k *Key) Bytes() []byte { return k.buf[:k.n] }

// Equal reports in constant time whether k and o hold the same octets.
func (k *Key) Equal(o *Key) bool {
	same := subtle.ConstantTimeCompare(k.buf[:], o.buf[:])
	return same&subtle.ConstantTimeByteEq(k.n, o.n) == 1
}

// Zero overwrites the key material.
func (k *Key) Zero() {
	clear(k.buf[:])
	k.n = 0
}

// String returns "Key(N octets, redacted)".
func (k Key) String() string { return fmt.Sprintf("Key(%d octets, redacted)", k.n) }

// GoString is String, so that %#v redacts too.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb, so that %x or %d cannot show the
// octets.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// KeyDirection says which way an MN-HA key protects traffic.
type KeyDirection uint8

// The two directions of RFC 6618 §4.3 ("MN -> HA, HA -> MN").
const (
	MNToHA KeyDirection = iota
	HAToMN
)

// KeyUsage says whether an MN-HA key is for integrity or encryption.
type KeyUsage uint8

// RFC 6618 §5.6.2: "The MN-HA shared integrity (ikey) and encryption (ekey)
// keys".
const (
	IntegrityKey KeyUsage = iota
	EncryptionKey
)

// MNHAKey is one of the four MN-HA Shared Keys of RFC 6618 §5.6.2:
//
//	mip6-mn-to-ha-ikey = "mip6-mn-to-ha-ikey" ":" 1*(HEX HEX) CRLF
//	mip6-ha-to-mn-ikey = "mip6-ha-to-mn-ikey" ":" 1*(HEX HEX) CRLF
//	mip6-mn-to-ha-ekey = "mip6-mn-to-ha-ekey" ":" 1*(HEX HEX) CRLF
//	mip6-ha-to-mn-ekey = "mip6-ha-to-mn-ekey" ":" 1*(HEX HEX) CRLF
type MNHAKey struct {
	Direction KeyDirection
	Usage     KeyUsage
	Key       Key
}

// Name returns the TV-header name for the key's direction and usage.
func (k MNHAKey) Name() string {
	switch {
	case k.Direction == HAToMN && k.Usage == EncryptionKey:
		return "mip6-ha-to-mn-ekey"
	case k.Direction == HAToMN:
		return "mip6-ha-to-mn-ikey"
	case k.Usage == EncryptionKey:
		return "mip6-mn-to-ha-ekey"
	}
	return "mip6-mn-to-ha-ikey"
}

func (k MNHAKey) appendValue(b []byte) ([]byte, error) {
	if k.Direction > HAToMN || k.Usage > EncryptionKey {
		return nil, wrapCause(ErrValue, "MN-HA key direction %d, usage %d", k.Direction, k.Usage)
	}
	if k.Key.n == 0 {
		return nil, wrapCause(ErrValue, "%s: empty key", k.Name())
	}
	return appendHex(b, k.Key.Bytes()), nil
}

// keyParser decodes a key's hex straight into a stack buffer that is
// wiped after NewKey copied it.
func keyParser(dir KeyDirection, use KeyUsage) func([]byte) (Parameter, error) {
	return func(v []byte) (Parameter, error) {
		var buf [MaxKeyLen]byte
		defer clear(buf[:])
		if len(v) > 2*MaxKeyLen {
			return nil, wrapCause(ErrValue, "key of %d octets (1..%d)", len(v)/2, MaxKeyLen)
		}
		n := len(v) / 2
		if err := parseFixedHex(buf[:n], v); err != nil {
			return nil, err
		}
		k, err := NewKey(buf[:n])
		if err != nil {
			return nil, err
		}
		return MNHAKey{Direction: dir, Usage: use, Key: k}, nil
	}
}
