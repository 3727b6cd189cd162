package mh

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
)

// MH Type values assigned by IANA (shared/specs/CODEPOINTS.md §3). The
// draft's HKReq and HKResp types are in Codepoints.
const (
	TypeBindingRefreshRequest     uint8 = 0  // RFC 6275 §6.1.2
	TypeBindingUpdate             uint8 = 5  // RFC 6275 §6.1.7
	TypeBindingAcknowledgement    uint8 = 6  // RFC 6275 §6.1.8
	TypeFastBindingUpdate         uint8 = 8  // RFC 5568 §6.2.2
	TypeFastBindingAcknowledgment uint8 = 9  // RFC 5568 §6.2.3
	TypeHandoverInitiate          uint8 = 14 // RFC 5568 §6.2.1.1
	TypeHandoverAcknowledge       uint8 = 15 // RFC 5568 §6.2.1.2
)

// Status and code values.
const (
	// Binding Acknowledgement Status (RFC 6275 §6.1.8; RFC 4285 §8).
	StatusBindingUpdateAccepted uint8 = 0
	StatusReasonUnspecified     uint8 = 128
	StatusMIPv6AuthFail         uint8 = 146

	// Fast Binding Acknowledgment Status (RFC 5568 §6.2.3).
	FastStatusAccepted                           uint8 = 0
	FastStatusAcceptedNCoAInvalid                uint8 = 1
	FastStatusReasonUnspecified                  uint8 = 128
	FastStatusAdministrativelyProhibited         uint8 = 129
	FastStatusInsufficientResources              uint8 = 130
	FastStatusIncorrectInterfaceIdentifierLength uint8 = 131

	// Handover Initiate Code (RFC 5568 §6.2.1.1).
	HandoverInitiateCodeFromPCoA    uint8 = 0
	HandoverInitiateCodeNotFromPCoA uint8 = 1

	// Handover Acknowledge Code (RFC 5568 §6.2.1.2).
	HandoverAckNCoAValid                  uint8 = 0
	HandoverAckNCoANotValid               uint8 = 1
	HandoverAckNCoAAssigned               uint8 = 2
	HandoverAckUsePCoA                    uint8 = 3
	HandoverAckUnsolicited                uint8 = 4
	HandoverAckNotAccepted                uint8 = 128
	HandoverAckAdministrativelyProhibited uint8 = 129
	HandoverAckInsufficientResources      uint8 = 130

	// PRFHMACSHA1 is the PRF value for HMAC-SHA1 (draft §5.1.1).
	PRFHMACSHA1 uint8 = 1
	// PRFHMACSHA256 (HMAC-SHA-256) is an fhkey extension, not in the
	// draft (docs/aaa.md).
	PRFHMACSHA256 uint8 = 2

	// Handover Key Response Status Code (draft §5.1.2).
	HandoverKeyStatusSuccess                    uint16 = 0
	HandoverKeyStatusCoAAuthFailed              uint16 = 130
	HandoverKeyStatusAdministrativelyProhibited uint16 = 131
	HandoverKeyStatusTimestampRequired          uint16 = 135
	HandoverKeyStatusInvalidPRFAlgorithm        uint16 = 136
	HandoverKeyStatusInvalidMACAlgorithm        uint16 = 137
	HandoverKeyStatusInvalidTimestamp           uint16 = 138
)

const (
	headerLen    = 6    // Payload Proto, Header Len, MH Type, Reserved, Checksum
	checksumOff  = 4    // offset of the Checksum field
	maxMHLen     = 2048 // (255+1)*8
	maxPRF       = 7
	bindingFixed = 6 // Sequence, flags, Lifetime (BU/FBU) or Status, K, Sequence, Lifetime (BA/FBack)
)

// A Message is the Message Data of one Mobility Header message. The
// concrete types are the structs of this package; RawMessage carries any
// other MH Type.
type Message interface {
	mhType(cp Codepoints) uint8
	// fixedLen is the length of the message data before the options.
	fixedLen() int
	appendFixed(b []byte) ([]byte, error)
	mobilityOptions() []Option
}

