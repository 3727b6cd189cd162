package ndp_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/ndp"
)

type messageCase struct {
	name string
	msg  ndp.Message
	// parsed is what parsing want gives back; nil means msg.
	parsed ndp.Message
	want   []byte
}

func messageCases() []messageCase {
	return []messageCase{
		{
			name: "Router Solicitation",
			msg: &ndp.RouterSolicitation{Options: []ndp.Option{
				&ndp.SourceLinkLayerAddress{LinkLayerAddress: mac},
			}},
			want: wire(
				133,               // Type: Router Solicitation
				0,                 // Code
				u16(0),            // Checksum (not filled)
				u32(0),            // Reserved
				1, 1, []byte(mac), // Source Link-Layer Address option
			),
		},
		{
			name: "Router Advertisement",
			msg: &ndp.RouterAdvertisement{
				CurHopLimit:          64,
				ManagedConfiguration: true,
				RouterLifetime:       1800 * time.Second,
				ReachableTime:        30 * time.Second,
				RetransTimer:         time.Second,
				Options: []ndp.Option{
					&ndp.MTU{MTU: 1500},
				},
			},
			want: wire(
				134,                     // Type: Router Advertisement
				0,                       // Code
				u16(0),                  // Checksum
				64,                      // Cur Hop Limit
				0x80,                    // M=1 O=0 Reserved=0
				u16(1800),               // Router Lifetime (s)
				u32(30000),              // Reachable Time (ms)
				u32(1000),               // Retrans Timer (ms)
				5, 1, u16(0), u32(1500), // MTU option
			),
		},
		{
			name: "Router Advertisement, O flag and reserved bits kept",
			msg: &ndp.RouterAdvertisement{
				Checksum:           0x1234,
				OtherConfiguration: true,
				Reserved:           0x21,
			},
			want: wire(
				134,         // Type
				0,           // Code
				u16(0x1234), // Checksum, as received
				0,           // Cur Hop Limit: unspecified
				0x61,        // M=0 O=1 Reserved=100001
				u16(0),      // Router Lifetime: not a default router
				u32(0),      // Reachable Time: unspecified
				u32(0),      // Retrans Timer: unspecified
			),
		},
		{
			name: "Neighbor Solicitation",
			msg: &ndp.NeighborSolicitation{
				TargetAddress: netip.MustParseAddr("fe80::2"),
				Options: []ndp.Option{
					&ndp.SourceLinkLayerAddress{LinkLayerAddress: mac},
					&ndp.Nonce{Nonce: seq(0xc0, 6)},
				},
			},
			want: wire(
				135,               // Type: Neighbor Solicitation
				0,                 // Code
				u16(0),            // Checksum
				u32(0),            // Reserved
				ip("fe80::2"),     // Target Address
				1, 1, []byte(mac), // Source Link-Layer Address option
				14, 1, seq(0xc0, 6), // Nonce option
			),
		},
		{
			name: "Neighbor Advertisement",
			msg: &ndp.NeighborAdvertisement{
				Router:        true,
				Solicited:     true,
				Override:      true,
				TargetAddress: netip.MustParseAddr("2001:db8::1"),
				Options: []ndp.Option{
					&ndp.TargetLinkLayerAddress{LinkLayerAddress: mac},
				},
			},
			want: wire(
				136,               // Type: Neighbor Advertisement
				0,                 // Code
				u16(0),            // Checksum
				u32(0xe0000000),   // R=1 S=1 O=1 Reserved=0
				ip("2001:db8::1"), // Target Address
				2, 1, []byte(mac), // Target Link-Layer Address option
			),
		},
		{
			name: "Neighbor Advertisement, reserved bits kept",
			msg: &ndp.NeighborAdvertisement{
				Solicited:     true,
				Reserved:      0x1abcdef,
				TargetAddress: netip.MustParseAddr("fe80::1"),
			},
			want: wire(
				136,             // Type
				0,               // Code
				u16(0),          // Checksum
				u32(0x41abcdef), // R=0 S=1 O=0 Reserved=0x1abcdef
				ip("fe80::1"),   // Target Address
			),
		},
		{
			name: "Certification Path Solicitation",
			msg: &ndp.CertificationPathSolicitation{
				Identifier: 0x1234,
				Component:  65535,
				Options: []ndp.Option{
					&ndp.TrustAnchor{NameType: ndp.NameTypeDERX501Name, TrustAnchorName: derName, Padding: zeros(3)},
				},
			},
			want: wire(
				148,                            // Type: Certification Path Solicitation
				0,                              // Code
				u16(0),                         // Checksum
				u16(0x1234),                    // Identifier
				u16(65535),                     // Component: all certificates
				15, 3, 1, 3, derName, zeros(3), // Trust Anchor option
			),
		},
		{
			name: "Certification Path Advertisement",
			msg: &ndp.CertificationPathAdvertisement{
				Identifier:    0x1234,
				AllComponents: 1,
				Options: []ndp.Option{
					&ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: testCert, Padding: zeros(6)},
				},
			},
			want: wire(
				149,                               // Type: Certification Path Advertisement
				0,                                 // Code
				u16(0),                            // Checksum
				u16(0x1234),                       // Identifier
				u16(1),                            // All Components
				u16(0),                            // Component: the last one
				u16(0),                            // Reserved
				16, 102, 1, 0, testCert, zeros(6), // Certificate option, at offset 12
			),
		},
		{
			name: "RtSolPr",
			msg: &ndp.RouterSolicitationForProxyAdvertisement{
				Identifier: 0xbeef,
				Options: []ndp.Option{
					&ndp.LinkLayerAddress{OptionCode: ndp.LLASource, LinkLayerAddress: wire([]byte(mac), zeros(7))},
					&ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: wire(seq(0xa0, 6), zeros(7))},
				},
			},
			want: wire(
				154,                             // Type: FMIPv6
				0,                               // Code
				u16(0),                          // Checksum
				2,                               // Subtype: RtSolPr
				0,                               // Reserved
				u16(0xbeef),                     // Identifier
				19, 2, 4, []byte(mac), zeros(7), // LLA option: source of the RtSolPr
				19, 2, 1, seq(0xa0, 6), zeros(7), // LLA option: New Access Point
			),
		},
		{
			name: "PrRtAdv, Code 0",
			msg: &ndp.ProxyRouterAdvertisement{
				Identifier: 0xbeef,
				Options: []ndp.Option{
					&ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: wire(seq(0xa0, 6), zeros(7))},
					&ndp.LinkLayerAddress{OptionCode: ndp.LLANAR, LinkLayerAddress: wire(seq(0xb0, 6), zeros(7))},
					&ndp.IPAddressPrefix{OptionCode: ndp.IPAddressNARAddress, PrefixLength: 128, IPv6Address: netip.MustParseAddr("2001:db8:2::1")},
					&ndp.IPAddressPrefix{OptionCode: ndp.IPAddressNARPrefix, PrefixLength: 64, IPv6Address: netip.MustParseAddr("2001:db8:2::")},
				},
			},
			want: wire(
				154,                              // Type: FMIPv6
				0,                                // Code: use the [AP-ID, AR-Info] tuples
				u16(0),                           // Checksum
				3,                                // Subtype: PrRtAdv
				0,                                // Reserved
				u16(0xbeef),                      // Identifier
				19, 2, 1, seq(0xa0, 6), zeros(7), // LLA option: New Access Point
				19, 2, 3, seq(0xb0, 6), zeros(7), // LLA option: NAR
				17, 3, 3, 128, u32(0), ip("2001:db8:2::1"), // IP Address/Prefix: NAR's address
				17, 3, 4, 64, u32(0), ip("2001:db8:2::"), // IP Address/Prefix: NAR's prefix
			),
		},
		{
			name: "PrRtAdv, Code 5, received checksum kept",
			msg:  &ndp.ProxyRouterAdvertisement{Code: ndp.PrRtAdvDHCP, Checksum: 0xabcd, Reserved: 0x01},
			want: wire(
				154,         // Type: FMIPv6
				5,           // Code: DHCP on the NAR's link
				u16(0xabcd), // Checksum, as received
				3,           // Subtype: PrRtAdv
				1,           // Reserved, as received
				u16(0),      // Identifier: unsolicited
			),
		},
		{
			name: "Redirect kept raw",
			msg:  &ndp.RawMessage{Type: ndp.TypeRedirect, Checksum: 0x0102, Body: seq(0, 36)},
			want: wire(
				137,         // Type: Redirect
				0,           // Code
				u16(0x0102), // Checksum
				seq(0, 36),  // body, as received
			),
		},
		{
			name: "deprecated FMIPv6 HI (Subtype 4) kept raw",
			msg:  &ndp.RawMessage{Type: ndp.TypeFMIPv6, Code: 1, Body: wire(4, 0, u16(7))},
			want: wire(
				154,    // Type: FMIPv6
				1,      // Code
				u16(0), // Checksum
				4,      // Subtype: HI (RFC 5268)
				0,      // flags/Reserved
				u16(7), // Identifier
			),
		},
		{
			name: "Echo Request kept raw",
			msg:  &ndp.RawMessage{Type: 128},
			want: wire(
				128,    // Type: Echo Request
				0,      // Code
				u16(0), // Checksum
			),
		},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, tc := range messageCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ndp.MarshalMessage(tc.msg)
			if err != nil {
				t.Fatalf("MarshalMessage: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("MarshalMessage:\n got %x\nwant %x", got, tc.want)
			}
			m, err := ndp.ParseMessage(tc.want)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			want := tc.parsed
			if want == nil {
				want = tc.msg
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("ParseMessage:\n got %#v\nwant %#v", m, want)
			}
			if m.MessageType() != ndp.MessageType(tc.want[0]) || m.Name() == "" {
				t.Errorf("MessageType %d Name %q", m.MessageType(), m.Name())
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		eof  bool
	}{
		{name: "empty", b: nil, eof: true},
		{name: "three octets", b: wire(133, 0, 0), eof: true},
		{name: "Router Solicitation Code 1", b: wire(133, 1, u16(0), u32(0))},
		{name: "Router Solicitation without Reserved", b: wire(133, 0, u16(0), 0, 0), eof: true},
		{name: "Router Advertisement of 15 octets", b: wire(134, 0, u16(0), zeros(11)), eof: true},
		{name: "Neighbor Solicitation with an option of length 0", b: wire(135, 0, u16(0), u32(0), ip("fe80::1"), 1, 0, zeros(6))},
		{name: "Neighbor Solicitation with a truncated option", b: wire(135, 0, u16(0), u32(0), ip("fe80::1"), 1, 1, zeros(5)), eof: true},
		{name: "Neighbor Advertisement of 23 octets", b: wire(136, 0, u16(0), u32(0), zeros(15)), eof: true},
		{name: "Neighbor Advertisement Code 2", b: wire(136, 2, u16(0), u32(0), ip("fe80::1"))},
		{name: "Certification Path Solicitation Code 1", b: wire(148, 1, u16(0), u16(1), u16(0))},
		{name: "Certification Path Advertisement of 11 octets", b: wire(149, 0, u16(0), zeros(7)), eof: true},
		{name: "FMIPv6 without a Subtype", b: wire(154, 0, u16(0)), eof: true},
		{name: "RtSolPr Code 1", b: wire(154, 1, u16(0), 2, 0, u16(1))},
		{name: "RtSolPr of 7 octets", b: wire(154, 0, u16(0), 2, 0, 0), eof: true},
		{name: "PrRtAdv Code 6", b: wire(154, 6, u16(0), 3, 0, u16(1))},
		{name: "Router Advertisement with a bad Prefix Information", b: wire(134, 0, u16(0), zeros(12), 3, 3, 64, 0xc0, zeros(20))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ndp.ParseMessage(tc.b)
			if err == nil {
				t.Fatalf("ParseMessage = %#v, want an error", m)
			}
			if !errors.Is(err, ndp.ErrParse) {
				t.Errorf("error %q does not wrap ErrParse", err)
			}
			if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %q: wraps io.ErrUnexpectedEOF = %v, want %v", err, !tc.eof, tc.eof)
			}
		})
	}
}

func TestMarshalMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  ndp.Message
	}{
		{"nil message", nil},
		{"Router Advertisement Reserved past 6 bits", &ndp.RouterAdvertisement{Reserved: 0x40}},
		{"Router Advertisement lifetime past 16 bits", &ndp.RouterAdvertisement{RouterLifetime: 65536 * time.Second}},
		{"Router Advertisement Reachable Time not whole ms", &ndp.RouterAdvertisement{ReachableTime: 1500 * time.Microsecond}},
		{"Router Advertisement negative Retrans Timer", &ndp.RouterAdvertisement{RetransTimer: -time.Millisecond}},
		{"Neighbor Solicitation without a target", &ndp.NeighborSolicitation{}},
		{"Neighbor Advertisement with an IPv4 target", &ndp.NeighborAdvertisement{TargetAddress: netip.MustParseAddr("192.0.2.1")}},
		{"Neighbor Advertisement Reserved past 29 bits", &ndp.NeighborAdvertisement{Reserved: 1 << 29, TargetAddress: netip.IPv6Loopback()}},
		{"PrRtAdv Code 6", &ndp.ProxyRouterAdvertisement{Code: 6}},
		{"raw FMIPv6 message without a Subtype", &ndp.RawMessage{Type: ndp.TypeFMIPv6}},
		{"Router Solicitation with a bad option", &ndp.RouterSolicitation{Options: []ndp.Option{&ndp.Nonce{}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ndp.MarshalMessage(tc.msg)
			if !errors.Is(err, ndp.ErrInvalid) {
				t.Fatalf("MarshalMessage = %x, %v; want an error wrapping ErrInvalid", b, err)
			}
		})
	}
}

