package ndp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// SourceLinkLayerAddress is the Source Link-layer Address option (RFC 4861
// §4.6.1, type 1). The format of the address depends on the link layer, so
// LinkLayerAddress holds every octet after Length as received (6 octets for
// Ethernet, whose option has Length 1). Marshal zero-pads it to a multiple of
// 8 octets.
type SourceLinkLayerAddress struct {
	LinkLayerAddress net.HardwareAddr
}

// OptionType implements Option.
func (*SourceLinkLayerAddress) OptionType() OptionType { return OptionSourceLinkLayerAddress }

// Name implements Option.
func (*SourceLinkLayerAddress) Name() string { return "Source Link-Layer Address" }

func (o *SourceLinkLayerAddress) decode(body []byte) error {
	o.LinkLayerAddress = net.HardwareAddr(clone(body))
	return nil
}

func (o *SourceLinkLayerAddress) appendBody(b []byte) ([]byte, error) {
	return append(b, o.LinkLayerAddress...), nil
}

// TargetLinkLayerAddress is the Target Link-layer Address option (RFC 4861
// §4.6.1, type 2). See SourceLinkLayerAddress for the address octets.
type TargetLinkLayerAddress struct {
	LinkLayerAddress net.HardwareAddr
}

// OptionType implements Option.
func (*TargetLinkLayerAddress) OptionType() OptionType { return OptionTargetLinkLayerAddress }

// Name implements Option.
func (*TargetLinkLayerAddress) Name() string { return "Target Link-Layer Address" }

func (o *TargetLinkLayerAddress) decode(body []byte) error {
	o.LinkLayerAddress = net.HardwareAddr(clone(body))
	return nil
}

func (o *TargetLinkLayerAddress) appendBody(b []byte) ([]byte, error) {
	return append(b, o.LinkLayerAddress...), nil
}

// PrefixInformation is the Prefix Information option (RFC 4861 §4.6.2, type
// 3, Length 4), with the Router Address flag of RFC 6275 §7.2.
type PrefixInformation struct {
	// Prefix carries the Prefix Length and the Prefix field. Its address
	// is kept unmasked: bits after the prefix length are "reserved and
	// MUST be initialized to zero by the sender and ignored by the
	// receiver", and are kept as received.
	Prefix netip.Prefix
	// OnLink is the L flag.
	OnLink bool
	// Autonomous is the A flag (autonomous address-configuration).
	Autonomous bool
	// RouterAddress is the R flag of RFC 6275 §7.2: Prefix holds the
	// router's full address.
	RouterAddress bool
	// Reserved1 holds the five low bits of the flags octet, as received.
	Reserved1 uint8
	// ValidLifetime and PreferredLifetime are whole seconds; Infinity is
	// the all-ones value.
	ValidLifetime     time.Duration
	PreferredLifetime time.Duration
	Reserved2         uint32
}

// OptionType implements Option.
func (*PrefixInformation) OptionType() OptionType { return OptionPrefixInformation }

// Name implements Option.
func (*PrefixInformation) Name() string { return "Prefix Information" }

func (o *PrefixInformation) decode(body []byte) error {
	// RFC 4861 §4.6.2: "Length 4".
	if len(body) != 30 {
		return fmt.Errorf("Length %d, want 4", (len(body)+2)/8)
	}
	bits := int(body[0])
	if bits > 128 {
		return fmt.Errorf("Prefix Length %d at option offset 2: the value ranges from 0 to 128", bits)
	}
	o.OnLink = body[1]&0x80 != 0
	o.Autonomous = body[1]&0x40 != 0
	o.RouterAddress = body[1]&0x20 != 0
	o.Reserved1 = body[1] & 0x1f
	o.ValidLifetime = time.Duration(binary.BigEndian.Uint32(body[2:])) * time.Second
	o.PreferredLifetime = time.Duration(binary.BigEndian.Uint32(body[6:])) * time.Second
	o.Reserved2 = binary.BigEndian.Uint32(body[10:])
	o.Prefix = netip.PrefixFrom(netip.AddrFrom16([16]byte(body[14:30])), bits)
	return nil
}

func (o *PrefixInformation) appendBody(b []byte) ([]byte, error) {
	// RFC 4861 §4.6.2: Prefix Length "The value ranges from 0 to 128."
	if !o.Prefix.IsValid() || !o.Prefix.Addr().Is6() {
		return nil, errors.New("Prefix must be a valid IPv6 prefix")
	}
	if o.Reserved1 > 0x1f {
		return nil, fmt.Errorf("Reserved1 %#x does not fit in 5 bits", o.Reserved1)
	}
	valid, err := durationUnits("Valid Lifetime", o.ValidLifetime, time.Second, 0xffffffff)
	if err != nil {
		return nil, err
	}
	preferred, err := durationUnits("Preferred Lifetime", o.PreferredLifetime, time.Second, 0xffffffff)
	if err != nil {
		return nil, err
	}
	flags := o.Reserved1
	if o.OnLink {
		flags |= 0x80
	}
	if o.Autonomous {
		flags |= 0x40
	}
	if o.RouterAddress {
		flags |= 0x20
	}
	b = append(b, byte(o.Prefix.Bits()), flags)
	b = binary.BigEndian.AppendUint32(b, uint32(valid))
	b = binary.BigEndian.AppendUint32(b, uint32(preferred))
	b = binary.BigEndian.AppendUint32(b, o.Reserved2)
	a := o.Prefix.Addr().As16()
	return append(b, a[:]...), nil
}

// MTU is the MTU option (RFC 4861 §4.6.4, type 5, Length 1).
type MTU struct {
	Reserved uint16
	MTU      uint32
}

// OptionType implements Option.
func (*MTU) OptionType() OptionType { return OptionMTU }

// Name implements Option.
func (*MTU) Name() string { return "MTU" }

func (o *MTU) decode(body []byte) error {
	// RFC 4861 §4.6.4: "Length 1".
	if len(body) != 6 {
		return fmt.Errorf("Length %d, want 1", (len(body)+2)/8)
	}
	o.Reserved = binary.BigEndian.Uint16(body)
	o.MTU = binary.BigEndian.Uint32(body[2:])
	return nil
}

func (o *MTU) appendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, o.Reserved)
	return binary.BigEndian.AppendUint32(b, o.MTU), nil
}
