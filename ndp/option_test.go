package ndp_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/ndp"
)

// tinyKey is a minimal DER SEQUENCE, enough for the codecs that only
// delimit the key.
var tinyKey = []byte{0x30, 0x03, 0x02, 0x01, 0x05}

// derName is a DER X.501 Name: SEQUENCE { SET { SEQUENCE { 2.5.4.3,
// UTF8String "test" } } }.
var derName = []byte{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 't', 'e', 's', 't'}

var testModifier = [16]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}

var testSubnetPrefix = [8]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1}

// testSignature stands for a 2048-bit RSA signature.
var testSignature = seq(0x40, 256)

var mac = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}

type optionCase struct {
	name string
	// opt is what is marshalled.
	opt ndp.Option
	// parsed is what parsing want gives back; nil means opt.
	parsed ndp.Option
	want   []byte
}

func optionCases() []optionCase {
	fqdn, err := ndp.EncodeFQDN("trustanchor.example.com")
	if err != nil {
		panic(err)
	}
	return []optionCase{
		{
			name: "Source Link-Layer Address, Ethernet",
			opt:  &ndp.SourceLinkLayerAddress{LinkLayerAddress: mac},
			want: wire(
				1,           // Type: Source Link-Layer Address
				1,           // Length: 1 (8 octets)
				[]byte(mac), // Link-Layer Address
			),
		},
		{
			name: "Target Link-Layer Address, Ethernet",
			opt:  &ndp.TargetLinkLayerAddress{LinkLayerAddress: mac},
			want: wire(
				2,           // Type: Target Link-Layer Address
				1,           // Length: 1
				[]byte(mac), // Link-Layer Address
			),
		},
		{
			name: "Source Link-Layer Address, EUI-64 padded",
			opt:  &ndp.SourceLinkLayerAddress{LinkLayerAddress: net.HardwareAddr(seq(1, 8))},
			parsed: &ndp.SourceLinkLayerAddress{
				LinkLayerAddress: net.HardwareAddr(wire(seq(1, 8), zeros(6))),
			},
			want: wire(
				1,         // Type
				2,         // Length: 2 (16 octets)
				seq(1, 8), // Link-Layer Address
				zeros(6),  // zero padding to 64 bits
			),
		},
		{
			name: "Prefix Information",
			opt: &ndp.PrefixInformation{
				Prefix:            netip.MustParsePrefix("2001:db8:0:1::/64"),
				OnLink:            true,
				Autonomous:        true,
				ValidLifetime:     24 * time.Hour,
				PreferredLifetime: 4 * time.Hour,
			},
			want: wire(
				3,                    // Type: Prefix Information
				4,                    // Length: 4
				64,                   // Prefix Length
				0xc0,                 // L=1 A=1 R=0 Reserved1=0
				u32(86400),           // Valid Lifetime
				u32(14400),           // Preferred Lifetime
				u32(0),               // Reserved2
				ip("2001:db8:0:1::"), // Prefix
			),
		},
		{
			name: "Prefix Information, infinite, R flag, reserved bits and host bits kept",
			opt: &ndp.PrefixInformation{
				Prefix:            netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 64),
				OnLink:            true,
				RouterAddress:     true,
				Reserved1:         0x01,
				ValidLifetime:     ndp.Infinity,
				PreferredLifetime: ndp.Infinity,
				Reserved2:         0xdeadbeef,
			},
			want: wire(
				3,                 // Type
				4,                 // Length
				64,                // Prefix Length
				0xa1,              // L=1 A=0 R=1 Reserved1=00001
				u32(0xffffffff),   // Valid Lifetime: infinity
				u32(0xffffffff),   // Preferred Lifetime: infinity
				u32(0xdeadbeef),   // Reserved2, as received
				ip("2001:db8::1"), // Prefix with bits after /64 as received
			),
		},
		{
			name: "MTU",
			opt:  &ndp.MTU{MTU: 1500},
			want: wire(
				5,         // Type: MTU
				1,         // Length: 1
				u16(0),    // Reserved
				u32(1500), // MTU
			),
		},
		{
			name: "CGA, RSA 2048 key, over 255 octets",
			opt: &ndp.CGA{Parameters: cga.Parameters{
				Modifier:     testModifier,
				SubnetPrefix: testSubnetPrefix,
				PublicKey:    testSPKI,
			}},
			parsed: &ndp.CGA{Parameters: cga.Parameters{
				Modifier:     testModifier,
				SubnetPrefix: testSubnetPrefix,
				PublicKey:    testSPKI,
			}, Padding: zeros(5)},
			want: wire(
				11,                  // Type: CGA
				41,                  // Length: 41 (328 octets)
				5,                   // Pad Length
				0,                   // Reserved
				testModifier[:],     // CGA Parameters: Modifier
				testSubnetPrefix[:], // CGA Parameters: Subnet Prefix
				0,                   // CGA Parameters: Collision Count
				testSPKI,            // CGA Parameters: Public Key (294 octets)
				zeros(5),            // Padding
			),
		},
		{
			name: "CGA with an extension field and received non-zero padding",
			opt: &ndp.CGA{
				Reserved: 0x7f,
				Parameters: cga.Parameters{
					Modifier:       testModifier,
					SubnetPrefix:   testSubnetPrefix,
					CollisionCount: 2,
					PublicKey:      tinyKey,
					Extensions:     []cga.Extension{{Type: 0xfffe, Data: []byte{1, 2, 3}}},
				},
				Padding: seq(0xa0, 7),
			},
			want: wire(
				11,                  // Type: CGA
				6,                   // Length: 6 (48 octets)
				7,                   // Pad Length
				0x7f,                // Reserved, as received
				testModifier[:],     // Modifier
				testSubnetPrefix[:], // Subnet Prefix
				2,                   // Collision Count
				tinyKey,             // Public Key
				u16(0xfffe),         // Extension Type
				u16(3),              // Extension Data Length
				[]byte{1, 2, 3},     // Extension Data
				seq(0xa0, 7),        // Padding, as received
			),
		},
		{
			name: "RSA Signature, 2048-bit signature",
			opt:  &ndp.RSASignature{KeyHash: [16]byte(seq(0x10, 16)), DigitalSignature: testSignature},
			parsed: &ndp.RSASignature{
				KeyHash:          [16]byte(seq(0x10, 16)),
				DigitalSignature: wire(testSignature, zeros(4)),
			},
			want: wire(
				12,            // Type: RSA Signature
				35,            // Length: 35 (280 octets)
				u16(0),        // Reserved
				seq(0x10, 16), // Key Hash
				testSignature, // Digital Signature (256 octets)
				zeros(4),      // Padding
			),
		},
		{
			name: "Timestamp",
			opt:  ndp.NewTimestamp(time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC)),
			want: wire(
				13,                                   // Type: Timestamp
				2,                                    // Length: 2
				zeros(6),                             // Reserved
				[]byte{0, 0, 0x67, 0x76, 0x02, 0x25}, // Timestamp: 1735787045 s
				u16(0x8000),                          // Timestamp: 1/2 s in 1/64K
			),
		},
		{
			name: "Nonce, 6 octets",
			opt:  &ndp.Nonce{Nonce: seq(0xc0, 6)},
			want: wire(
				14,           // Type: Nonce
				1,            // Length: 1
				seq(0xc0, 6), // Nonce
			),
		},
		{
			name: "Nonce, 14 octets",
			opt:  &ndp.Nonce{Nonce: seq(0xc0, 14)},
			want: wire(
				14,            // Type: Nonce
				2,             // Length: 2
				seq(0xc0, 14), // Nonce
			),
		},
		{
			name:   "Trust Anchor, DER X.501 Name",
			opt:    &ndp.TrustAnchor{NameType: ndp.NameTypeDERX501Name, TrustAnchorName: derName},
			parsed: &ndp.TrustAnchor{NameType: ndp.NameTypeDERX501Name, TrustAnchorName: derName, Padding: zeros(3)},
			want: wire(
				15,       // Type: Trust Anchor
				3,        // Length: 3 (24 octets)
				1,        // Name Type: DER Encoded X.501 Name
				3,        // Pad Length
				derName,  // Name (17 octets)
				zeros(3), // Padding
			),
		},
		{
			name:   "Trust Anchor, FQDN",
			opt:    &ndp.TrustAnchor{NameType: ndp.NameTypeFQDN, TrustAnchorName: fqdn},
			parsed: &ndp.TrustAnchor{NameType: ndp.NameTypeFQDN, TrustAnchorName: fqdn, Padding: zeros(3)},
			want: wire(
				15,                        // Type: Trust Anchor
				4,                         // Length: 4 (32 octets)
				2,                         // Name Type: FQDN
				3,                         // Pad Length
				11, []byte("trustanchor"), // Name: label
				7, []byte("example"), // Name: label
				3, []byte("com"), // Name: label
				0,        // Name: root label
				zeros(3), // Padding
			),
		},
		{
			name:   "Trust Anchor, SHA-256 SKI (RFC 6495)",
			opt:    &ndp.TrustAnchor{NameType: ndp.NameTypeSHA256SKI, TrustAnchorName: seq(0x80, 32)},
			parsed: &ndp.TrustAnchor{NameType: ndp.NameTypeSHA256SKI, TrustAnchorName: seq(0x80, 32), Padding: zeros(4)},
			want: wire(
				15,            // Type: Trust Anchor
				5,             // Length: 5 (40 octets)
				5,             // Name Type: SHA-256 SKI
				4,             // Pad Length
				seq(0x80, 32), // Name: SKI
				zeros(4),      // Padding
			),
		},
		{
			name:   "Certificate, X.509v3 of 806 octets",
			opt:    &ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: testCert},
			parsed: &ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: testCert, Padding: zeros(6)},
			want: wire(
				16,       // Type: Certificate
				102,      // Length: 102 (816 octets)
				1,        // Cert Type: X.509v3
				0,        // Reserved
				testCert, // Certificate
				zeros(6), // Padding
			),
		},
		{
			name: "IP Address/Prefix, NAR's prefix",
			opt: &ndp.IPAddressPrefix{
				OptionCode:   ndp.IPAddressNARPrefix,
				PrefixLength: 64,
				IPv6Address:  netip.MustParseAddr("2001:db8:2::"),
			},
			want: wire(
				17,                 // Type: IP Address/Prefix
				3,                  // Length: 3
				4,                  // Option-Code: NAR's Prefix
				64,                 // Prefix Length
				u32(0),             // Reserved
				ip("2001:db8:2::"), // IPv6 Address
			),
		},
		{
			name: "Link-Layer Address, New Access Point",
			opt:  &ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: mac},
			parsed: &ndp.LinkLayerAddress{
				OptionCode:       ndp.LLANewAccessPoint,
				LinkLayerAddress: wire([]byte(mac), zeros(7)),
			},
			want: wire(
				19,          // Type: Link-Layer Address
				2,           // Length: 2 (16 octets)
				1,           // Option-Code: New Access Point
				[]byte(mac), // LLA
				zeros(7),    // padding
			),
		},
		{
			name: "NAACK, no new CoA",
			opt:  &ndp.NAACK{Status: ndp.NAACKAddressConfiguration},
			want: wire(
				20,     // Type: NAACK
				1,      // Length: 1
				0,      // Option-Code
				1,      // Status: perform address configuration
				u32(0), // Reserved
			),
		},
		{
			name: "NAACK, supplied NCoA",
			opt: &ndp.NAACK{
				Status:       ndp.NAACKUseSuppliedNCoA,
				SuppliedNCoA: netip.MustParseAddr("2001:db8:2::1234"),
			},
			want: wire(
				20,                     // Type: NAACK
				3,                      // Length: 3 (new CoA present)
				0,                      // Option-Code
				2,                      // Status: use the supplied NCoA
				u32(0),                 // Reserved
				ip("2001:db8:2::1234"), // NCoA, immediately after Reserved
			),
		},
		{
			name: "Handover Key Request, RSA 2048 key",
			opt:  &ndp.HandoverKeyRequest{AT: 1, HandoverKeyEncryptionPublicKey: testSPKI},
			parsed: &ndp.HandoverKeyRequest{
				AT:                             1,
				HandoverKeyEncryptionPublicKey: testSPKI,
				Padding:                        zeros(6),
			},
			want: wire(
				27,       // Type: Handover Key Request
				38,       // Length: 38 (304 octets)
				6,        // Pad Length
				0x10,     // AT=1, Reserved=0
				testSPKI, // Handover Key Encryption Public Key
				zeros(6), // Padding
			),
		},
		{
			name: "Handover Key Reply",
			opt: &ndp.HandoverKeyReply{
				AT:                   1,
				KeyLifetime:          12 * time.Hour,
				EncryptedHandoverKey: testSignature,
			},
			parsed: &ndp.HandoverKeyReply{
				AT:                   1,
				KeyLifetime:          12 * time.Hour,
				EncryptedHandoverKey: testSignature,
				Padding:              zeros(2),
			},
			want: wire(
				28,            // Type: Handover Key Reply
				33,            // Length: 33 (264 octets)
				2,             // Pad Length
				0x10,          // AT=1, Reserved=0
				u16(43200),    // Key Lifetime: HK-LIFETIME, 12 h
				testSignature, // Encrypted Handover Key (256 octets)
				zeros(2),      // Padding
			),
		},
		{
			name: "Handover Assist Information, no padding",
			opt:  &ndp.HandoverAssistInformation{OptionCode: ndp.HAIAccessNetworkIdentifier, HAIValue: []byte{1, 2, 3, 4}},
			want: wire(
				29,                 // Type: Handover Assist Information
				1,                  // Length: 1
				1,                  // Option-Code: AN ID
				4,                  // HAI-Length
				[]byte{1, 2, 3, 4}, // HAI-Value
			),
		},
		{
			name: "Mobile Node Identifier, NAI",
			opt:  &ndp.MobileNodeIdentifier{OptionCode: ndp.MNIDNAI, MNID: []byte("mn@example.com")},
			parsed: &ndp.MobileNodeIdentifier{
				OptionCode: ndp.MNIDNAI,
				MNID:       []byte("mn@example.com"),
				Padding:    zeros(6),
			},
			want: wire(
				30,                       // Type: Mobile Node Identifier
				3,                        // Length: 3 (24 octets)
				1,                        // Option-Code: NAI
				14,                       // MN ID-Length
				[]byte("mn@example.com"), // MN ID
				zeros(6),                 // padding
			),
		},
		{
			name: "unknown option kept raw",
			opt:  &ndp.RawOption{Type: 200, Data: seq(1, 6)},
			want: wire(
				200,       // Type: unassigned
				1,         // Length: 1
				seq(1, 6), // data, as received
			),
		},
	}
}

