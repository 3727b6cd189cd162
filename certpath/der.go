package certpath

import (
	"fmt"
	"io"
)

// ASN.1 universal tags used by the RFC 3779 extension (X.690 §8).
const (
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagNull        = 0x05
	tagSequence    = 0x30 // constructed SEQUENCE / SEQUENCE OF
)

// derReader reads DER elements from b; off is the offset of b[0] in the
// outermost input, so that errors name the octet at fault.
type derReader struct {
	b   []byte
	off int
}

func (d *derReader) empty() bool { return len(d.b) == 0 }

// peekTag returns the tag of the next element without consuming it.
func (d *derReader) peekTag() (byte, bool) {
	if len(d.b) == 0 {
		return 0, false
	}
	return d.b[0], true
}

// next reads one element whose tag must be want and returns a reader over
// its contents. field names the element in errors. Only the DER subset is
// accepted (X.690 §10.1): definite lengths in the minimal number of octets,
// low tag numbers.
func (d *derReader) next(field string, want byte) (derReader, error) {
	start := d.off
	if len(d.b) < 2 {
		return derReader{}, fmt.Errorf("%w: %s at offset %d: %w", ErrParse, field, start, io.ErrUnexpectedEOF)
	}
	if tag := d.b[0]; tag != want {
		return derReader{}, fmt.Errorf("%w: %s at offset %d: tag 0x%02x, want 0x%02x", ErrParse, field, start, tag, want)
	}
	n := int(d.b[1])
	hdr := 2
	if n >= 0x80 {
		k := n & 0x7f
		switch {
		case k == 0:
			return derReader{}, fmt.Errorf("%w: %s at offset %d: indefinite length: %w", ErrParse, field, start, ErrNotCanonical)
		case k > 3:
			// 2^24 octets is far beyond any certificate extension.
			return derReader{}, fmt.Errorf("%w: %s at offset %d: %d-octet length field", ErrParse, field, start, k)
		case len(d.b) < 2+k:
			return derReader{}, fmt.Errorf("%w: %s length at offset %d: %w", ErrParse, field, start+1, io.ErrUnexpectedEOF)
		}
		if d.b[2] == 0 {
			return derReader{}, fmt.Errorf("%w: %s at offset %d: length with leading zero octet: %w", ErrParse, field, start, ErrNotCanonical)
		}
		n = 0
		for _, c := range d.b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 {
			return derReader{}, fmt.Errorf("%w: %s at offset %d: long form for length %d: %w", ErrParse, field, start, n, ErrNotCanonical)
		}
		hdr += k
	}
	if len(d.b)-hdr < n {
		return derReader{}, fmt.Errorf("%w: %s at offset %d: %d content octets, %d left: %w", ErrParse, field, start, n, len(d.b)-hdr, io.ErrUnexpectedEOF)
	}
	in := derReader{b: d.b[hdr : hdr+n], off: start + hdr}
	d.b = d.b[hdr+n:]
	d.off = start + hdr + n
	return in, nil
}

// appendDER appends a DER element with the given tag and contents.
func appendDER(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	dst = appendLength(dst, len(content))
	return append(dst, content...)
}

// appendLength appends a DER length (X.690 §10.1: minimal octets).
func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	default:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}
