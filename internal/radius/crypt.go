package radius

import (
	"crypto/md5"
	"crypto/subtle"
	"fmt"
)

// maxKeyLen is the longest key EncryptKey takes: the String (length octet,
// key, padding) fills at most 240 octets so that salt and String fit a
// vendor-specific attribute (247 octets of value).
const maxKeyLen = 239

// EncryptKey returns the value of a Handover-Key attribute: key encrypted
// as RFC 2548 §2.4.2 encrypts MS-MPPE-Send-Key (the method of RFC 2868
// §3.5's Tunnel-Password, FreeRADIUS encrypt=2):
//
//	Salt (2 octets, most significant bit set) | C
//	P = Key-Length (1 octet) | key | zero padding to a multiple of 16
//	b(1) = MD5(secret | Request Authenticator | Salt)   c(1) = p(1) xor b(1)
//	b(i) = MD5(secret | c(i-1))                         c(i) = p(i) xor b(i)
//
// The salt must be unique among the keys encrypted with the same secret
// and Request Authenticator (its high bit is set here whatever is passed).
func EncryptKey(key, secret []byte, reqAuth [16]byte, salt uint16) ([]byte, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty shared secret", ErrConfig)
	}
	return appendEncryptedKey(nil, key, secret, reqAuth, salt)
}

// appendEncryptedKey is EncryptKey appending the value to dst.
func appendEncryptedKey(dst, key, secret []byte, reqAuth [16]byte, salt uint16) ([]byte, error) {
	if len(key) == 0 || len(key) > maxKeyLen {
		return nil, fmt.Errorf("%w: %s: key of %d octets (1–%d)", ErrAttribute, AttrHandoverKey, len(key), maxKeyLen)
	}
	salt |= 0x8000
	n := (1 + len(key) + 15) / 16 * 16
	start := len(dst)
	dst = append(dst, byte(salt>>8), byte(salt))
	dst = append(dst, byte(len(key)))
	dst = append(dst, key...)
	dst = append(dst, make([]byte, 2+n-(len(dst)-start))...)
	out := dst[start:]
	c := out[2:]
	saltCrypt(c, c, true, secret, &reqAuth, out[:2])
	return dst, nil
}

// DecryptKey reverses EncryptKey: it returns the key of a received
// Handover-Key attribute value. The decrypted padding is not checked
// (RFC 2548 §2.4.2 says nothing of it), the Key-Length octet is.
func DecryptKey(value, secret []byte, reqAuth [16]byte) ([]byte, error) {
	return decryptSalted(AttrHandoverKey.String(), value, secret, reqAuth)
}

// decryptSalted reverses the RFC 2548 §2.4.2 salt encryption of the
// attribute name's value.
func decryptSalted(name string, value, secret []byte, reqAuth [16]byte) ([]byte, error) {
	if len(value) < 2+16 || (len(value)-2)%16 != 0 {
		return nil, fmt.Errorf("%w: %s: %d octets, not a salt and a multiple of 16", ErrAttribute, name, len(value))
	}
	if value[0]&0x80 == 0 {
		return nil, fmt.Errorf("%w: %s: salt without its most significant bit", ErrAttribute, name)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty shared secret", ErrConfig)
	}
	p := make([]byte, len(value)-2)
	saltCrypt(p, value[2:], false, secret, &reqAuth, value[:2])
	n := int(p[0])
	if n == 0 || n > len(p)-1 {
		clear(p)
		return nil, fmt.Errorf("%w: %s: Key-Length %d in %d octets (wrong shared secret?)", ErrAttribute, name, n, len(p)-1)
	}
	key := make([]byte, n)
	copy(key, p[1:])
	clear(p)
	return key, nil
}

// saltCrypt XORs src (a multiple of 16 octets) with the RFC 2548 §2.4.2
// key stream into dst: b(1) = MD5(secret | reqAuth | salt), b(i) =
// MD5(secret | c(i-1)), c being dst when encrypting and src when
// decrypting.
func saltCrypt(dst, src []byte, encrypt bool, secret []byte, reqAuth *[16]byte, salt []byte) {
	var b [md5.Size]byte
	h := md5.New()
	for i := 0; i < len(src); i += 16 {
		h.Reset()
		h.Write(secret)
		switch {
		case i == 0:
			h.Write(reqAuth[:])
			h.Write(salt)
		case encrypt:
			h.Write(dst[i-16 : i])
		default:
			h.Write(src[i-16 : i])
		}
		h.Sum(b[:0])
		subtle.XORBytes(dst[i:i+16], src[i:i+16], b[:])
	}
	clear(b[:])
}
