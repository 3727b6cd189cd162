package ndp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// appendHeader appends the ICMPv6 Type, Code and Checksum.
func appendHeader(b []byte, t MessageType, code uint8, checksum uint16) []byte {
	b = append(b, byte(t), code)
	return binary.BigEndian.AppendUint16(b, checksum)
}

// checkCodeZero enforces the "ICMP Code is 0" validity check that RFC 4861
// §6.1.1, §6.1.2, §7.1.1 and §7.1.2 ask of receivers (and RFC 3971 §6.4.1,
// §6.4.2 and RFC 5568 §6.1.1 state as "Code: 0").
func checkCodeZero(b []byte) error {
	if b[1] != 0 {
		return fmt.Errorf("Code %d at offset 1, want 0", b[1])
	}
	return nil
}

// appendAddr appends a 16-octet IPv6 address field.
func appendAddr(b []byte, field string, a netip.Addr) ([]byte, error) {
	if !a.Is6() {
		return nil, fmt.Errorf("%s %v is not an IPv6 address", field, a)
	}
	a16 := a.As16()
	return append(b, a16[:]...), nil
}

// RouterSolicitation is the Router Solicitation message (RFC 4861 §4.1, type
// 133, Code 0).
type RouterSolicitation struct {
	Checksum uint16
	Reserved uint32
	Options  []Option
}

// MessageType implements Message.
func (*RouterSolicitation) MessageType() MessageType { return TypeRouterSolicitation }

// Name implements Message.
func (*RouterSolicitation) Name() string { return "Router Solicitation" }

func (m *RouterSolicitation) optionList() *[]Option { return &m.Options }

func (m *RouterSolicitation) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Reserved = binary.BigEndian.Uint32(b[4:])
	return checkCodeZero(b)
}

func (m *RouterSolicitation) appendTo(b []byte) ([]byte, error) {
	b = appendHeader(b, TypeRouterSolicitation, 0, m.Checksum)
	b = binary.BigEndian.AppendUint32(b, m.Reserved)
	return appendOptions(b, m.Options)
}

// RouterAdvertisement is the Router Advertisement message (RFC 4861 §4.2,
// type 134, Code 0).
type RouterAdvertisement struct {
	Checksum    uint16
	CurHopLimit uint8
	// ManagedConfiguration is the M flag, OtherConfiguration the O flag.
	ManagedConfiguration bool
	OtherConfiguration   bool
	// Reserved holds the six low bits of the flags octet as received
	// (later RFCs define some of them, e.g. the RFC 6275 H bit).
	Reserved uint8
	// RouterLifetime is in whole seconds (16 bits); ReachableTime and
	// RetransTimer in whole milliseconds (32 bits).
	RouterLifetime time.Duration
	ReachableTime  time.Duration
	RetransTimer   time.Duration
	Options        []Option
}

// MessageType implements Message.
func (*RouterAdvertisement) MessageType() MessageType { return TypeRouterAdvertisement }

// Name implements Message.
func (*RouterAdvertisement) Name() string { return "Router Advertisement" }

func (m *RouterAdvertisement) optionList() *[]Option { return &m.Options }

func (m *RouterAdvertisement) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.CurHopLimit = b[4]
	m.ManagedConfiguration = b[5]&0x80 != 0
	m.OtherConfiguration = b[5]&0x40 != 0
	m.Reserved = b[5] & 0x3f
	m.RouterLifetime = time.Duration(binary.BigEndian.Uint16(b[6:])) * time.Second
	m.ReachableTime = time.Duration(binary.BigEndian.Uint32(b[8:])) * time.Millisecond
	m.RetransTimer = time.Duration(binary.BigEndian.Uint32(b[12:])) * time.Millisecond
	return checkCodeZero(b)
}

func (m *RouterAdvertisement) appendTo(b []byte) ([]byte, error) {
	if m.Reserved > 0x3f {
		return nil, fmt.Errorf("Reserved %#x does not fit in 6 bits", m.Reserved)
	}
	lifetime, err := durationUnits("Router Lifetime", m.RouterLifetime, time.Second, 0xffff)
	if err != nil {
		return nil, err
	}
	reachable, err := durationUnits("Reachable Time", m.ReachableTime, time.Millisecond, 0xffffffff)
	if err != nil {
		return nil, err
	}
	retrans, err := durationUnits("Retrans Timer", m.RetransTimer, time.Millisecond, 0xffffffff)
	if err != nil {
		return nil, err
	}
	flags := m.Reserved
	if m.ManagedConfiguration {
		flags |= 0x80
	}
	if m.OtherConfiguration {
		flags |= 0x40
	}
	b = appendHeader(b, TypeRouterAdvertisement, 0, m.Checksum)
	b = append(b, m.CurHopLimit, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(lifetime))
	b = binary.BigEndian.AppendUint32(b, uint32(reachable))
	b = binary.BigEndian.AppendUint32(b, uint32(retrans))
	return appendOptions(b, m.Options)
}

