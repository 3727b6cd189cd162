package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"

	"layeh.com/radius"
)

const (
	headerLen     = 20 // Code, Identifier, Length, Authenticator (RFC 2865 §3)
	maxPacketLen  = radius.MaxPacketLength
	maLen         = 18 // Message-Authenticator: type, length, 16-octet HMAC-MD5
	maxAttrValue  = 253
	vsaHeaderLen  = 6 // Vendor-Id (4), vendor type, vendor length
	maxVSAValue   = maxAttrValue - vsaHeaderLen
	authenticator = 16
)

// checkHeader returns the packet's length from its header (RFC 2865 §3:
// octets beyond Length are padding and ignored; fewer is a discard).
func checkHeader(b []byte) (int, error) {
	if len(b) < headerLen {
		return 0, fmt.Errorf("%w: packet of %d octets: %w", ErrMalformed, len(b), io.ErrUnexpectedEOF)
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > maxPacketLen {
		return 0, fmt.Errorf("%w: Length %d", ErrMalformed, n)
	}
	if n > len(b) {
		return 0, fmt.Errorf("%w: Length %d, %d octets received: %w", ErrMalformed, n, len(b), io.ErrUnexpectedEOF)
	}
	return n, nil
}

// findMessageAuthenticator walks the attributes of the packet b (already
// cut to its Length) and returns the offset of the value of its one
// Message-Authenticator.
func findMessageAuthenticator(b []byte) (int, error) {
	at := -1
	for off := headerLen; off < len(b); {
		if len(b)-off < 2 {
			return 0, fmt.Errorf("%w: attribute at offset %d: %w", ErrMalformed, off, io.ErrUnexpectedEOF)
		}
		t, l := radius.Type(b[off]), int(b[off+1])
		if l < 2 {
			return 0, fmt.Errorf("%w: %s: length %d", ErrMalformed, attrName(t), l)
		}
		if off+l > len(b) {
			return 0, fmt.Errorf("%w: %s: length %d, %d octets left: %w", ErrMalformed, attrName(t), l, len(b)-off, io.ErrUnexpectedEOF)
		}
		if t == typeMessageAuthenticator {
			if l != maLen {
				return 0, fmt.Errorf("%w: %w: length %d", ErrMessageAuthenticator, ErrAttribute, l)
			}
			if at >= 0 {
				return 0, fmt.Errorf("%w: %w: repeated", ErrMessageAuthenticator, ErrAttribute)
			}
			at = off + 2
		}
		off += l
	}
	if at < 0 {
		return 0, fmt.Errorf("%w: missing", ErrMessageAuthenticator)
	}
	return at, nil
}

// messageAuthenticator computes HMAC-MD5(secret, packet) with the
// Message-Authenticator at off taken as zero and auth in the Authenticator
// field (RFC 2869 §5.14: the Request Authenticator, also for a response,
// RFC 3579 §3.2), into sum.
//
// H(K XOR opad, H(K XOR ipad, text)) is computed with the one-shot md5.Sum
// over a buffer on the stack, as hokey's BADF authenticator does: no
// allocation (crypto/hmac.New allocated five objects per packet each way,
// docs/aaa.md), and no key-derived block left in garbage; the buffer's
// key-derived octets and the inner hash are cleared. A secret longer than
// the block is hashed first (RFC 2104 §2 step 1).
func messageAuthenticator(sum *[md5.Size]byte, b []byte, off int, auth *[authenticator]byte, secret []byte) {
	var key [md5.BlockSize]byte
	if len(secret) > md5.BlockSize {
		h := md5.Sum(secret)
		copy(key[:], h[:])
		clear(h[:])
	} else {
		copy(key[:], secret)
	}
	// buf is K XOR ipad | text, then K XOR opad | inner hash.
	var buf [md5.BlockSize + maxPacketLen]byte
	for i, k := range key {
		buf[i] = k ^ 0x36
	}
	n := md5.BlockSize
	n += copy(buf[n:], b[:4])
	n += copy(buf[n:], auth[:])
	n += copy(buf[n:], b[headerLen:off])
	n += md5.Size // the Message-Authenticator as zero: buf is zero there
	n += copy(buf[n:], b[off+md5.Size:])
	inner := md5.Sum(buf[:n])
	for i, k := range key {
		buf[i] = k ^ 0x5c
	}
	copy(buf[md5.BlockSize:], inner[:])
	*sum = md5.Sum(buf[:md5.BlockSize+md5.Size])
	clear(buf[:md5.BlockSize+md5.Size])
	clear(key[:])
	clear(inner[:])
}

// verifyMessageAuthenticator checks the Message-Authenticator of the
// received packet b (cut to its Length) in constant time; reqAuth is the
// Request Authenticator (the packet's own for a request).
func verifyMessageAuthenticator(b []byte, reqAuth *[authenticator]byte, secret []byte) error {
	off, err := findMessageAuthenticator(b)
	if err != nil {
		return err
	}
	var want [md5.Size]byte
	messageAuthenticator(&want, b, off, reqAuth, secret)
	if !hmac.Equal(want[:], b[off:off+md5.Size]) {
		return fmt.Errorf("%w: does not verify", ErrMessageAuthenticator)
	}
	return nil
}

// responseAuthenticator computes MD5(Code | Identifier | Length |
// RequestAuth | Attributes | Secret) (RFC 2865 §3) of the response b.
func responseAuthenticator(sum *[md5.Size]byte, b []byte, reqAuth *[authenticator]byte, secret []byte) {
	// One md5.Sum over a buffer on the stack (no allocation) unless the
	// secret is unusually long.
	var buf [maxPacketLen + 128]byte
	if len(b)+len(secret) > len(buf) {
		h := md5.New()
		h.Write(b[:4])
		h.Write(reqAuth[:])
		h.Write(b[headerLen:])
		h.Write(secret)
		h.Sum(sum[:0])
		return
	}
	n := copy(buf[:], b[:4])
	n += copy(buf[n:], reqAuth[:])
	n += copy(buf[n:], b[headerLen:])
	n += copy(buf[n:], secret)
	*sum = md5.Sum(buf[:n])
	clear(buf[n-len(secret) : n])
}

// verifyResponse checks the Response Authenticator, then the
// Message-Authenticator, of the received response b (cut to its Length) to
// a request with Request Authenticator reqAuth, both in constant time.
func verifyResponse(b []byte, reqAuth *[authenticator]byte, secret []byte) error {
	var want [md5.Size]byte
	responseAuthenticator(&want, b, reqAuth, secret)
	if !hmac.Equal(want[:], b[4:headerLen]) {
		return ErrAuthenticator
	}
	return verifyMessageAuthenticator(b, reqAuth, secret)
}

// sign fills in the Message-Authenticator (its value at off, zero on
// entry) of the marshalled packet b and, for a response (reqAuth is then
// the request's), the Response Authenticator. For a request reqAuth is
// nil and the packet's own Authenticator is used.
func sign(b []byte, off int, reqAuth *[authenticator]byte, secret []byte) {
	var own [authenticator]byte
	response := reqAuth != nil
	if !response {
		copy(own[:], b[4:headerLen])
		reqAuth = &own
	}
	var sum [md5.Size]byte
	messageAuthenticator(&sum, b, off, reqAuth, secret)
	copy(b[off:], sum[:])
	if response {
		responseAuthenticator(&sum, b, reqAuth, secret)
		copy(b[4:headerLen], sum[:])
	}
}