func TestOptionRoundTrip(t *testing.T) {
	for _, tc := range optionCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ndp.MarshalOptions([]ndp.Option{tc.opt})
			if err != nil {
				t.Fatalf("MarshalOptions: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("MarshalOptions:\n got %x\nwant %x", got, tc.want)
			}
			opts, err := ndp.ParseOptions(tc.want)
			if err != nil {
				t.Fatalf("ParseOptions: %v", err)
			}
			want := tc.parsed
			if want == nil {
				want = tc.opt
			}
			if len(opts) != 1 || !reflect.DeepEqual(opts[0], want) {
				t.Fatalf("ParseOptions:\n got %#v\nwant %#v", opts, want)
			}
			if opts[0].OptionType() != ndp.OptionType(tc.want[0]) || opts[0].Name() == "" {
				t.Errorf("OptionType %d Name %q", opts[0].OptionType(), opts[0].Name())
			}
			// What was parsed re-marshals to the same octets.
			again, err := ndp.MarshalOptions(opts)
			if err != nil || !bytes.Equal(again, tc.want) {
				t.Fatalf("re-marshal: %v\n got %x\nwant %x", err, again, tc.want)
			}
		})
	}
}

func TestParseOptionsSequence(t *testing.T) {
	b := wire(
		1, 1, []byte(mac), // Source Link-Layer Address
		14, 1, seq(0xc0, 6), // Nonce
		5, 1, u16(0), u32(1280), // MTU
	)
	opts, err := ndp.ParseOptions(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []ndp.Option{
		&ndp.SourceLinkLayerAddress{LinkLayerAddress: mac},
		&ndp.Nonce{Nonce: seq(0xc0, 6)},
		&ndp.MTU{MTU: 1280},
	}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("got %#v\nwant %#v", opts, want)
	}
	if opts, err := ndp.ParseOptions(nil); err != nil || opts != nil {
		t.Fatalf("ParseOptions(nil) = %v, %v; want nil, nil", opts, err)
	}
}

