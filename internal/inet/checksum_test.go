package inet

import (
	"net/netip"
	"testing"
)

// TestChecksumKnownPacket checks against an ICMPv6 Echo Request captured from
// Linux ping (fe80::1 -> fe80::2, id 0x1234, seq 1, payload "abcd").
func TestChecksumKnownPacket(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	dst := netip.MustParseAddr("fe80::2")
	msg := []byte{128, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'}
	c := Checksum(src, dst, ProtocolICMPv6, msg)
	msg[2], msg[3] = byte(c>>8), byte(c)
	if got := Checksum(src, dst, ProtocolICMPv6, msg); got != 0 {
		t.Fatalf("verifying a packet with its own checksum gave %#04x, want 0", got)
	}
	// Independent computation: one's complement sum by hand.
	var sum uint32
	words := []uint32{0xfe80, 0, 0, 0, 0, 0, 0, 1, 0xfe80, 0, 0, 0, 0, 0, 0, 2, 0, 12, 0, 58,
		0x8000, 0, 0x1234, 0x0001, 0x6162, 0x6364}
	for _, w := range words {
		sum += w
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if want := ^uint16(sum); c != want {
		t.Fatalf("Checksum = %#04x, want %#04x", c, want)
	}
}

func TestChecksumOddLength(t *testing.T) {
	src := netip.MustParseAddr("2001:db8::1")
	dst := netip.MustParseAddr("2001:db8::2")
	msg := []byte{1, 2, 3}
	c := Checksum(src, dst, ProtocolMobility, msg)
	padded := Checksum(src, dst, ProtocolMobility, []byte{1, 2, 3, 0})
	// The pseudo-header length differs by one, so the sums differ by exactly one.
	if uint16(^c) != uint16(^padded)-1 && !(^c == 0xffff && ^padded == 0) {
		t.Fatalf("odd-length sum %#04x not consistent with padded %#04x", c, padded)
	}
}

// TestChecksumIPv4 checks the RFC 768 pseudo-header sum and the RFC 791
// header checksum against sums written out by hand.
func TestChecksumIPv4(t *testing.T) {
	src, dst := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	udp := []byte{0x30, 0x39, 0x07, 0x14, 0x00, 0x0a, 0x00, 0x00, 'h', 'i'} // 12345 -> 1812, length 10
	var sum uint32
	for _, w := range []uint32{0x7f00, 0x0001, 0x7f00, 0x0002, 17, 10, 0x3039, 0x0714, 0x000a, 0, 0x6869} {
		sum += w
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if got, want := ChecksumIPv4(src, dst, ProtocolUDP, udp), ^uint16(sum); got != want {
		t.Errorf("ChecksumIPv4 = %#04x, want %#04x", got, want)
	}
	if got := ChecksumIPv4(netip.AddrFrom16(src.As16()), dst, ProtocolUDP, udp); got != ^uint16(sum) {
		t.Errorf("IPv4-mapped source: %#04x", got)
	}
	// RFC 1071 §3's example words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d.
	if got := HeaderChecksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != 0x220d {
		t.Errorf("HeaderChecksum = %#04x, want 0x220d", got)
	}
}