// TestChecksum checks Checksum against a sum computed by hand over 16-bit
// words, independently of internal/inet.
func TestChecksum(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	dst := netip.MustParseAddr("ff02::1:ff00:2")
	ns := &ndp.NeighborSolicitation{
		TargetAddress: netip.MustParseAddr("fe80::2"),
		Options:       []ndp.Option{&ndp.SourceLinkLayerAddress{LinkLayerAddress: mac}},
	}
	msg, err := ndp.MarshalMessage(ns)
	if err != nil {
		t.Fatal(err)
	}
	words := []uint32{
		0xfe80, 0, 0, 0, 0, 0, 0, 0x0001, // source
		0xff02, 0, 0, 0, 0, 0x0001, 0xff00, 0x0002, // destination
		0, 32, // upper-layer length
		0, 58, // zero and next header
		0x8700, 0x0000, // Type 135, Code 0, Checksum 0
		0, 0, // Reserved
		0xfe80, 0, 0, 0, 0, 0, 0, 0x0002, // Target Address
		0x0101, 0x0200, 0x5e10, 0x0001, // Source Link-Layer Address option
	}
	var sum uint32
	for _, w := range words {
		sum += w
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	want := ^uint16(sum)
	if got := ndp.Checksum(src, dst, msg); got != want {
		t.Fatalf("Checksum = %#04x, want %#04x", got, want)
	}
	filled, err := ndp.MarshalMessageWithChecksum(ns, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := uint16(filled[2])<<8 | uint16(filled[3]); got != want {
		t.Fatalf("MarshalMessageWithChecksum wrote %#04x, want %#04x", got, want)
	}
	if ns.Checksum != 0 {
		t.Fatal("MarshalMessageWithChecksum changed the message")
	}
	// Checksum ignores whatever the field holds.
	if got := ndp.Checksum(src, dst, filled); got != want {
		t.Fatalf("Checksum over a filled message = %#04x, want %#04x", got, want)
	}
	if err := ndp.VerifyChecksum(src, dst, filled); err != nil {
		t.Fatalf("VerifyChecksum: %v", err)
	}
	for _, bad := range []struct {
		name     string
		src, dst netip.Addr
		flip     int
	}{
		{"flipped option octet", src, dst, len(filled) - 1},
		{"wrong source", netip.MustParseAddr("fe80::3"), dst, -1},
	} {
		b := bytes.Clone(filled)
		if bad.flip >= 0 {
			b[bad.flip] ^= 0x40
		}
		if err := ndp.VerifyChecksum(bad.src, bad.dst, b); !errors.Is(err, ndp.ErrChecksum) {
			t.Errorf("%s: VerifyChecksum = %v, want ErrChecksum", bad.name, err)
		}
	}
	if err := ndp.VerifyChecksum(src, dst, filled[:3]); !errors.Is(err, ndp.ErrParse) {
		t.Errorf("VerifyChecksum of 3 octets = %v, want ErrParse", err)
	}
}