// TestParseOptionsDoesNotAlias checks that parsed options own their octets.
func TestParseOptionsDoesNotAlias(t *testing.T) {
	b := wire(14, 1, seq(0xc0, 6))
	opts, err := ndp.ParseOptions(b)
	if err != nil {
		t.Fatal(err)
	}
	b[2] = 0
	if got := opts[0].(*ndp.Nonce).Nonce[0]; got != 0xc0 {
		t.Fatalf("Nonce aliases the input: first octet now %#x", got)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		eof  bool    // the error must also wrap io.ErrUnexpectedEOF
		also []error // further sentinels the error must wrap
	}{
		{name: "length zero", b: wire(1, 0, zeros(6))},
		{name: "length zero after a good option", b: wire(14, 1, seq(1, 6), 200, 0)},
		{name: "lone type octet", b: wire(1), eof: true},
		{name: "length past the end", b: wire(1, 2, zeros(6)), eof: true},
		{name: "trailing octet", b: wire(14, 1, seq(1, 6), 0), eof: true},
		{name: "Prefix Information length 3", b: wire(3, 3, 64, 0xc0, zeros(20))},
		{name: "Prefix Information prefix length 129", b: wire(3, 4, 129, 0xc0, zeros(28))},
		{name: "MTU length 2", b: wire(5, 2, zeros(14))},
		{name: "CGA pad length past the end", b: wire(11, 1, 7, 0, zeros(4))},
		{name: "CGA parameters too short", b: wire(11, 1, 0, 0, zeros(4)), eof: true, also: []error{cga.ErrParse}},
		{name: "CGA public key not DER", b: wire(11, 4, 1, 0, zeros(25), 0x31, 0, 0), also: []error{cga.ErrParse}},
		{name: "RSA Signature length 2", b: wire(12, 2, zeros(14)), eof: true},
		{name: "Timestamp length 1", b: wire(13, 1, zeros(6))},
		{name: "Timestamp length 3", b: wire(13, 3, zeros(22))},
		{name: "Trust Anchor pad length past the end", b: wire(15, 1, 1, 5, zeros(4))},
		{name: "Trust Anchor SHA-1 SKI of 19 octets", b: wire(15, 3, 3, 1, seq(1, 19), zeros(1))},
		{name: "Trust Anchor FQDN label past the end", b: wire(15, 1, 2, 0, 9, 'a', 'b', 'c')},
		{name: "Trust Anchor FQDN compression pointer", b: wire(15, 1, 2, 2, 0xc0, 0x0c, 0, 0)},
		{name: "Trust Anchor FQDN data after root", b: wire(15, 1, 2, 0, 1, 'a', 0, 1)},
		{name: "Certificate type 1 not DER", b: wire(16, 1, 1, 0, 0x31, 0, 0, 0)},
		{name: "Certificate DER longer than the option", b: wire(16, 1, 1, 0, 0x30, 0x10, 0, 0), eof: true},
		{name: "IP Address/Prefix length 2", b: wire(17, 2, 4, 64, zeros(12))},
		{name: "IP Address/Prefix prefix length 200", b: wire(17, 3, 4, 200, zeros(20))},
		{name: "NAACK length 2", b: wire(20, 2, 0, 2, zeros(12))},
		{name: "Handover Key Request pad length past the end", b: wire(27, 1, 5, 0x10, tinyKey[:4])},
		{name: "Handover Key Request key not DER", b: wire(27, 1, 0, 0x10, 0x31, 0x02, 0, 0)},
		{name: "Handover Key Request key shorter than its DER length", b: wire(27, 1, 0, 0x10, 0x30, 0x10, 0, 0), eof: true},
		{name: "Handover Key Request pad length too small", b: wire(27, 2, 1, 0x10, tinyKey, zeros(7))},
		{name: "Handover Key Reply pad length past the end", b: wire(28, 1, 3, 0x10, u16(60), 0, 0)},
		{name: "Handover Assist Information length past the end", b: wire(29, 1, 1, 5, 1, 2, 3, 4), eof: true},
		{name: "Mobile Node Identifier length past the end", b: wire(30, 1, 1, 200, zeros(4)), eof: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ndp.ParseOptions(tc.b)
			if err == nil {
				t.Fatalf("ParseOptions = %#v, want an error", opts)
			}
			if !errors.Is(err, ndp.ErrParse) {
				t.Errorf("error %q does not wrap ErrParse", err)
			}
			if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %q: wraps io.ErrUnexpectedEOF = %v, want %v", err, !tc.eof, tc.eof)
			}
			for _, s := range tc.also {
				if !errors.Is(err, s) {
					t.Errorf("error %q does not wrap %v", err, s)
				}
			}
		})
	}
}

func TestMarshalOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  ndp.Option
	}{
		{"nil option", nil},
		{"Nonce of 5 octets", &ndp.Nonce{Nonce: seq(1, 5)}},
		{"Nonce of 7 octets", &ndp.Nonce{Nonce: seq(1, 7)}},
		{"Prefix Information without a prefix", &ndp.PrefixInformation{}},
		{"Prefix Information with an IPv4 prefix", &ndp.PrefixInformation{Prefix: netip.MustParsePrefix("192.0.2.0/24")}},
		{"Prefix Information lifetime not whole seconds", &ndp.PrefixInformation{
			Prefix: netip.MustParsePrefix("2001:db8::/64"), ValidLifetime: 1500 * time.Millisecond}},
		{"Prefix Information negative lifetime", &ndp.PrefixInformation{
			Prefix: netip.MustParsePrefix("2001:db8::/64"), PreferredLifetime: -time.Second}},
		{"Prefix Information lifetime past 32 bits", &ndp.PrefixInformation{
			Prefix: netip.MustParsePrefix("2001:db8::/64"), ValidLifetime: ndp.Infinity + time.Second}},
		{"Prefix Information Reserved1 past 5 bits", &ndp.PrefixInformation{
			Prefix: netip.MustParsePrefix("2001:db8::/64"), Reserved1: 0x20}},
		{"CGA key not DER", &ndp.CGA{Parameters: cga.Parameters{PublicKey: []byte{1, 2, 3}}}},
		{"CGA padding that misaligns", &ndp.CGA{Parameters: cga.Parameters{PublicKey: tinyKey}, Padding: zeros(2)}},
		{"Trust Anchor SKI of the wrong size", &ndp.TrustAnchor{NameType: ndp.NameTypeSHA1SKI, TrustAnchorName: seq(1, 32)}},
		{"Trust Anchor FQDN not in wire format", &ndp.TrustAnchor{NameType: ndp.NameTypeFQDN, TrustAnchorName: []byte("example.com")}},
		{"Trust Anchor pad length past 8 bits", &ndp.TrustAnchor{NameType: ndp.NameTypeDERX501Name, TrustAnchorName: derName, Padding: zeros(259)}},
		{"Certificate with octets after the DER", &ndp.Certificate{CertType: 1, Certificate: wire(tinyKey, 0)}},
		{"Certificate of type 1 not DER", &ndp.Certificate{CertType: 1, Certificate: []byte{1, 2, 3}}},
		{"Certificate of type 2 with padding", &ndp.Certificate{CertType: 2, Certificate: seq(1, 3), Padding: zeros(1)}},
		{"IP Address/Prefix prefix length 129", &ndp.IPAddressPrefix{PrefixLength: 129, IPv6Address: netip.IPv6Loopback()}},
		{"IP Address/Prefix with an IPv4 address", &ndp.IPAddressPrefix{IPv6Address: netip.MustParseAddr("192.0.2.1")}},
		{"IP Address/Prefix without an address", &ndp.IPAddressPrefix{}},
		{"NAACK with an IPv4 NCoA", &ndp.NAACK{Status: 2, SuppliedNCoA: netip.MustParseAddr("192.0.2.1")}},
		{"Handover Key Request AT past 4 bits", &ndp.HandoverKeyRequest{AT: 16, HandoverKeyEncryptionPublicKey: tinyKey}},
		{"Handover Key Request key not DER", &ndp.HandoverKeyRequest{HandoverKeyEncryptionPublicKey: []byte{1, 2}}},
		{"Handover Key Request key with trailing octets", &ndp.HandoverKeyRequest{HandoverKeyEncryptionPublicKey: wire(tinyKey, 0)}},
		{"Handover Key Reply Reserved past 4 bits", &ndp.HandoverKeyReply{Reserved: 16}},
		{"Handover Key Reply lifetime past 16 bits", &ndp.HandoverKeyReply{KeyLifetime: 65536 * time.Second}},
		{"Handover Assist Information value past 255 octets", &ndp.HandoverAssistInformation{HAIValue: zeros(256)}},
		{"Mobile Node Identifier padding that misaligns", &ndp.MobileNodeIdentifier{MNID: zeros(4), Padding: zeros(1)}},
		{"option past 2040 octets", &ndp.RawOption{Type: 200, Data: zeros(2040)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ndp.MarshalOptions([]ndp.Option{tc.opt})
			if !errors.Is(err, ndp.ErrInvalid) {
				t.Fatalf("MarshalOptions = %x, %v; want an error wrapping ErrInvalid", b, err)
			}
		})
	}
}