// BindingRefreshRequest is MH Type 0 (RFC 6275 §6.1.2).
type BindingRefreshRequest struct {
	Options []Option
}

// BindingUpdate is MH Type 5 (RFC 6275 §6.1.7). Lifetime is carried in
// units of 4 seconds; zero deletes the binding.
type BindingUpdate struct {
	Sequence               uint16
	Acknowledge            bool // A
	HomeRegistration       bool // H
	LinkLocalCompatibility bool // L
	KeyManagement          bool // K
	Lifetime               time.Duration
	Options                []Option
}

// BindingAcknowledgement is MH Type 6 (RFC 6275 §6.1.8). Lifetime is
// carried in units of 4 seconds.
type BindingAcknowledgement struct {
	Status        uint8
	KeyManagement bool // K
	Sequence      uint16
	Lifetime      time.Duration
	Options       []Option
}

// FastBindingUpdate is MH Type 8 (RFC 5568 §6.2.2), laid out as a Binding
// Update. RFC 5568 defines its Lifetime as "the requested time in seconds",
// so it is carried in units of 1 second (RFC 4068 and Wireshark use the
// Binding Update's 4-second unit). A and H "MUST be set to one"; that is
// left to the sender's logic, not enforced here.
type FastBindingUpdate struct {
	Sequence               uint16
	Acknowledge            bool // A
	HomeRegistration       bool // H
	LinkLocalCompatibility bool // L
	KeyManagement          bool // K
	Lifetime               time.Duration
	Options                []Option
}

// FastBindingAcknowledgment is MH Type 9 (RFC 5568 §6.2.3), laid out as a
// Binding Acknowledgement; Lifetime is "the granted lifetime in seconds".
type FastBindingAcknowledgment struct {
	Status        uint8
	KeyManagement bool // K
	Sequence      uint16
	Lifetime      time.Duration
	Options       []Option
}

// HandoverInitiate is MH Type 14 (RFC 5568 §6.2.1.1).
type HandoverInitiate struct {
	Sequence        uint16
	AssignedAddress bool  // S: requests a new CoA from the destination
	Buffer          bool  // U: the destination SHOULD buffer packets
	Code            uint8 // 0 or 1
	Options         []Option
}

// HandoverAcknowledge is MH Type 15 (RFC 5568 §6.2.1.2).
type HandoverAcknowledge struct {
	Sequence uint16
	Code     uint8
	Options  []Option
}

// HandoverKeyRequest is the HKReq of draft §5.1.1 (MH Type
// Codepoints.HandoverKeyRequest): Message ID, V flag, 3-bit PRF and the
// Key Care of Address ("SHOULD be set to NULL", ::, for indirect refreshes,
// draft §6.5).
type HandoverKeyRequest struct {
	MessageID        uint8
	Verify           bool  // V
	PRF              uint8 // 0-7; 1 = HMAC-SHA1
	KeyCareOfAddress netip.Addr
	Options          []Option
}

// HandoverKeyResponse is the HKResp of draft §5.1.2 (MH Type
// Codepoints.HandoverKeyResponse). The draft's text calls the Status Code
// "one octet" while its figure gives it 16 bits; the figure fixes the
// layout, so Status is the 16-bit field at offset 8 and the draft's values
// (0, 130-138) appear in its low octet. Lifetime is in seconds.
type HandoverKeyResponse struct {
	MessageID uint8
	Verified  bool  // V
	PRF       uint8 // 0-7
	Status    uint16
	Lifetime  time.Duration
	SPI       uint32
	Options   []Option
}

// RawMessage is a message of an MH Type this package does not decode. Data
// is the Message Data after the Checksum field, options included.
type RawMessage struct {
	Type uint8
	Data []byte
}

