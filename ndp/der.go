package ndp

import (
	"errors"
	"fmt"
	"strings"
)

// errFQDN is wrapped by FQDN encoding errors.
var errFQDN = errors.New("bad FQDN")

// checkFQDN checks that name is a domain name in DNS wire format (RFC 1035
// §3.1: length-prefixed labels of at most 63 octets, 255 octets in all),
// uncompressed. The terminating root label may be omitted; nothing may follow
// it.
func checkFQDN(name []byte) error {
	if len(name) > 255 {
		return fmt.Errorf("%w: %d octets, the limit is 255", errFQDN, len(name))
	}
	for i := 0; i < len(name); {
		l := int(name[i])
		if l == 0 {
			if i != len(name)-1 {
				return fmt.Errorf("%w: %d octets after the root label at name offset %d", errFQDN, len(name)-i-1, i)
			}
			return nil
		}
		if l > 63 {
			return fmt.Errorf("%w: label length %#02x at name offset %d exceeds 63", errFQDN, l, i)
		}
		if i+1+l > len(name) {
			return fmt.Errorf("%w: label of %d octets at name offset %d runs past the end of the name", errFQDN, l, i)
		}
		i += 1 + l
	}
	return nil
}

// EncodeFQDN returns name ("trustanchor.example.com", with or without the
// final dot) in DNS wire format with its root label, as the Trust Anchor
// option's FQDN Name Type requires (RFC 3971 §6.4.3: "The name is stored as a
// string, in the DNS wire format, as specified in RFC 1034"). Only ASCII is
// accepted ("it can contain only ASCII characters").
func EncodeFQDN(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return []byte{0}, nil
	}
	out := make([]byte, 0, len(name)+2)
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return nil, fmt.Errorf("%w: %w: label %q must have 1 to 63 octets", ErrInvalid, errFQDN, label)
		}
		for i := 0; i < len(label); i++ {
			if label[i] >= 0x80 {
				return nil, fmt.Errorf("%w: %w: label %q is not ASCII", ErrInvalid, errFQDN, label)
			}
		}
		out = append(out, byte(len(label)))
		out = append(out, label...)
	}
	out = append(out, 0)
	if len(out) > 255 {
		return nil, fmt.Errorf("%w: %w: %d octets, the limit is 255", ErrInvalid, errFQDN, len(out))
	}
	return out, nil
}

// DecodeFQDN returns the dotted form of a domain name in DNS wire format, as
// carried by a Trust Anchor option of Name Type 2 (RFC 3971 §6.4.3). The root
// is returned as ".".
func DecodeFQDN(wire []byte) (string, error) {
	if err := checkFQDN(wire); err != nil {
		return "", fmt.Errorf("%w: %w", ErrParse, err)
	}
	var sb strings.Builder
	for i := 0; i < len(wire) && wire[i] != 0; i += 1 + int(wire[i]) {
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(wire[i+1 : i+1+int(wire[i])])
	}
	if sb.Len() == 0 {
		return ".", nil
	}
	return sb.String(), nil
}