// TestLargestOption checks the 2040-octet limit from the accepting side.
func TestLargestOption(t *testing.T) {
	o := &ndp.RawOption{Type: 200, Data: zeros(2038)}
	b, err := ndp.MarshalOptions([]ndp.Option{o})
	if err != nil || len(b) != 2040 || b[1] != 255 {
		t.Fatalf("MarshalOptions: %d octets, Length %d, %v", len(b), b[1], err)
	}
}

func TestTimestampTime(t *testing.T) {
	tm := time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC)
	o := ndp.NewTimestamp(tm)
	if want := uint64(1735787045)<<16 | 0x8000; o.Timestamp != want {
		t.Fatalf("Timestamp = %#x, want %#x", o.Timestamp, want)
	}
	if !o.Time().Equal(tm) {
		t.Fatalf("Time() = %v, want %v", o.Time(), tm)
	}
	// Every raw fraction survives Time and back.
	for frac := uint64(0); frac < 1<<16; frac += 997 {
		raw := uint64(1735787045)<<16 | frac
		if got := ndp.TimestampValue((&ndp.Timestamp{Timestamp: raw}).Time()); got != raw {
			t.Fatalf("raw %#x: TimestampValue(Time()) = %#x", raw, got)
		}
	}
	// Rounding up to the next second carries.
	if got := ndp.TimestampValue(time.Unix(10, 999_999_999)); got != 11<<16 {
		t.Fatalf("TimestampValue(10.999999999 s) = %#x, want %#x", got, 11<<16)
	}
	if got := ndp.TimestampValue(time.Unix(-5, 0)); got != 0 {
		t.Fatalf("TimestampValue before 1970 = %#x, want 0", got)
	}
}

