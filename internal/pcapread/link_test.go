package pcapread

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"

	"github.com/fhkey/fhkey/internal/capture"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	macMN  = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macPAR = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	src    = netip.MustParseAddr("2001:db8:1::100")
	dst    = netip.MustParseAddr("2001:db8:1::1")
	home   = netip.MustParseAddr("2001:db8:1::200")
)

// ipv6RS is a Router Solicitation in an IPv6 packet, checksum set.
func ipv6RS(t testing.TB) []byte {
	p := capture.Packet{HopLimit: 255, Source: src, Destination: dst, Protocol: 58, Payload: []byte{133, 0, 0, 0, 0, 0, 0, 0}}
	if p.SetChecksum() == nil {
		if b, err := p.Marshal(); err == nil {
			return b
		}
	}
	t.Fatal("cannot build the Router Solicitation")
	return nil
}

// TestDecodeLinkTypes decodes the same IPv6 packet under every link type,
// each frame written field by field.
func TestDecodeLinkTypes(t *testing.T) {
	ip := ipv6RS(t)
	cases := []struct {
		name  string
		lt    LinkType
		frame []byte
		want  Link
	}{
		{"Ethernet", LinkTypeEthernet, cat(
			macPAR,             // destination
			macMN,              // source
			[]byte{0x86, 0xdd}, // EtherType IPv6
			ip), Link{Type: LinkTypeEthernet, Source: macMN, Destination: macPAR, Offset: 14}},
		{"Ethernet padded to 60 octets", LinkTypeEthernet, cat(
			macPAR, macMN, []byte{0x86, 0xdd},
			ip[:40], ip[40:], // 48 octets of IPv6
			make([]byte, 4), // FCS-like trailer
		), Link{Type: LinkTypeEthernet, Source: macMN, Destination: macPAR, Offset: 14}},
		{"802.1Q", LinkTypeEthernet, cat(
			macPAR, macMN,
			[]byte{0x81, 0x00}, // TPID 802.1Q
			[]byte{0x20, 0x64}, // PCP 1, VID 100
			[]byte{0x86, 0xdd},
			ip), Link{Type: LinkTypeEthernet, Source: macMN, Destination: macPAR, VLANs: []uint16{100}, Offset: 18}},
		{"QinQ", LinkTypeEthernet, cat(
			macPAR, macMN,
			[]byte{0x88, 0xa8}, // TPID 802.1ad S-tag
			[]byte{0x00, 0x0a}, // VID 10
			[]byte{0x81, 0x00}, // C-tag
			[]byte{0x0f, 0xff}, // VID 4095
			[]byte{0x86, 0xdd},
			ip), Link{Type: LinkTypeEthernet, Source: macMN, Destination: macPAR, VLANs: []uint16{10, 4095}, Offset: 22}},
		{"SLL", LinkTypeSLL, cat(
			[]byte{0x00, 0x04},  // packet type: sent by us
			[]byte{0x00, 0x01},  // ARPHRD_ETHER
			[]byte{0x00, 0x06},  // address length
			macMN, []byte{0, 0}, // address, padded to 8
			[]byte{0x86, 0xdd}, // protocol
			ip), Link{Type: LinkTypeSLL, Source: macMN, PacketType: 4, Offset: 16}},
		{"SLL2", LinkTypeSLL2, cat(
			[]byte{0x86, 0xdd},             // protocol
			[]byte{0x00, 0x00},             // reserved
			[]byte{0x00, 0x00, 0x00, 0x07}, // interface index 7
			[]byte{0x00, 0x01},             // ARPHRD_ETHER
			[]byte{0x00},                   // packet type: to us
			[]byte{0x06},                   // address length
			macMN, []byte{0, 0},
			ip), Link{Type: LinkTypeSLL2, Source: macMN, Interface: 7, Offset: 20}},
		{"SLL2 with VLAN", LinkTypeSLL2, cat(
			[]byte{0x81, 0x00}, []byte{0, 0}, []byte{0, 0, 0, 2}, []byte{0, 1}, []byte{0}, []byte{6}, macMN, []byte{0, 0},
			[]byte{0x00, 0x05}, []byte{0x86, 0xdd}, // VID 5, IPv6
			ip), Link{Type: LinkTypeSLL2, Source: macMN, Interface: 2, VLANs: []uint16{5}, Offset: 24}},
		{"raw 101", LinkTypeRaw, ip, Link{Type: LinkTypeRaw}},
		{"raw 12", LinkTypeRaw12, ip, Link{Type: LinkTypeRaw12}},
		{"raw 14", LinkTypeRaw14, ip, Link{Type: LinkTypeRaw14}},
		{"IPv6 229", LinkTypeIPv6, ip, Link{Type: LinkTypeIPv6}},
		{"NULL little endian (AF_INET6 30, macOS)", LinkTypeNull, cat([]byte{30, 0, 0, 0}, ip), Link{Type: LinkTypeNull, Offset: 4}},
		{"NULL big endian (AF_INET6 24)", LinkTypeNull, cat([]byte{0, 0, 0, 24}, ip), Link{Type: LinkTypeNull, Offset: 4}},
		{"LOOP (AF_INET6 28)", LinkTypeLoop, cat([]byte{0, 0, 0, 28}, ip), Link{Type: LinkTypeLoop, Offset: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.lt, tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Link, tc.want) {
				t.Errorf("link %+v, want %+v", p.Link, tc.want)
			}
			if p.IPv6.Source != src || p.IPv6.Protocol != 58 || !bytes.Equal(p.IPv6.Payload, ip[40:]) || p.Fragment != nil {
				t.Errorf("IPv6 %+v", p.IPv6)
			}
			if err := p.IPv6.VerifyChecksum(); err != nil {
				t.Error(err)
			}
			if p.Link.String() == "" {
				t.Error("empty description")
			}
		})
	}
}

