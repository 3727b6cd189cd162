package mip6tls

import (
	"encoding/binary"
	"io"
)

// RFC 6618 §5.1, Figure 3: the request-response message container.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Ver |  Rsrvd  | Identifier    | Length                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Content portion..                                             ~
const (
	// ContainerHeaderLen is the length of Ver, Rsrvd, Identifier and
	// Length, which the Length field excludes.
	ContainerHeaderLen = 4
	// MaxContentLen is the longest content portion (§5.1: "up to 65535
	// octets"; "Fragmentation of message containers is not supported").
	MaxContentLen = 65535
	// Version is the only protocol version (§5.1: "The current version is
	// 0").
	Version = 0
)

// Container is one request or response message container (RFC 6618 §5.1).
// Whether it is a request or a response is not on the wire: the peer that
// initiated the TLS connection (the MN) sends only requests.
type Container struct {
	// Identifier matches a request and its response, 1..255 (§5.1).
	Identifier uint8
	// Content is the content portion, 1..65535 octets (§5.1); it holds
	// TV-headers (§5.2, ParseTVHeaders).
	Content []byte
}

// ParseContainerHeader decodes the 4-octet header at the start of b and
// returns the Identifier and the content length that follows, so that a
// stream reader knows how many octets to read next. It checks Ver, Rsrvd,
// Identifier and Length as ParseContainer does.
func ParseContainerHeader(b []byte) (identifier uint8, contentLen int, err error) {
	if len(b) < ContainerHeaderLen {
		return 0, 0, parseErr(io.ErrUnexpectedEOF, "container header: %d octets, need %d", len(b), ContainerHeaderLen)
	}
	// §5.1: "The 3-bit Ver field identifies the protocol version."
	if v := b[0] >> 5; v != Version {
		return 0, 0, parseErr(ErrVersion, "container Ver = %d", v)
	}
	// §5.1: "The Rsrvd field MUST be set to a value of 0 (zero)".
	if r := b[0] & 0x1f; r != 0 {
		return 0, 0, parseErr(ErrReserved, "container Rsrvd = %#02x", r)
	}
	// §5.1: "The valid Identifier values are between 1-255. The value 0
	// MUST NOT be used."
	if b[1] == 0 {
		return 0, 0, parseErr(ErrIdentifier, "container Identifier")
	}
	// §5.1: "The Content portion length MUST always be at least one octet".
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n == 0 {
		return 0, 0, parseErr(ErrLength, "container Length = 0")
	}
	return b[1], n, nil
}

// ParseContainer decodes one whole container: b must hold exactly the
// header and the Length octets of content (a shorter b wraps
// io.ErrUnexpectedEOF, a longer one ErrLength). Content aliases b.
func ParseContainer(b []byte) (Container, error) {
	id, n, err := ParseContainerHeader(b)
	if err != nil {
		return Container{}, err
	}
	switch have := len(b) - ContainerHeaderLen; {
	case have < n:
		return Container{}, parseErr(io.ErrUnexpectedEOF, "container Length = %d, content has %d octets", n, have)
	case have > n:
		return Container{}, parseErr(ErrLength, "container Length = %d, %d octets follow", n, have)
	}
	return Container{Identifier: id, Content: b[ContainerHeaderLen:]}, nil
}

// MarshalContainer encodes c. It refuses what a receiver must refuse:
// Identifier 0 and a content portion that is empty or longer than
// MaxContentLen (§5.1: "one request or response at the 'application layer'
// MUST NOT exceed the maximum size allowed by the message container
// format").
func MarshalContainer(c Container) ([]byte, error) {
	if c.Identifier == 0 {
		return nil, marshalErr(ErrIdentifier, "container Identifier")
	}
	if len(c.Content) == 0 || len(c.Content) > MaxContentLen {
		return nil, marshalErr(ErrLength, "content portion of %d octets (1..%d)", len(c.Content), MaxContentLen)
	}
	b := make([]byte, ContainerHeaderLen, ContainerHeaderLen+len(c.Content))
	b[0] = Version << 5
	b[1] = c.Identifier
	binary.BigEndian.PutUint16(b[2:4], uint16(len(c.Content)))
	return append(b, c.Content...), nil
}
