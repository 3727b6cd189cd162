package netio

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// ErrParse is wrapped by every error of ParseDestinationOptions.
var ErrParse = errors.New("netio: parse error")

// ErrUnsupportedPlatform is returned by the raw-socket transports and the
// namespace helpers on systems other than Linux.
var ErrUnsupportedPlatform = errors.New("netio: raw sockets are only supported on Linux")

// Destination Options header constants (RFC 8200 §4.2, §4.6; RFC 6275 §6.3).
const (
	// OptionPad1 is the one-octet padding option (RFC 8200 §4.2).
	OptionPad1 = 0
	// OptionPadN is the multi-octet padding option (RFC 8200 §4.2).
	OptionPadN = 1
	// OptionHomeAddress is the Home Address destination option type,
	// 201 = 0xC9 (RFC 6275 §6.3).
	OptionHomeAddress = 201
	// homeAddressOptionLength is the Option Length of the Home Address
	// option: "This field MUST be set to 16." (RFC 6275 §6.3)
	homeAddressOptionLength = 16
	// HomeAddressHeaderLen is the length in octets of the Destination
	// Options header built by AppendHomeAddressHeader: Next Header, Hdr
	// Ext Len, PadN(2), Home Address option (18 octets).
	HomeAddressHeaderLen = 24
)

// DestinationOptions is what the transports need from a received
// Destination Options header (RFC 8200 §4.6).
type DestinationOptions struct {
	// NextHeader is the protocol of the header that follows.
	NextHeader uint8
	// Len is the length of the header in octets, (Hdr Ext Len + 1) * 8.
	Len int
	// HomeAddress is the address of the Home Address option (RFC 6275
	// §6.3), invalid when the header has none.
	HomeAddress netip.Addr
}

// AppendHomeAddressHeader appends to b a Destination Options header that
// carries exactly one Home Address option (RFC 6275 §6.3) and returns the
// extended slice. The option is preceded by a PadN option so that it
// meets its alignment requirement: "The alignment requirement [6] for the
// Home Address option is 8n + 6." The header is 24 octets (Hdr Ext Len 2).
// nextHeader is written as given; when the header is handed to the kernel
// as IPV6_DSTOPTS ancillary data the kernel overwrites it.
func AppendHomeAddressHeader(b []byte, nextHeader uint8, home netip.Addr) ([]byte, error) {
	// "This address MUST be a unicast routable address." (RFC 6275 §6.3)
	if err := checkHomeAddress(home); err != nil {
		return b, fmt.Errorf("netio: home address option: %w", err)
	}
	a := home.As16()
	b = append(b,
		nextHeader,
		HomeAddressHeaderLen/8-1, // Hdr Ext Len, 8-octet units not counting the first 8
		OptionPadN, 2, 0, 0,      // PadN: the Home Address option starts at offset 6 = 8n+6
		OptionHomeAddress, homeAddressOptionLength,
	)
	return append(b, a[:]...), nil
}

func checkHomeAddress(a netip.Addr) error {
	if !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return fmt.Errorf("home address %v is not a routable IPv6 unicast address", a)
	}
	return nil
}

// ParseDestinationOptions parses the Destination Options header at the
// start of b (RFC 8200 §4.6) and returns its Next Header, length and Home
// Address option. Options are walked as RFC 8200 §4.2 prescribes: Pad1
// and PadN are skipped, an unrecognised option whose type has the two
// high-order bits 00 is skipped, any other unrecognised option makes the
// packet one to discard (an error here). A Home Address option must have
// Option Length 16 and a unicast address, and must not appear twice
// (RFC 6275 §6.3: "the Home Address option MUST NOT appear more than
// once"). Its 8n+6 alignment is not checked on receipt.
func ParseDestinationOptions(b []byte) (DestinationOptions, error) {
	var d DestinationOptions
	if len(b) < 2 {
		return d, fmt.Errorf("%w: destination options: header at offset 0: %w", ErrParse, io.ErrUnexpectedEOF)
	}
	d.NextHeader = b[0]
	d.Len = (int(b[1]) + 1) * 8
	if len(b) < d.Len {
		return d, fmt.Errorf("%w: destination options: hdr ext len %d needs %d octets, have %d: %w", ErrParse, b[1], d.Len, len(b), io.ErrUnexpectedEOF)
	}
	opts := b[:d.Len]
	for off := 2; off < len(opts); {
		typ := opts[off]
		if typ == OptionPad1 {
			off++
			continue
		}
		if off+2 > len(opts) {
			return d, fmt.Errorf("%w: destination options: option type %d at offset %d: length: %w", ErrParse, typ, off, io.ErrUnexpectedEOF)
		}
		n := int(opts[off+1])
		end := off + 2 + n
		if end > len(opts) {
			return d, fmt.Errorf("%w: destination options: option type %d at offset %d: length %d: %w", ErrParse, typ, off, n, io.ErrUnexpectedEOF)
		}
		switch {
		case typ == OptionPadN:
		case typ == OptionHomeAddress:
			if d.HomeAddress.IsValid() {
				return d, fmt.Errorf("%w: destination options: home address option at offset %d: appears twice", ErrParse, off)
			}
			if n != homeAddressOptionLength {
				return d, fmt.Errorf("%w: destination options: home address option at offset %d: option length %d, want 16", ErrParse, off, n)
			}
			a := netip.AddrFrom16([16]byte(opts[off+2 : end]))
			if err := checkHomeAddress(a); err != nil {
				return d, fmt.Errorf("%w: destination options: home address option at offset %d: %w", ErrParse, off, err)
			}
			d.HomeAddress = a
		case typ>>6 != 0:
			// RFC 8200 §4.2: 01, 10, 11 — discard the packet.
			return d, fmt.Errorf("%w: destination options: unrecognised option type %d at offset %d requires discarding the packet", ErrParse, typ, off)
		}
		off = end
	}
	return d, nil
}