func (BindingRefreshRequest) mhType(Codepoints) uint8         { return TypeBindingRefreshRequest }
func (BindingUpdate) mhType(Codepoints) uint8                 { return TypeBindingUpdate }
func (BindingAcknowledgement) mhType(Codepoints) uint8        { return TypeBindingAcknowledgement }
func (FastBindingUpdate) mhType(Codepoints) uint8             { return TypeFastBindingUpdate }
func (FastBindingAcknowledgment) mhType(Codepoints) uint8     { return TypeFastBindingAcknowledgment }
func (HandoverInitiate) mhType(Codepoints) uint8              { return TypeHandoverInitiate }
func (HandoverAcknowledge) mhType(Codepoints) uint8           { return TypeHandoverAcknowledge }
func (HandoverKeyRequest) mhType(cp Codepoints) uint8         { return cp.HandoverKeyRequest }
func (HandoverKeyResponse) mhType(cp Codepoints) uint8        { return cp.HandoverKeyResponse }
func (m RawMessage) mhType(Codepoints) uint8                  { return m.Type }
func (m BindingRefreshRequest) mobilityOptions() []Option     { return m.Options }
func (m BindingUpdate) mobilityOptions() []Option             { return m.Options }
func (m BindingAcknowledgement) mobilityOptions() []Option    { return m.Options }
func (m FastBindingUpdate) mobilityOptions() []Option         { return m.Options }
func (m FastBindingAcknowledgment) mobilityOptions() []Option { return m.Options }
func (m HandoverInitiate) mobilityOptions() []Option          { return m.Options }
func (m HandoverAcknowledge) mobilityOptions() []Option       { return m.Options }
func (m HandoverKeyRequest) mobilityOptions() []Option        { return m.Options }
func (m HandoverKeyResponse) mobilityOptions() []Option       { return m.Options }
func (RawMessage) mobilityOptions() []Option                  { return nil }

// fixedLen returns the octets of Message Data before the options.
func (BindingRefreshRequest) fixedLen() int     { return 2 }
func (BindingUpdate) fixedLen() int             { return bindingFixed }
func (BindingAcknowledgement) fixedLen() int    { return bindingFixed }
func (FastBindingUpdate) fixedLen() int         { return bindingFixed }
func (FastBindingAcknowledgment) fixedLen() int { return bindingFixed }
func (HandoverInitiate) fixedLen() int          { return 4 }
func (HandoverAcknowledge) fixedLen() int       { return 4 }
func (HandoverKeyRequest) fixedLen() int        { return 2 + ipv6Len }
func (HandoverKeyResponse) fixedLen() int       { return 10 }
func (m RawMessage) fixedLen() int              { return len(m.Data) }

// fixedLenOf returns the fixed Message Data length of MH type t, or -1.
func (cp *Codepoints) fixedLenOf(t uint8) int {
	switch t {
	case TypeBindingRefreshRequest:
		return BindingRefreshRequest{}.fixedLen()
	case TypeBindingUpdate, TypeBindingAcknowledgement, TypeFastBindingUpdate, TypeFastBindingAcknowledgment:
		return bindingFixed
	case TypeHandoverInitiate, TypeHandoverAcknowledge:
		return HandoverInitiate{}.fixedLen()
	case cp.HandoverKeyRequest:
		return HandoverKeyRequest{}.fixedLen()
	case cp.HandoverKeyResponse:
		return HandoverKeyResponse{}.fixedLen()
	}
	return -1
}

const (
	flagA = 0x80
	flagH = 0x40
	flagL = 0x20
	flagK = 0x10
)

func bit(v bool, m uint8) uint8 {
	if v {
		return m
	}
	return 0
}

func (BindingRefreshRequest) appendFixed(b []byte) ([]byte, error) { return append(b, 0, 0), nil }

func appendUpdate(b []byte, seq uint16, a, h, l, k bool, life, unit time.Duration, name string) ([]byte, error) {
	v, err := units(life, unit, name, "Lifetime")
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, seq)
	b = append(b, bit(a, flagA)|bit(h, flagH)|bit(l, flagL)|bit(k, flagK), 0)
	return binary.BigEndian.AppendUint16(b, v), nil
}