// TestDecodeExtensionHeaders walks Hop-by-Hop, Destination Options with
// the Home Address option, Routing type 2 and a Fragment header.
func TestDecodeExtensionHeaders(t *testing.T) {
	hbh := capture.ExtensionHeader{Protocol: capture.ProtocolHopByHop, Data: []byte{5, 2, 0, 0, 1, 0}} // Router Alert 0, PadN
	rh2 := capture.ExtensionHeader{Protocol: capture.ProtocolRouting, Data: cat([]byte{2, 1, 0, 0, 0, 0}, home.AsSlice())}
	p := capture.Packet{HopLimit: 64, Source: src, Destination: dst, Protocol: 135,
		ExtensionHeaders: []capture.ExtensionHeader{hbh, rh2, capture.HomeAddressHeader(home)},
		Payload:          []byte{59, 0, 0, 0, 0, 0, 0, 0}}
	if err := p.SetChecksum(); err != nil {
		t.Fatal(err)
	}
	b, _ := p.Marshal()
	got, err := Decode(LinkTypeRaw, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got.IPv6, p) {
		t.Fatalf("got %+v\nwant %+v", *got.IPv6, p)
	}
	if h, ok := got.IPv6.HomeAddress(); !ok || h != home {
		t.Errorf("home address %v %v", h, ok)
	}
	if s, d := got.IPv6.PseudoHeaderAddresses(); s != home || d != home {
		t.Errorf("pseudo-header %v -> %v, want the home address both ways (HAO and RH2)", s, d)
	}

	frag := capture.Packet{HopLimit: 64, Source: src, Destination: dst, Protocol: protocolFragment, Payload: cat(
		[]byte{58},                     // next header ICMPv6
		[]byte{0},                      // reserved
		[]byte{0x00, 0xb9},             // offset 23 (x8 = 184), M = 1
		[]byte{0xde, 0xad, 0xbe, 0xef}, // identification
		make([]byte, 16))}
	b, _ = frag.Marshal()
	got, err = Decode(LinkTypeIPv6, b)
	if err != nil {
		t.Fatal(err)
	}
	want := Fragment{NextHeader: 58, Offset: 23, MoreFragments: true, Identification: 0xdeadbeef}
	if got.Fragment == nil || *got.Fragment != want {
		t.Errorf("fragment %+v, want %+v", got.Fragment, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	ip := ipv6RS(t)
	eth := func(et ...byte) []byte { return cat(macPAR, macMN, et) }
	cases := []struct {
		name  string
		lt    LinkType
		frame []byte
		want  error
		trunc bool
	}{
		{"short Ethernet", LinkTypeEthernet, macPAR, ErrLink, true},
		{"IPv4 EtherType", LinkTypeEthernet, cat(eth(0x08, 0x00), ip), ErrNotIPv6, false},
		{"802.3 length", LinkTypeEthernet, cat(eth(0x00, 0x40), ip), ErrNotIPv6, false},
		{"VLAN tag cut", LinkTypeEthernet, eth(0x81, 0x00, 0x00), ErrLink, true},
		{"short SLL", LinkTypeSLL, make([]byte, 15), ErrLink, true},
		{"short SLL2", LinkTypeSLL2, make([]byte, 19), ErrLink, true},
		{"ARP in SLL2", LinkTypeSLL2, cat([]byte{0x08, 0x06}, make([]byte, 18)), ErrNotIPv6, false},
		{"short NULL", LinkTypeNull, []byte{30, 0}, ErrLink, true},
		{"IPv4 in NULL", LinkTypeNull, cat([]byte{2, 0, 0, 0}, ip), ErrNotIPv6, false},
		{"IPv4 in raw", LinkTypeRaw, cat([]byte{0x45}, ip[1:]), ErrNotIPv6, false},
		{"IPv4 link type", LinkTypeIPv4, ip, ErrNotIPv6, false},
		{"unknown link type", 147, ip, ErrLinkType, false},
		{"snaplen-truncated IPv6", LinkTypeRaw, ip[:45], capture.ErrParse, true},
		{"short IPv6 header", LinkTypeRaw, ip[:20], capture.ErrParse, true},
		{"fragment header cut", LinkTypeRaw, func() []byte {
			p := capture.Packet{Source: src, Destination: dst, Protocol: protocolFragment, Payload: []byte{58, 0, 0}}
			b, _ := p.Marshal()
			return b
		}(), capture.ErrParse, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.lt, tc.frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.trunc {
				t.Errorf("truncation %v, want %v (%v)", got, tc.trunc, err)
			}
		})
	}
}