func TestFQDN(t *testing.T) {
	w, err := ndp.EncodeFQDN("trustanchor.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	want := wire(11, []byte("trustanchor"), 7, []byte("example"), 3, []byte("com"), 0)
	if !bytes.Equal(w, want) {
		t.Fatalf("EncodeFQDN = %x, want %x", w, want)
	}
	ta := &ndp.TrustAnchor{NameType: ndp.NameTypeFQDN, TrustAnchorName: w}
	if s, err := ta.FQDN(); err != nil || s != "trustanchor.example.com" {
		t.Fatalf("FQDN() = %q, %v", s, err)
	}
	for _, bad := range []string{"a..b", string(make([]byte, 64)) + ".com", "café.example"} {
		if _, err := ndp.EncodeFQDN(bad); !errors.Is(err, ndp.ErrInvalid) {
			t.Errorf("EncodeFQDN(%q) error %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := (&ndp.TrustAnchor{NameType: ndp.NameTypeDERX501Name}).FQDN(); !errors.Is(err, ndp.ErrParse) {
		t.Errorf("FQDN() of a DER name: %v, want ErrParse", err)
	}
}

func TestRSASignatureSplit(t *testing.T) {
	o := &ndp.RSASignature{DigitalSignature: wire(testSignature, zeros(4))}
	sig, pad, err := o.Signature(256)
	if err != nil || !bytes.Equal(sig, testSignature) || !bytes.Equal(pad, zeros(4)) {
		t.Fatalf("Signature(256) = %x, %x, %v", sig, pad, err)
	}
	if _, _, err := o.Signature(261); !errors.Is(err, ndp.ErrParse) {
		t.Fatalf("Signature(261) error %v, want ErrParse", err)
	}
}
