package forward

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
)

// a16 returns the 16 octets of an IPv6 address literal.
func a16(s string) []byte {
	a := netip.MustParseAddr(s).As16()
	return a[:]
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// innerPacket is an original packet from the CN to the PCoA: a UDP
// datagram whose checksum the tunnel never looks at.
var innerPacket = cat(
	[]byte{0x6b, 0x81, 0x23, 0x45}, // version 6, traffic class 0xb8 (EF), flow label 0x12345
	[]byte{0x00, 0x0a},             // payload length 10
	[]byte{17},                     // next header UDP
	[]byte{63},                     // hop limit 63 (decremented once by the PAR)
	a16("2001:db8:c::2"),           // source: CN
	a16("2001:db8:1::100"),         // destination: PCoA
	[]byte{0xc3, 0x50},             // UDP source port 50000
	[]byte{0x17, 0x6f},             // UDP destination port 5999
	[]byte{0x00, 0x0a},             // UDP length 10
	[]byte{0xbe, 0xef},             // UDP checksum (opaque to the tunnel)
	[]byte("hi"),                   // data
)

// tunnelPacket is innerPacket tunnelled by the PAR to the NCoA.
var tunnelPacket = cat(
	[]byte{0x6b, 0x80, 0x00, 0x00}, // version 6, traffic class 0xb8 copied, flow label 0
	[]byte{0x00, 0x32},             // payload length 50: the original packet
	[]byte{41},                     // next header IPv6 (RFC 2473 §3.1)
	[]byte{64},                     // hop limit: the entry point's default
	a16("2001:db8:1::1"),           // source: PAR on the MN's previous link (RFC 5568 §4)
	a16("2001:db8:2::100"),         // destination: NCoA, the tunnel exit point
	innerPacket,                    // original packet, unchanged
)

// tunnelWithLimit carries a Destination Options header with the Tunnel
// Encapsulation Limit option (RFC 2473 §4.1.1) before the original packet.
var tunnelWithLimit = cat(
	[]byte{0x60, 0x00, 0x00, 0x00}, // version 6, traffic class 0, flow label 0
	[]byte{0x00, 0x3a},             // payload length 58: 8 + 50
	[]byte{60},                     // next header Destination Options
	[]byte{64},                     // hop limit
	a16("2001:db8:1::1"),           // source
	a16("2001:db8:2::100"),         // destination
	[]byte{41, 0},                  // Destination Options: next header 41, length 0 (8 octets)
	[]byte{4, 1, 4},                // Tunnel Encapsulation Limit option, value 4
	[]byte{1, 1, 0},                // PadN, 1 octet of padding
	innerPacket,                    // original packet
)

// tunnelWithHopByHop has a Hop-by-Hop Options header (PadN only) and then
// a Destination Options header (PadN only).
var tunnelWithHopByHop = cat(
	[]byte{0x60, 0x00, 0x00, 0x00},  // version 6
	[]byte{0x00, 0x42},              // payload length 66: 8 + 8 + 50
	[]byte{0},                       // next header Hop-by-Hop Options
	[]byte{64},                      // hop limit
	a16("2001:db8:1::1"),            // source
	a16("2001:db8:2::100"),          // destination
	[]byte{60, 0, 1, 4, 0, 0, 0, 0}, // Hop-by-Hop: next header 60, length 0, PadN 4
	[]byte{41, 0, 1, 4, 0, 0, 0, 0}, // Destination Options: next header 41, PadN 4
	innerPacket,                     // original packet
)

func TestEncapsulate(t *testing.T) {
	got, err := Encapsulate(nil, netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::100"), DefaultHopLimit, innerPacket)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tunnelPacket) {
		t.Fatalf("Encapsulate =\n% x\nwant\n% x", got, tunnelPacket)
	}
	// Appending keeps the prefix.
	got, err = Encapsulate([]byte{0xaa}, netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::100"), DefaultHopLimit, innerPacket)
	if err != nil || !bytes.Equal(got, append([]byte{0xaa}, tunnelPacket...)) {
		t.Fatalf("Encapsulate after a prefix = % x, %v", got, err)
	}
}

func TestDecapsulate(t *testing.T) {
	inner := Header{
		TrafficClass: 0xb8, FlowLabel: 0x12345, PayloadLength: 10, NextHeader: 17, HopLimit: 63,
		Source: netip.MustParseAddr("2001:db8:c::2"), Destination: netip.MustParseAddr("2001:db8:1::100"),
	}
	outer := func(tc uint8, pl uint16, nh uint8) Header {
		return Header{
			TrafficClass: tc, PayloadLength: pl, NextHeader: nh, HopLimit: 64,
			Source: netip.MustParseAddr("2001:db8:1::1"), Destination: netip.MustParseAddr("2001:db8:2::100"),
		}
	}
	tests := []struct {
		name string
		in   []byte
		want Tunnelled
	}{
		{"plain", tunnelPacket, Tunnelled{Outer: outer(0xb8, 50, 41), Extensions: []byte{}, Inner: innerPacket, InnerHeader: inner}},
		{"encapsulation limit", tunnelWithLimit, Tunnelled{Outer: outer(0, 58, 60), Extensions: tunnelWithLimit[40:48], Inner: innerPacket, InnerHeader: inner}},
		{"hop-by-hop", tunnelWithHopByHop, Tunnelled{Outer: outer(0, 66, 0), Extensions: tunnelWithHopByHop[40:56], Inner: innerPacket, InnerHeader: inner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decapsulate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decapsulate =\n%+v\nwant\n%+v", got, tt.want)
			}
			b, err := got.AppendTo(nil)
			if err != nil || !bytes.Equal(b, tt.in) {
				t.Fatalf("AppendTo = % x, %v; want the input", b, err)
			}
		})
	}
}

// mutate returns a copy of b with f applied.
func mutate(b []byte, f func([]byte) []byte) []byte {
	return f(append([]byte(nil), b...))
}

func TestDecapsulateErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		isEOF bool // truncation: wraps io.ErrUnexpectedEOF too
	}{
		{"empty", nil, true},
		{"39 octets", tunnelPacket[:39], true},
		{"version 4", mutate(tunnelPacket, func(b []byte) []byte { b[0] = 0x45; return b }), false},
		{"payload length beyond the packet", mutate(tunnelPacket, func(b []byte) []byte { b[5]++; return b }), true},
		{"octets beyond payload length", append(append([]byte(nil), tunnelPacket...), 0), false},
		{"next header UDP", mutate(tunnelPacket, func(b []byte) []byte { b[6] = 17; return b }), false},
		{"next header Fragment", mutate(tunnelPacket, func(b []byte) []byte { b[6] = 44; return b }), false},
		{"next header Routing", mutate(tunnelPacket, func(b []byte) []byte { b[6] = 43; return b }), false},
		{"Hop-by-Hop after Destination Options", mutate(tunnelWithLimit, func(b []byte) []byte { b[40] = 0; return b }), false},
		{"extension header length beyond the packet", mutate(tunnelWithLimit, func(b []byte) []byte { b[41] = 20; return b }), true},
		{"extension header cut after next header", cat([]byte{0x60, 0, 0, 1, 0, 1, 60, 64}, make([]byte, 32), []byte{41}), true},
		{"no original packet", cat([]byte{0x60, 0, 0, 0, 0, 0, 41, 64}, make([]byte, 32)), true},
		{"original packet truncated", cat([]byte{0x60, 0, 0, 0, 0, 39, 41, 64}, make([]byte, 32), innerPacket[:39]), true},
		{"original packet version 4", mutate(tunnelPacket, func(b []byte) []byte { b[40] = 0x45; return b }), false},
		{"original payload length short", mutate(tunnelPacket, func(b []byte) []byte { b[45]--; return b }), false},
		{"original payload length long", mutate(tunnelPacket, func(b []byte) []byte { b[45]++; return b }), true},
		{"jumbogram original packet", mutate(tunnelPacket, func(b []byte) []byte { b[44], b[45] = 0, 0; return b }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decapsulate(tt.in)
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Decapsulate error %v, want ErrParse", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.isEOF {
				t.Fatalf("errors.Is(%v, io.ErrUnexpectedEOF) = %v, want %v", err, got, tt.isEOF)
			}
		})
	}
}

