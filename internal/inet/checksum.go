// Package inet holds the small IP helpers shared by the wire packages:
// the upper-layer checksum with the IPv6 pseudo-header (RFC 8200 §8.1), and
// for the RADIUS packets of a capture the IPv4 ones (RFC 768, RFC 791).
package inet

import "net/netip"

// Protocol numbers used by fhkey.
const (
	ProtocolIPv6     = 41  // IPv6-in-IPv6 encapsulation (RFC 2473)
	ProtocolDstOpts  = 60  // IPv6 Destination Options header
	ProtocolICMPv6   = 58  // ICMPv6 (RFC 4443)
	ProtocolMobility = 135 // Mobility Header (RFC 6275 §6.1)
	ProtocolNone     = 59  // No Next Header
	ProtocolUDP      = 17
)

// Checksum returns the Internet checksum of payload preceded by the IPv6
// pseudo-header (RFC 8200 §8.1): source, destination, upper-layer packet
// length (32 bits), three zero octets and the next header value. The
// checksum field inside payload must be zero (or the caller must expect a
// result of zero when verifying a packet that carries its checksum).
// src and dst must be IPv6 addresses; IPv4-mapped forms are used as 16 bytes.
func Checksum(src, dst netip.Addr, nextHeader uint8, payload []byte) uint16 {
	var sum uint32
	s := src.As16()
	d := dst.As16()
	for i := 0; i < 16; i += 2 {
		sum += uint32(s[i])<<8 | uint32(s[i+1])
		sum += uint32(d[i])<<8 | uint32(d[i+1])
	}
	n := uint32(len(payload))
	sum += n >> 16
	sum += n & 0xffff
	sum += uint32(nextHeader)
	return fold(add(sum, payload))
}

func add(sum uint32, b []byte) uint32 {
	i := 0
	for ; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
		if sum > 0xffff0000 {
			sum = sum>>16 + sum&0xffff
		}
	}
	if i < len(b) {
		sum += uint32(b[i]) << 8
	}
	return sum
}

// ChecksumIPv4 returns the Internet checksum of payload preceded by the
// IPv4 pseudo-header of RFC 768 (source, destination, a zero octet, the
// protocol and the length of payload), as UDP and TCP over IPv4 use it.
// src and dst must be IPv4 addresses (IPv4-mapped IPv6 forms are unmapped).
func ChecksumIPv4(src, dst netip.Addr, protocol uint8, payload []byte) uint16 {
	s, d := src.Unmap().As4(), dst.Unmap().As4()
	sum := add(0, s[:])
	sum = add(sum, d[:])
	sum += uint32(protocol) + uint32(len(payload))&0xffff
	return fold(add(sum, payload))
}

// HeaderChecksum returns the Internet checksum (RFC 1071) of b, as the IPv4
// header checksum is computed over the header with its checksum field zero
// (RFC 791 §3.1).
func HeaderChecksum(b []byte) uint16 { return fold(add(0, b)) }

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
