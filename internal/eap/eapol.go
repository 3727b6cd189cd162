package eap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// EtherTypeEAPOL is the EtherType of EAPOL frames, the PAE EtherType of
// IEEE 802.1X-2010 §11.1.4 (Table 11-2).
const EtherTypeEAPOL = 0x888E

// PAEGroupAddress is the destination MAC address of EAPOL frames on a
// point-to-point LAN, the Port Access Entity group address
// 01-80-C2-00-00-03 (IEEE 802.1X-2010 §11.1.1, Table 11-1). Go has no
// array constants; the array is a value, so callers get a copy.
var PAEGroupAddress = [6]byte{0x01, 0x80, 0xC2, 0x00, 0x00, 0x03}

// EAPOLVersion is the Protocol Version of an EAPOL PDU (IEEE 802.1X-2010
// §11.3.1): 1 (802.1X-2001), 2 (802.1X-2004), 3 (802.1X-2010).
type EAPOLVersion uint8

// Protocol Versions (IEEE 802.1X-2010 §11.3.1).
const (
	EAPOLVersion2001 EAPOLVersion = 1
	EAPOLVersion2004 EAPOLVersion = 2
	EAPOLVersion2010 EAPOLVersion = 3
)

// EAPOLType is the Packet Type of an EAPOL PDU (IEEE 802.1X-2010 §11.3.2,
// Table 11-3).
type EAPOLType uint8

// Packet Types (IEEE 802.1X-2010 Table 11-3). Others are kept as they are,
// their body raw.
const (
	EAPOLEAPPacket            EAPOLType = 0
	EAPOLStart                EAPOLType = 1
	EAPOLLogoff               EAPOLType = 2
	EAPOLKey                  EAPOLType = 3
	EAPOLEncapsulatedASFAlert EAPOLType = 4
	EAPOLMKA                  EAPOLType = 5
	EAPOLAnnouncementGeneric  EAPOLType = 6
	EAPOLAnnouncementSpecific EAPOLType = 7
	EAPOLAnnouncementReq      EAPOLType = 8
)

func (t EAPOLType) String() string {
	switch t {
	case EAPOLEAPPacket:
		return "EAPOL-EAP"
	case EAPOLStart:
		return "EAPOL-Start"
	case EAPOLLogoff:
		return "EAPOL-Logoff"
	case EAPOLKey:
		return "EAPOL-Key"
	case EAPOLEncapsulatedASFAlert:
		return "EAPOL-Encapsulated-ASF-Alert"
	case EAPOLMKA:
		return "EAPOL-MKA"
	case EAPOLAnnouncementGeneric:
		return "EAPOL-Announcement (Generic)"
	case EAPOLAnnouncementSpecific:
		return "EAPOL-Announcement (Specific)"
	case EAPOLAnnouncementReq:
		return "EAPOL-Announcement-Req"
	}
	return fmt.Sprintf("EAPOLType(%d)", uint8(t))
}

// eapolHeaderLen is Protocol Version, Packet Type and Packet Body Length
// (IEEE 802.1X-2010 §11.3, Figure 11-1).
const eapolHeaderLen = 4

// EAPOL is one EAPOL PDU (IEEE 802.1X-2010 §11.3), without the Ethernet
// header. Body is the Packet Body, for every Packet Type as received: an
// EAP packet for EAPOLEAPPacket (see EAP), an EAPOL-Key descriptor, TLVs,
// or nothing.
type EAPOL struct {
	Version EAPOLVersion
	Type    EAPOLType
	Body    []byte
}

// ParseEAPOL parses the EAPOL PDU b (from the octet after the EtherType).
// Octets beyond the Packet Body Length are ignored: a short PDU arrives
// padded to the minimum Ethernet frame, and the body is what the Length
// counts (IEEE 802.1X-2010 §11.3.3, §11.4). Fewer octets than it announces
// wrap io.ErrUnexpectedEOF. Protocol Versions other than 1, 2 and 3 are
// errors: this parser does not process a later version as version 3, the
// forward compatibility 802.1X allows. Body aliases b.
func ParseEAPOL(b []byte) (EAPOL, error) {
	if len(b) < eapolHeaderLen {
		return EAPOL{}, fmt.Errorf("%w: EAPOL header: %d octets: %w", ErrParse, len(b), io.ErrUnexpectedEOF)
	}
	e := EAPOL{Version: EAPOLVersion(b[0]), Type: EAPOLType(b[1])}
	if err := e.Version.check(); err != nil {
		return EAPOL{}, err
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if eapolHeaderLen+n > len(b) {
		return EAPOL{}, fmt.Errorf("%w: EAPOL Packet Body Length %d, %d octets received: %w", ErrParse, n, len(b)-eapolHeaderLen, io.ErrUnexpectedEOF)
	}
	e.Body = b[eapolHeaderLen : eapolHeaderLen+n]
	return e, nil
}

func (v EAPOLVersion) check() error {
	if v < EAPOLVersion2001 || v > EAPOLVersion2010 {
		return fmt.Errorf("%w: EAPOL Protocol Version %d (1–3)", ErrParse, v)
	}
	return nil
}

// Marshal returns the PDU's wire form. The Protocol Version must be 1, 2
// or 3 and the body at most 65535 octets (ErrTooLong).
func (e EAPOL) Marshal() ([]byte, error) {
	if err := e.Version.check(); err != nil {
		return nil, err
	}
	if len(e.Body) > math.MaxUint16 {
		return nil, fmt.Errorf("%w: EAPOL Packet Body Length %d", ErrTooLong, len(e.Body))
	}
	b := make([]byte, eapolHeaderLen+len(e.Body))
	b[0], b[1] = byte(e.Version), byte(e.Type)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(e.Body)))
	copy(b[eapolHeaderLen:], e.Body)
	return b, nil
}

// EAP parses the body of an EAP-Packet PDU as an EAP packet (Parse).
func (e EAPOL) EAP() (Packet, error) {
	if e.Type != EAPOLEAPPacket {
		return Packet{}, fmt.Errorf("%w: %s PDU, not EAPOL-EAP", ErrParse, e.Type)
	}
	return Parse(e.Body)
}
