package eap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Code is the Code field of an EAP packet (RFC 3748 §4).
type Code uint8

// Codes (RFC 3748 §4).
const (
	CodeRequest  Code = 1
	CodeResponse Code = 2
	CodeSuccess  Code = 3
	CodeFailure  Code = 4
)

func (c Code) String() string {
	switch c {
	case CodeRequest:
		return "Request"
	case CodeResponse:
		return "Response"
	case CodeSuccess:
		return "Success"
	case CodeFailure:
		return "Failure"
	}
	return fmt.Sprintf("Code(%d)", uint8(c))
}

// Type is the Type field of an EAP Request or Response (RFC 3748 §5).
type Type uint8

// Types this module handles (RFC 3748 §5, RFC 5216 §3.1).
const (
	TypeIdentity     Type = 1
	TypeNotification Type = 2
	TypeNak          Type = 3 // Legacy Nak, Response only
	TypeTLS          Type = 13
	TypeExpanded     Type = 254
)

func (t Type) String() string {
	switch t {
	case TypeIdentity:
		return "Identity"
	case TypeNotification:
		return "Notification"
	case TypeNak:
		return "Nak"
	case TypeTLS:
		return "EAP-TLS"
	case TypeExpanded:
		return "Expanded"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// headerLen is Code, Identifier and Length (RFC 3748 §4).
const headerLen = 4

// Packet is one EAP packet. Type and Data are those of a Request or a
// Response (Type-Data; for an Expanded Type, Vendor-Id onwards); a Success
// or a Failure has neither.
type Packet struct {
	Code       Code
	Identifier uint8
	Type       Type
	Data       []byte
}

// Parse parses the EAP packet b. Octets beyond its Length are ignored
// (RFC 3748 §4.1: "treated as Data Link Layer padding and MUST be ignored
// upon reception"); Data aliases b.
func Parse(b []byte) (Packet, error) {
	if len(b) < headerLen {
		return Packet{}, fmt.Errorf("%w: header: %d octets: %w", ErrParse, len(b), io.ErrUnexpectedEOF)
	}
	p := Packet{Code: Code(b[0]), Identifier: b[1]}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n > len(b) {
		return Packet{}, fmt.Errorf("%w: Length %d, %d octets received: %w", ErrParse, n, len(b), io.ErrUnexpectedEOF)
	}
	switch p.Code {
	case CodeRequest, CodeResponse:
		// RFC 3748 §4.1: a Request or Response has a Type octet.
		if n < headerLen+1 {
			return Packet{}, fmt.Errorf("%w: %s: Length %d, no Type", ErrParse, p.Code, n)
		}
		p.Type = Type(b[4])
		p.Data = b[headerLen+1 : n]
	case CodeSuccess, CodeFailure:
		// RFC 3748 §4.2: "Length ... 4".
		if n != headerLen {
			return Packet{}, fmt.Errorf("%w: %s: Length %d, want 4", ErrParse, p.Code, n)
		}
	default:
		// RFC 3748 §4: "EAP packets with unknown Codes MUST be silently discarded".
		return Packet{}, fmt.Errorf("%w: Code %d", ErrParse, p.Code)
	}
	return p, nil
}

// Len is the packet's Length.
func (p Packet) Len() int {
	if p.Code == CodeRequest || p.Code == CodeResponse {
		return headerLen + 1 + len(p.Data)
	}
	return headerLen
}

// Marshal returns the packet's wire form.
func (p Packet) Marshal() ([]byte, error) {
	switch p.Code {
	case CodeRequest, CodeResponse:
	case CodeSuccess, CodeFailure:
		if p.Type != 0 || len(p.Data) != 0 {
			return nil, fmt.Errorf("%w: %s with Type or Data", ErrParse, p.Code)
		}
	default:
		return nil, fmt.Errorf("%w: Code %d", ErrParse, p.Code)
	}
	n := p.Len()
	if n > math.MaxUint16 {
		return nil, fmt.Errorf("%w: Length %d", ErrTooLong, n)
	}
	b := make([]byte, n)
	b[0], b[1] = byte(p.Code), p.Identifier
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
	if n > headerLen {
		b[4] = byte(p.Type)
		copy(b[5:], p.Data)
	}
	return b, nil
}