func TestEncapsulateErrors(t *testing.T) {
	par, ncoa := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::100")
	big := cat([]byte{0x60, 0, 0, 0, 0xff, 0xff, 59, 64}, make([]byte, 32), make([]byte, 0xffff))
	tests := []struct {
		name      string
		src, exit netip.Addr
		inner     []byte
		want      error
	}{
		{"malformed original packet", par, ncoa, innerPacket[:45], ErrParse},
		{"original packet with trailing octets", par, ncoa, append(append([]byte(nil), innerPacket...), 0), ErrParse},
		{"IPv4 source", netip.MustParseAddr("192.0.2.1"), ncoa, innerPacket, ErrInvalid},
		{"invalid exit", par, netip.Addr{}, innerPacket, ErrInvalid},
		{"zoned exit", par, netip.MustParseAddr("fe80::1%eth0"), innerPacket, ErrInvalid},
		{"original packet too large for the payload length", par, ncoa, big, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Encapsulate([]byte{1, 2}, tt.src, tt.exit, 64, tt.inner)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Encapsulate error %v, want %v", err, tt.want)
			}
			if !bytes.Equal(out, []byte{1, 2}) {
				t.Fatalf("Encapsulate changed dst on error: % x", out)
			}
		})
	}
}

func TestHeaderAppendToErrors(t *testing.T) {
	ok := Header{Source: netip.MustParseAddr("2001:db8::1"), Destination: netip.MustParseAddr("2001:db8::2")}
	for name, h := range map[string]Header{
		"flow label 21 bits": {FlowLabel: 1 << 20, Source: ok.Source, Destination: ok.Destination},
		"IPv4 destination":   {Source: ok.Source, Destination: netip.MustParseAddr("192.0.2.1")},
		"zoned source":       {Source: netip.MustParseAddr("fe80::1%lo"), Destination: ok.Destination},
	} {
		if _, err := h.AppendTo(nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: AppendTo error %v, want ErrInvalid", name, err)
		}
	}
	b, err := ok.AppendTo(nil)
	if err != nil || len(b) != HeaderLen {
		t.Fatalf("AppendTo = %d octets, %v", len(b), err)
	}
	if h, err := ParseHeader(b); err != nil || h != ok {
		t.Fatalf("ParseHeader(AppendTo) = %+v, %v; want %+v", h, err, ok)
	}
}

func BenchmarkEncapsulate(b *testing.B) {
	par, ncoa := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::100")
	inner := cat(innerPacket[:4], []byte{0x05, 0x8c}, innerPacket[6:40], make([]byte, 1420)) // 1460-octet packet
	buf := make([]byte, 0, 1600)
	b.SetBytes(int64(len(inner)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encapsulate(buf[:0], par, ncoa, 64, inner); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecapsulate(b *testing.B) {
	b.SetBytes(int64(len(tunnelPacket)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decapsulate(tunnelPacket); err != nil {
			b.Fatal(err)
		}
	}
}
