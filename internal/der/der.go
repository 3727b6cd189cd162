// Package der reads the one piece of DER that the wire packages need
// without parsing ASN.1: the total length of a SEQUENCE, so that a public
// key (CGA Parameters, Handover Key Request) or a certificate (Certificate
// option) can be delimited inside a field whose length is not encoded.
package der

import (
	"errors"
	"fmt"
	"io"
)

// ErrSequence is wrapped by every SequenceLength error.
var ErrSequence = errors.New("bad DER SEQUENCE header")

// maxBody bounds the declared length; no field of ND or MH comes close.
const maxBody = 1 << 24

// SequenceLength returns the total length, header included, of the DER
// SEQUENCE at the start of b. It fails if the header is not a
// definite-length SEQUENCE (X.690 §8.1.3, §10.1), declares more than 16 MiB,
// or b is shorter than the header claims (wrapping io.ErrUnexpectedEOF).
func SequenceLength(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: %w", ErrSequence, io.ErrUnexpectedEOF)
	}
	if b[0] != 0x30 {
		return 0, fmt.Errorf("%w: tag %#02x, want 0x30", ErrSequence, b[0])
	}
	var body, hdr int
	switch l := b[1]; {
	case l < 0x80:
		body, hdr = int(l), 2
	case l == 0x80:
		return 0, fmt.Errorf("%w: indefinite length", ErrSequence)
	case l > 0x84:
		return 0, fmt.Errorf("%w: %d length octets", ErrSequence, l&0x7f)
	default:
		k := int(l & 0x7f)
		if len(b) < 2+k {
			return 0, fmt.Errorf("%w: length octets: %w", ErrSequence, io.ErrUnexpectedEOF)
		}
		for _, c := range b[2 : 2+k] {
			body = body<<8 | int(c)
			if body > maxBody {
				return 0, fmt.Errorf("%w: length over 16 MiB", ErrSequence)
			}
		}
		hdr = 2 + k
	}
	if len(b)-hdr < body {
		return 0, fmt.Errorf("%w: SEQUENCE of %d octets, have %d: %w", ErrSequence, body, len(b)-hdr, io.ErrUnexpectedEOF)
	}
	return hdr + body, nil
}
