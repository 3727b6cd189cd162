package cga

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fhkey/fhkey/internal/der"
)

// ErrParse is wrapped by every error returned while decoding CGA Parameters.
var ErrParse = errors.New("cga: malformed CGA Parameters")

// Fixed part of the CGA Parameters data structure (RFC 3972 §3):
// Modifier (16) + Subnet Prefix (8) + Collision Count (1).
const fixedLen = 16 + 8 + 1

// Extension is one RFC 4581 §2 extension field: a 16-bit Extension Type,
// a 16-bit Extension Data Length and the data. Unknown types are kept as they
// are: RFC 3972 §3 says implementations "MUST ignore the value of any
// unrecognized extension fields", but the hashes cover them.
type Extension struct {
	Type uint16
	Data []byte
}

// Parameters is the CGA Parameters data structure of RFC 3972 §3.
type Parameters struct {
	Modifier       [16]byte
	SubnetPrefix   [8]byte
	CollisionCount uint8
	// PublicKey is the DER-encoded SubjectPublicKeyInfo, exactly as received.
	PublicKey  []byte
	Extensions []Extension
}

// Len returns the encoded length of p in octets.
func (p *Parameters) Len() int {
	n := fixedLen + len(p.PublicKey)
	for _, e := range p.Extensions {
		n += 4 + len(e.Data)
	}
	return n
}

// Marshal returns the encoding of p (RFC 3972 §3, RFC 4581 §2).
func (p *Parameters) Marshal() ([]byte, error) {
	return p.AppendTo(make([]byte, 0, p.Len()))
}

// AppendTo appends the encoding of p to b.
func (p *Parameters) AppendTo(b []byte) ([]byte, error) {
	if _, err := der.SequenceLength(p.PublicKey); err != nil {
		return nil, fmt.Errorf("cga: marshal public key: %w", err)
	}
	if n, _ := der.SequenceLength(p.PublicKey); n != len(p.PublicKey) {
		return nil, fmt.Errorf("cga: marshal public key: %d trailing octets after the DER SEQUENCE", len(p.PublicKey)-n)
	}
	b = append(b, p.Modifier[:]...)
	b = append(b, p.SubnetPrefix[:]...)
	b = append(b, p.CollisionCount)
	b = append(b, p.PublicKey...)
	for i, e := range p.Extensions {
		if len(e.Data) > 0xffff {
			return nil, fmt.Errorf("cga: marshal extension %d: data length %d exceeds 65535", i, len(e.Data))
		}
		b = binary.BigEndian.AppendUint16(b, e.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b, nil
}

// ParseParameters decodes a CGA Parameters data structure that fills b
// exactly. The length of the public key is taken from its DER encoding
// (RFC 3972 §3: "The length of this field is determined by the ASN.1
// encoding"); whatever follows must be RFC 4581 extension fields. The key
// itself is not parsed here: Verify does that. The returned value does not
// alias b.
func ParseParameters(b []byte) (*Parameters, error) {
	keyEnd, nExt, err := scanParameters(b)
	if err != nil {
		return nil, err
	}
	p := &Parameters{}
	copy(p.Modifier[:], b[0:16])
	copy(p.SubnetPrefix[:], b[16:24])
	p.CollisionCount = b[24]
	p.PublicKey = append([]byte(nil), b[fixedLen:keyEnd]...)
	if nExt > 0 {
		// scanParameters has checked every header and length.
		p.Extensions = make([]Extension, 0, nExt)
		for rest := b[keyEnd:]; len(rest) > 0; {
			l := int(binary.BigEndian.Uint16(rest[2:]))
			p.Extensions = append(p.Extensions, Extension{Type: binary.BigEndian.Uint16(rest), Data: append([]byte(nil), rest[4:4+l]...)})
			rest = rest[4+l:]
		}
	}
	return p, nil
}

// scanParameters checks the layout of the CGA Parameters in b (RFC 3972 §3,
// RFC 4581 §2) without allocating. It returns the offset just past the
// public key and the number of extension fields.
func scanParameters(b []byte) (keyEnd, nExt int, err error) {
	if len(b) < fixedLen {
		return 0, 0, fmt.Errorf("%w: fixed fields: need %d octets, have %d: %w", ErrParse, fixedLen, len(b), io.ErrUnexpectedEOF)
	}
	rest := b[fixedLen:]
	n, err := der.SequenceLength(rest)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: public key at offset %d: %w", ErrParse, fixedLen, err)
	}
	rest = rest[n:]
	off := fixedLen + n
	for len(rest) > 0 {
		if len(rest) < 4 {
			return 0, 0, fmt.Errorf("%w: extension header at offset %d: need 4 octets, have %d: %w", ErrParse, off, len(rest), io.ErrUnexpectedEOF)
		}
		l := int(binary.BigEndian.Uint16(rest[2:]))
		if len(rest) < 4+l {
			return 0, 0, fmt.Errorf("%w: extension data at offset %d: length %d, have %d: %w", ErrParse, off+4, l, len(rest)-4, io.ErrUnexpectedEOF)
		}
		rest = rest[4+l:]
		off += 4 + l
		nExt++
	}
	return fixedLen + n, nExt, nil
}