func appendAck(b []byte, status uint8, k bool, seq uint16, life, unit time.Duration, name string) ([]byte, error) {
	v, err := units(life, unit, name, "Lifetime")
	if err != nil {
		return nil, err
	}
	b = append(b, status, bit(k, 0x80))
	b = binary.BigEndian.AppendUint16(b, seq)
	return binary.BigEndian.AppendUint16(b, v), nil
}

func (m BindingUpdate) appendFixed(b []byte) ([]byte, error) {
	return appendUpdate(b, m.Sequence, m.Acknowledge, m.HomeRegistration, m.LinkLocalCompatibility,
		m.KeyManagement, m.Lifetime, lifetimeUnit, "Binding Update")
}

func (m FastBindingUpdate) appendFixed(b []byte) ([]byte, error) {
	return appendUpdate(b, m.Sequence, m.Acknowledge, m.HomeRegistration, m.LinkLocalCompatibility,
		m.KeyManagement, m.Lifetime, time.Second, "Fast Binding Update")
}

func (m BindingAcknowledgement) appendFixed(b []byte) ([]byte, error) {
	return appendAck(b, m.Status, m.KeyManagement, m.Sequence, m.Lifetime, lifetimeUnit, "Binding Acknowledgement")
}

func (m FastBindingAcknowledgment) appendFixed(b []byte) ([]byte, error) {
	return appendAck(b, m.Status, m.KeyManagement, m.Sequence, m.Lifetime, time.Second, "Fast Binding Acknowledgment")
}

func (m HandoverInitiate) appendFixed(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, m.Sequence)
	return append(b, bit(m.AssignedAddress, 0x80)|bit(m.Buffer, 0x40), m.Code), nil
}

func (m HandoverAcknowledge) appendFixed(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, m.Sequence)
	return append(b, 0, m.Code), nil
}

func flagsPRF(v bool, prf uint8, name string) (uint8, error) {
	if prf > maxPRF {
		return 0, marshalErr("%s: PRF %d does not fit 3 bits: %w", name, prf, ErrValue)
	}
	return bit(v, 0x80) | prf<<4, nil
}

func (m HandoverKeyRequest) appendFixed(b []byte) ([]byte, error) {
	f, err := flagsPRF(m.Verify, m.PRF, "Handover Key Request")
	if err != nil {
		return nil, err
	}
	return appendAddr(append(b, m.MessageID, f), m.KeyCareOfAddress, "Handover Key Request: Key Care of Address")
}

func (m HandoverKeyResponse) appendFixed(b []byte) ([]byte, error) {
	f, err := flagsPRF(m.Verified, m.PRF, "Handover Key Response")
	if err != nil {
		return nil, err
	}
	v, err := units(m.Lifetime, time.Second, "Handover Key Response", "Lifetime")
	if err != nil {
		return nil, err
	}
	b = append(b, m.MessageID, f)
	b = binary.BigEndian.AppendUint16(b, m.Status)
	b = binary.BigEndian.AppendUint16(b, v)
	return binary.BigEndian.AppendUint32(b, m.SPI), nil
}

func (m RawMessage) appendFixed(b []byte) ([]byte, error) { return append(b, m.Data...), nil }

// ParseMessage decodes one Mobility Header with the default codepoints.
func ParseMessage(b []byte) (Message, error) { return Codepoints{}.ParseMessage(b) }

// MarshalMessage encodes m with the default codepoints.
func MarshalMessage(m Message) ([]byte, error) { return Codepoints{}.MarshalMessage(m) }