// NeighborSolicitation is the Neighbor Solicitation message (RFC 4861 §4.3,
// type 135, Code 0).
type NeighborSolicitation struct {
	Checksum      uint16
	Reserved      uint32
	TargetAddress netip.Addr
	Options       []Option
}

// MessageType implements Message.
func (*NeighborSolicitation) MessageType() MessageType { return TypeNeighborSolicitation }

// Name implements Message.
func (*NeighborSolicitation) Name() string { return "Neighbor Solicitation" }

func (m *NeighborSolicitation) optionList() *[]Option { return &m.Options }

func (m *NeighborSolicitation) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Reserved = binary.BigEndian.Uint32(b[4:])
	m.TargetAddress = netip.AddrFrom16([16]byte(b[8:24]))
	return checkCodeZero(b)
}

func (m *NeighborSolicitation) appendTo(b []byte) ([]byte, error) {
	b = appendHeader(b, TypeNeighborSolicitation, 0, m.Checksum)
	b = binary.BigEndian.AppendUint32(b, m.Reserved)
	b, err := appendAddr(b, "Target Address", m.TargetAddress)
	if err != nil {
		return nil, err
	}
	return appendOptions(b, m.Options)
}

// NeighborAdvertisement is the Neighbor Advertisement message (RFC 4861 §4.4,
// type 136, Code 0).
type NeighborAdvertisement struct {
	Checksum uint16
	// Router, Solicited and Override are the R, S and O flags.
	Router    bool
	Solicited bool
	Override  bool
	// Reserved holds the 29 bits after the flags as received.
	Reserved      uint32
	TargetAddress netip.Addr
	Options       []Option
}

// MessageType implements Message.
func (*NeighborAdvertisement) MessageType() MessageType { return TypeNeighborAdvertisement }

// Name implements Message.
func (*NeighborAdvertisement) Name() string { return "Neighbor Advertisement" }

func (m *NeighborAdvertisement) optionList() *[]Option { return &m.Options }

func (m *NeighborAdvertisement) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	w := binary.BigEndian.Uint32(b[4:])
	m.Router = w&(1<<31) != 0
	m.Solicited = w&(1<<30) != 0
	m.Override = w&(1<<29) != 0
	m.Reserved = w & (1<<29 - 1)
	m.TargetAddress = netip.AddrFrom16([16]byte(b[8:24]))
	return checkCodeZero(b)
}

func (m *NeighborAdvertisement) appendTo(b []byte) ([]byte, error) {
	if m.Reserved >= 1<<29 {
		return nil, fmt.Errorf("Reserved %#x does not fit in 29 bits", m.Reserved)
	}
	w := m.Reserved
	if m.Router {
		w |= 1 << 31
	}
	if m.Solicited {
		w |= 1 << 30
	}
	if m.Override {
		w |= 1 << 29
	}
	b = appendHeader(b, TypeNeighborAdvertisement, 0, m.Checksum)
	b = binary.BigEndian.AppendUint32(b, w)
	b, err := appendAddr(b, "Target Address", m.TargetAddress)
	if err != nil {
		return nil, err
	}
	return appendOptions(b, m.Options)
}

// CertificationPathSolicitation is the Certification Path Solicitation
// message (RFC 3971 §6.4.1, type 148, Code 0).
type CertificationPathSolicitation struct {
	Checksum   uint16
	Identifier uint16
	// Component is 65535 to ask for all certificates.
	Component uint16
	Options   []Option
}

// MessageType implements Message.
func (*CertificationPathSolicitation) MessageType() MessageType {
	return TypeCertificationPathSolicitation
}

// Name implements Message.
func (*CertificationPathSolicitation) Name() string { return "Certification Path Solicitation" }

func (m *CertificationPathSolicitation) optionList() *[]Option { return &m.Options }

func (m *CertificationPathSolicitation) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Identifier = binary.BigEndian.Uint16(b[4:])
	m.Component = binary.BigEndian.Uint16(b[6:])
	return checkCodeZero(b)
}

func (m *CertificationPathSolicitation) appendTo(b []byte) ([]byte, error) {
	b = appendHeader(b, TypeCertificationPathSolicitation, 0, m.Checksum)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	b = binary.BigEndian.AppendUint16(b, m.Component)
	return appendOptions(b, m.Options)
}

// CertificationPathAdvertisement is the Certification Path Advertisement
// message (RFC 3971 §6.4.2, type 149, Code 0). Its options start at offset
// 12.
type CertificationPathAdvertisement struct {
	Checksum      uint16
	Identifier    uint16
	AllComponents uint16
	Component     uint16
	Reserved      uint16
	Options       []Option
}

// MessageType implements Message.
func (*CertificationPathAdvertisement) MessageType() MessageType {
	return TypeCertificationPathAdvertisement
}

