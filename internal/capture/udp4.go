package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/fhkey/fhkey/internal/inet"
)

// UDPv4HeaderLen is the length of the IPv4 header without options (RFC 791
// §3.1) plus the UDP header (RFC 768).
const UDPv4HeaderLen = 20 + 8

// UDPv4 returns a complete IPv4 packet carrying one UDP datagram from src
// to dst, as a LinkTypeRaw record holds it next to IPv6 packets: an IPv4
// header without options (Version 4, IHL 5, TTL 64, Don't Fragment, the
// header checksum of RFC 791 §3.1) and the UDP header with the checksum of
// RFC 768 over the pseudo-header (0xffff when it computes to zero: "If the
// computed checksum is zero, it is transmitted as all ones"). It is how
// internal/demo records the RADIUS datagrams it exchanges on loopback.
func UDPv4(src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if !sa.Is4() || !da.Is4() {
		return nil, fmt.Errorf("capture: UDP over IPv4: source %v and destination %v must be IPv4 addresses", src, dst)
	}
	n := UDPv4HeaderLen + len(payload)
	if n > 0xffff {
		return nil, fmt.Errorf("capture: UDP over IPv4: datagram of %d octets exceeds 65535 with its headers", len(payload))
	}
	b := make([]byte, n)
	b[0] = 4<<4 | 5 // Version, IHL (5 words)
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // DF, Fragment Offset 0
	b[8], b[9] = 64, inet.ProtocolUDP
	s, d := sa.As4(), da.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], inet.HeaderChecksum(b[:20]))
	u := b[20:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	c := inet.ChecksumIPv4(sa, da, inet.ProtocolUDP, u)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return b, nil
}