// ParseMessage decodes the Mobility Header b (RFC 6275 §6.1.1), which must
// hold exactly the Header Len octets. It enforces the receiver checks of
// RFC 6275 §9.2 that need no state: Payload Proto MUST be 59 (ErrPayloadProto)
// and Header Len MUST NOT be less than the message's fixed part
// (ErrHeaderLen). The checksum is not checked: use VerifyChecksum with the
// packet's addresses. Reserved fields are ignored. An unknown MH Type gives
// a RawMessage. The result does not alias b.
func (cp Codepoints) ParseMessage(b []byte) (Message, error) {
	r := cp.resolved()
	typ, total, fixed, err := r.frameMessage(b)
	if err != nil {
		return nil, err
	}
	if fixed < 0 {
		return RawMessage{Type: typ, Data: bytes.Clone(b[headerLen:total])}, nil
	}
	d := b[headerLen : headerLen+fixed]
	opts, err := r.parseOptions(b[headerLen+fixed:total], headerLen+fixed)
	if err != nil {
		return nil, fmt.Errorf("MH Type %d: %w", typ, err)
	}
	u16 := binary.BigEndian.Uint16
	switch typ {
	case TypeBindingRefreshRequest:
		return BindingRefreshRequest{Options: opts}, nil
	case TypeBindingUpdate:
		return BindingUpdate{Sequence: u16(d), Acknowledge: d[2]&flagA != 0, HomeRegistration: d[2]&flagH != 0,
			LinkLocalCompatibility: d[2]&flagL != 0, KeyManagement: d[2]&flagK != 0,
			Lifetime: time.Duration(u16(d[4:])) * lifetimeUnit, Options: opts}, nil
	case TypeFastBindingUpdate:
		m := fastBindingUpdateFixed(d)
		m.Options = opts
		return m, nil
	case TypeBindingAcknowledgement:
		return BindingAcknowledgement{Status: d[0], KeyManagement: d[1]&0x80 != 0, Sequence: u16(d[2:]),
			Lifetime: time.Duration(u16(d[4:])) * lifetimeUnit, Options: opts}, nil
	case TypeFastBindingAcknowledgment:
		return FastBindingAcknowledgment{Status: d[0], KeyManagement: d[1]&0x80 != 0, Sequence: u16(d[2:]),
			Lifetime: time.Duration(u16(d[4:])) * time.Second, Options: opts}, nil
	case TypeHandoverInitiate:
		return HandoverInitiate{Sequence: u16(d), AssignedAddress: d[2]&0x80 != 0, Buffer: d[2]&0x40 != 0,
			Code: d[3], Options: opts}, nil
	case TypeHandoverAcknowledge:
		return HandoverAcknowledge{Sequence: u16(d), Code: d[3], Options: opts}, nil
	case r.HandoverKeyRequest:
		m := handoverKeyRequestFixed(d)
		m.Options = opts
		return m, nil
	default: // r.HandoverKeyResponse
		return HandoverKeyResponse{MessageID: d[0], Verified: d[1]&0x80 != 0, PRF: d[1] >> 4 & maxPRF,
			Status: u16(d[2:]), Lifetime: time.Duration(u16(d[4:])) * time.Second,
			SPI: binary.BigEndian.Uint32(d[6:]), Options: opts}, nil
	}
}

// frameMessage validates cp (resolved) and the framing of b, and returns
// its MH Type, its length and the length of its fixed part: -1 for an MH
// Type this package does not decode.
func (cp *Codepoints) frameMessage(b []byte) (typ uint8, total, fixed int, err error) {
	if err := cp.Validate(); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %w", ErrParse, err)
	}
	if total, err = frame(b); err != nil {
		return 0, 0, 0, err
	}
	typ = b[2]
	fixed = cp.fixedLenOf(typ)
	if fixed >= 0 && headerLen+fixed > total {
		return 0, 0, 0, parseErr("MH Type %d: Header Len %d is less than the %d octets of the message: %w",
			typ, b[1], headerLen+fixed, ErrHeaderLen)
	}
	return typ, total, fixed, nil
}

// fastBindingUpdateFixed decodes the fixed part of a Fast Binding Update.
func fastBindingUpdateFixed(d []byte) FastBindingUpdate {
	u16 := binary.BigEndian.Uint16
	return FastBindingUpdate{Sequence: u16(d), Acknowledge: d[2]&flagA != 0, HomeRegistration: d[2]&flagH != 0,
		LinkLocalCompatibility: d[2]&flagL != 0, KeyManagement: d[2]&flagK != 0,
		Lifetime: time.Duration(u16(d[4:])) * time.Second}
}

