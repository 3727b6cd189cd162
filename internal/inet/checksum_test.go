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