// Name implements Message.
func (*CertificationPathAdvertisement) Name() string { return "Certification Path Advertisement" }

func (m *CertificationPathAdvertisement) optionList() *[]Option { return &m.Options }

func (m *CertificationPathAdvertisement) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Identifier = binary.BigEndian.Uint16(b[4:])
	m.AllComponents = binary.BigEndian.Uint16(b[6:])
	m.Component = binary.BigEndian.Uint16(b[8:])
	m.Reserved = binary.BigEndian.Uint16(b[10:])
	return checkCodeZero(b)
}

func (m *CertificationPathAdvertisement) appendTo(b []byte) ([]byte, error) {
	b = appendHeader(b, TypeCertificationPathAdvertisement, 0, m.Checksum)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	b = binary.BigEndian.AppendUint16(b, m.AllComponents)
	b = binary.BigEndian.AppendUint16(b, m.Component)
	b = binary.BigEndian.AppendUint16(b, m.Reserved)
	return appendOptions(b, m.Options)
}

// RouterSolicitationForProxyAdvertisement is the RtSolPr message (RFC 5568
// §6.1.1, type 154, Subtype 2, Code 0).
type RouterSolicitationForProxyAdvertisement struct {
	Checksum   uint16
	Reserved   uint8
	Identifier uint16
	Options    []Option
}

// MessageType implements Message.
func (*RouterSolicitationForProxyAdvertisement) MessageType() MessageType { return TypeFMIPv6 }

// Name implements Message.
func (*RouterSolicitationForProxyAdvertisement) Name() string {
	return "Router Solicitation for Proxy Advertisement"
}

func (m *RouterSolicitationForProxyAdvertisement) optionList() *[]Option { return &m.Options }

func (m *RouterSolicitationForProxyAdvertisement) decode(b []byte) error {
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Reserved = b[5]
	m.Identifier = binary.BigEndian.Uint16(b[6:])
	return checkCodeZero(b)
}

func (m *RouterSolicitationForProxyAdvertisement) appendTo(b []byte) ([]byte, error) {
	b = appendHeader(b, TypeFMIPv6, 0, m.Checksum)
	b = append(b, SubtypeRtSolPr, m.Reserved)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	return appendOptions(b, m.Options)
}

// PrRtAdv Codes (RFC 5568 §6.1.2).
const (
	PrRtAdvTuples          = 0 // use the [AP-ID, AR-Info] tuples
	PrRtAdvUnsolicited     = 1 // unsolicited, network-initiated handover trigger
	PrRtAdvNoNewRouterInfo = 2 // no new router information; see the LLA Option-Codes
	PrRtAdvSubset          = 3 // new router information for a subset of the APs
	PrRtAdvNeighborhood    = 4 // unsolicited neighborhood information, not a trigger
	PrRtAdvDHCP            = 5 // use the information for movement detection, then DHCP
)

// ProxyRouterAdvertisement is the PrRtAdv message (RFC 5568 §6.1.2, type
// 154, Subtype 3, Code 0 to 5).
type ProxyRouterAdvertisement struct {
	Code     uint8
	Checksum uint16
	Reserved uint8
	// Identifier is copied from the RtSolPr, or zero if unsolicited.
	Identifier uint16
	Options    []Option
}

// MessageType implements Message.
func (*ProxyRouterAdvertisement) MessageType() MessageType { return TypeFMIPv6 }

// Name implements Message.
func (*ProxyRouterAdvertisement) Name() string { return "Proxy Router Advertisement" }

func (m *ProxyRouterAdvertisement) optionList() *[]Option { return &m.Options }

// errPrRtAdvCode is the cause for a PrRtAdv Code outside 0-5.
var errPrRtAdvCode = errors.New(`Code is not one of those defined ("Currently, Code values 0, 1, 2, 3, 4, and 5 are defined.")`)

func (m *ProxyRouterAdvertisement) decode(b []byte) error {
	m.Code = b[1]
	m.Checksum = binary.BigEndian.Uint16(b[2:])
	m.Reserved = b[5]
	m.Identifier = binary.BigEndian.Uint16(b[6:])
	if m.Code > PrRtAdvDHCP {
		return fmt.Errorf("Code %d at offset 1: %w", m.Code, errPrRtAdvCode)
	}
	return nil
}

func (m *ProxyRouterAdvertisement) appendTo(b []byte) ([]byte, error) {
	if m.Code > PrRtAdvDHCP {
		return nil, fmt.Errorf("Code %d: %w", m.Code, errPrRtAdvCode)
	}
	b = appendHeader(b, TypeFMIPv6, m.Code, m.Checksum)
	b = append(b, SubtypePrRtAdv, m.Reserved)
	b = binary.BigEndian.AppendUint16(b, m.Identifier)
	return appendOptions(b, m.Options)
}