// handoverKeyRequestFixed decodes the fixed part of an HKReq (draft
// §5.1.1): Message ID, V, PRF, Key Care of Address.
func handoverKeyRequestFixed(d []byte) HandoverKeyRequest {
	return HandoverKeyRequest{MessageID: d[0], Verify: d[1]&0x80 != 0, PRF: d[1] >> 4 & maxPRF,
		KeyCareOfAddress: netip.AddrFrom16([16]byte(d[2:]))}
}

// FastBindingUpdateView is what an access router needs of a received Fast
// Binding Update (RFC 5568 §6.2.2): its fixed fields, the Alternate
// Care-of Address and whether it carries a BADF option (RFC 5568 §6.4.5).
// ParseFastBindingUpdate fills it without allocating.
type FastBindingUpdateView struct {
	// FastBindingUpdate holds the fixed fields; its Options are nil.
	FastBindingUpdate
	// AlternateCareOfAddress is the address of the last Alternate Care-of
	// Address option (RFC 6275 §6.2.5), the zero Addr when there is none.
	AlternateCareOfAddress netip.Addr
	// BADF reports that a BADF option is present; it is then the last
	// option. CoveredByBADF locates it.
	BADF bool
}

// ParseFastBindingUpdate decodes a Fast Binding Update with the default
// codepoints; see Codepoints.ParseFastBindingUpdate.
func ParseFastBindingUpdate(b []byte) (FastBindingUpdateView, error) {
	return Codepoints{}.ParseFastBindingUpdate(b)
}

// ParseFastBindingUpdate is ParseMessage for a Fast Binding Update (MH
// Type 8) that keeps only the fields of FastBindingUpdateView, and so does
// not allocate when b is valid. It accepts and rejects exactly the inputs
// ParseMessage does for MH Type 8, with the same errors; another MH Type is
// an error wrapping ErrParse and ErrValue. Nothing in the result aliases b.
func (cp Codepoints) ParseFastBindingUpdate(b []byte) (FastBindingUpdateView, error) {
	r := cp.resolved()
	typ, total, fixed, err := r.frameMessage(b)
	if err != nil {
		return FastBindingUpdateView{}, err
	}
	if typ != TypeFastBindingUpdate {
		return FastBindingUpdateView{}, parseErr("MH Type %d is not a Fast Binding Update (%d): %w", typ, TypeFastBindingUpdate, ErrValue)
	}
	v := FastBindingUpdateView{FastBindingUpdate: fastBindingUpdateFixed(b[headerLen : headerLen+fixed])}
	err = r.walkOptions(b[headerLen+fixed:total], headerLen+fixed, func(typ uint8, d []byte) {
		switch typ {
		case OptionTypeAlternateCareOfAddress:
			v.AlternateCareOfAddress = netip.AddrFrom16([16]byte(d))
		case OptionTypeBADF:
			v.BADF = true
		}
	})
	if err != nil {
		return FastBindingUpdateView{}, fmt.Errorf("MH Type %d: %w", typ, err)
	}
	return v, nil
}

// frame checks the framing of RFC 6275 §6.1.1 and returns the length.
func frame(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, parseErr("%d octets, no Header Len: %w", len(b), io.ErrUnexpectedEOF)
	}
	if b[0] != inet.ProtocolNone {
		return 0, parseErr("Payload Proto %d at offset 0: %w", b[0], ErrPayloadProto)
	}
	total := (int(b[1]) + 1) * 8
	if len(b) < total {
		return 0, parseErr("Header Len %d at offset 1 gives %d octets, have %d: %w", b[1], total, len(b), io.ErrUnexpectedEOF)
	}
	if len(b) > total {
		return 0, parseErr("Header Len %d at offset 1 gives %d octets, have %d (not a multiple of 8 or trailing data): %w",
			b[1], total, len(b), ErrHeaderLen)
	}
	return total, nil
}

