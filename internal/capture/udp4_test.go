package capture

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestUDPv4 checks one datagram field by field; the checksums were computed
// independently (Python, RFC 1071 sum over the RFC 791 header and the RFC
// 768 pseudo-header).
func TestUDPv4(t *testing.T) {
	src, dst := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:1812")
	got, err := UDPv4(src, dst, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := cat(
		[]byte{0x45, 0x00},   // Version 4, IHL 5; Type of Service
		[]byte{0x00, 0x1f},   // Total Length 31
		[]byte{0x00, 0x00},   // Identification
		[]byte{0x40, 0x00},   // Don't Fragment, Fragment Offset 0
		[]byte{64, 17},       // TTL, Protocol UDP
		[]byte{0x3c, 0xcc},   // Header Checksum
		[]byte{127, 0, 0, 1}, // Source
		[]byte{127, 0, 0, 1}, // Destination
		[]byte{0x9c, 0x40},   // Source Port 40000
		[]byte{0x07, 0x14},   // Destination Port 1812
		[]byte{0x00, 0x0b},   // Length 11
		[]byte{0x9a, 0x1e},   // Checksum
		[]byte("abc"),        // payload
	)
	if !bytes.Equal(got, want) {
		t.Errorf("UDPv4:\n got %x\nwant %x", got, want)
	}
	// IPv4-mapped addresses are written as IPv4.
	if m, err := UDPv4(netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), 40000), dst, []byte("abc")); err != nil || !bytes.Equal(m, want) {
		t.Errorf("IPv4-mapped source: %x %v", m, err)
	}
}

// TestUDPv4Gopacket compares with gopacket's independent serialization and
// checksums, for even and odd payload lengths.
func TestUDPv4Gopacket(t *testing.T) {
	src, dst := netip.MustParseAddrPort("127.0.0.1:1812"), netip.MustParseAddrPort("127.0.0.1:51234")
	for _, payload := range [][]byte{nil, {1}, bytes.Repeat([]byte{0xa5, 0x5a, 0xff}, 101)} {
		got, err := UDPv4(src, dst, payload)
		if err != nil {
			t.Fatal(err)
		}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolUDP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%d-octet payload:\n got %x\nwant %x", len(payload), got, buf.Bytes())
		}
	}
}

func TestUDPv4Errors(t *testing.T) {
	v4, v6 := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:1")
	for _, tc := range []struct {
		name     string
		src, dst netip.AddrPort
		n        int
	}{
		{"IPv6 source", v6, v4, 0},
		{"IPv6 destination", v4, v6, 0},
		{"too long", v4, v4, 0xffff - UDPv4HeaderLen + 1},
	} {
		if _, err := UDPv4(tc.src, tc.dst, make([]byte, tc.n)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