// MarshalMessage encodes m as a complete Mobility Header with Payload Proto
// 59, Header Len set, padding inserted as MarshalOptions describes, and a
// zero Checksum: fill it with SetChecksum once the addresses are known
// (and after WriteAuthenticator, if the message carries an authenticator).
func (cp Codepoints) MarshalMessage(m Message) ([]byte, error) {
	return cp.AppendMessage(nil, m)
}

// AppendMessage is MarshalMessage appending to dst.
func (cp Codepoints) AppendMessage(dst []byte, m Message) ([]byte, error) {
	r := cp.resolved()
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMarshal, err)
	}
	if m == nil {
		return nil, marshalErr("nil message: %w", ErrValue)
	}
	start := len(dst)
	opts := m.mobilityOptions()
	if dst == nil {
		dst = make([]byte, 0, headerLen+m.fixedLen()+optionsLen(opts)+16)
	}
	typ := m.mhType(r)
	b := append(dst, inet.ProtocolNone, 0, typ, 0, 0, 0)
	b, err := m.appendFixed(b)
	if err != nil {
		return nil, err
	}
	if _, raw := m.(RawMessage); !raw {
		if b, err = r.appendOptions(b, opts, len(b)-start); err != nil {
			return nil, fmt.Errorf("MH Type %d: %w", typ, err)
		}
	}
	n := len(b) - start
	if n%8 != 0 {
		return nil, marshalErr("raw MH Type %d: length %d is not a multiple of 8: %w", typ, n, ErrValue)
	}
	if n > maxMHLen {
		return nil, marshalErr("MH Type %d: length %d exceeds %d: %w", typ, n, maxMHLen, ErrValue)
	}
	b[start+1] = uint8(n/8 - 1)
	return b, nil
}

// Checksum returns the Mobility Header checksum of b (RFC 6275 §6.1.1):
// the Internet checksum over the IPv6 pseudo-header with next header 135
// and the whole Mobility Header, with the Checksum field taken as zero. src
// and dst are the packet's addresses (RFC 6275 §6.1.1: the home address when
// a Home Address option is present). b is not modified.
func Checksum(b []byte, src, dst netip.Addr) uint16 {
	c := inet.Checksum(src, dst, inet.ProtocolMobility, b)
	if len(b) < checksumOff+2 {
		return c
	}
	field := binary.BigEndian.Uint16(b[checksumOff:])
	if field == 0 {
		return c
	}
	// inet.Checksum summed the field in; take it out again in one's
	// complement arithmetic: sum' = sum + ^field.
	sum := uint32(^c) + uint32(^field)
	sum = sum>>16 + sum&0xffff
	return ^uint16(sum)
}

// SetChecksum writes the checksum of b into its Checksum field.
func SetChecksum(b []byte, src, dst netip.Addr) error {
	if len(b) < headerLen {
		return marshalErr("%d octets, no Checksum field: %w", len(b), io.ErrUnexpectedEOF)
	}
	binary.BigEndian.PutUint16(b[checksumOff:], Checksum(b, src, dst))
	return nil
}

// VerifyChecksum checks the Checksum field of a received Mobility Header;
// RFC 6275 §9.2: if it is invalid, "the node MUST silently discard the
// message". The error wraps ErrParse and ErrChecksum.
func VerifyChecksum(b []byte, src, dst netip.Addr) error {
	if len(b) < headerLen {
		return parseErr("%d octets, no Checksum field: %w", len(b), io.ErrUnexpectedEOF)
	}
	// The one's complement sum over the packet including its checksum is
	// all ones, whichever representation of zero the sender used.
	if inet.Checksum(src, dst, inet.ProtocolMobility, b) != 0 {
		return parseErr("Checksum %#04x at offset 4, want %#04x: %w",
			binary.BigEndian.Uint16(b[checksumOff:]), Checksum(b, src, dst), ErrChecksum)
	}
	return nil
}
