package certpath

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// h concatenates hex rows; each row is one DER field, commented in the
// tables below. Vectors are built by hand from the ASN.1 module of RFC 3779
// §2.2.3 and the BIT STRING rules of RFC 3779 §2.1.2 and §2.2.3.9 (the
// RFC 3779 text is not in the spec folder; every octet is derived in the
// row comments).
func h(rows ...string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(rows, ""), " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

func pr(s string) IPAddressOrRange { return PrefixRange(netip.MustParsePrefix(s)) }

func rng(lo, hi string) IPAddressOrRange { return IPAddressOrRange{Min: a(lo), Max: a(hi)} }

var roundTripTests = []struct {
	name   string
	blocks IPAddrBlocks
	der    []byte
}{
	{
		name:   "IPv6 prefix 2001:db8::/32",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8::/32")}}},
		der: h(
			"30 0f",             // IPAddrBlocks SEQUENCE, 15 octets
			"30 0d",             // IPAddressFamily SEQUENCE, 13 octets
			"04 02 00 02",       // addressFamily OCTET STRING: AFI 2 (IPv6), no SAFI
			"30 07",             // addressesOrRanges SEQUENCE OF, 7 octets
			"03 05 00 20010db8", // addressPrefix BIT STRING: 0 unused bits, 32 bits 2001:0db8
		),
	},
	{
		name:   "null prefix ::/0 (RFC 6494 §6 trust anchor)",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("::/0")}}},
		der: h(
			"30 0b",       // IPAddrBlocks, 11 octets
			"30 09",       // IPAddressFamily, 9 octets
			"04 02 00 02", // AFI 2
			"30 03",       // addressesOrRanges, 3 octets
			"03 01 00",    // addressPrefix: empty BIT STRING, 0 unused bits: ::/0
		),
	},
	{
		name:   "inherit",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, Inherit: true}},
		der: h(
			"30 08",       // IPAddrBlocks, 8 octets
			"30 06",       // IPAddressFamily, 6 octets
			"04 02 00 02", // AFI 2
			"05 00",       // inherit NULL
		),
	},
	{
		name:   "prefix /44 with 4 unused bits",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8:1230::/44")}}},
		der: h(
			"30 11",                  // IPAddrBlocks, 17 octets
			"30 0f",                  // IPAddressFamily, 15 octets
			"04 02 00 02",            // AFI 2
			"30 09",                  // addressesOrRanges, 9 octets
			"03 07 04 20010db8 1230", // addressPrefix: 4 unused bits, 44 bits 2001:0db8:123
		),
	},
	{
		name:   "SAFI 1",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, HasSAFI: true, SAFI: 1, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8:1::/48")}}},
		der: h(
			"30 12",                  // IPAddrBlocks, 18 octets
			"30 10",                  // IPAddressFamily, 16 octets
			"04 03 00 02 01",         // addressFamily: AFI 2, SAFI 1 (unicast)
			"30 09",                  // addressesOrRanges, 9 octets
			"03 07 00 20010db8 0001", // addressPrefix 2001:db8:1::/48
		),
	},
	{
		name: "IPv4 then IPv6, sorted by AFI",
		blocks: IPAddrBlocks{
			{AFI: AFIIPv4, AddressesOrRanges: []IPAddressOrRange{pr("10.0.0.0/8")}},
			{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8::/32")}},
		},
		der: h(
			"30 1b",             // IPAddrBlocks, 27 octets
			"30 0a",             // IPAddressFamily, 10 octets
			"04 02 00 01",       // AFI 1 (IPv4)
			"30 04",             // addressesOrRanges, 4 octets
			"03 02 00 0a",       // addressPrefix 10/8
			"30 0d",             // IPAddressFamily, 13 octets
			"04 02 00 02",       // AFI 2 (IPv6)
			"30 07",             // addressesOrRanges, 7 octets
			"03 05 00 20010db8", // addressPrefix 2001:db8::/32
		),
	},
	{
		name:   "range 2001:db8:1:: - 2001:db8:2:ffff:...",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{rng("2001:db8:1::", "2001:db8:2:ffff:ffff:ffff:ffff:ffff")}}},
		der: h(
			"30 1c",                  // IPAddrBlocks, 28 octets
			"30 1a",                  // IPAddressFamily, 26 octets
			"04 02 00 02",            // AFI 2
			"30 14",                  // addressesOrRanges, 20 octets
			"30 12",                  // addressRange SEQUENCE, 18 octets
			"03 07 00 20010db8 0001", // min: trailing zeros omitted, last bit (47) is 1: 48 bits
			"03 07 00 20010db8 0002", // max: trailing ones omitted, last bit (47) is 0: 48 bits
		),
	},
	{
		name: "prefix, range with unused bits in max, prefix",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{
			pr("2001:db8:1::/48"),
			rng("2001:db8:3::", "2001:db8:5:ffff:ffff:ffff:ffff:ffff"),
			pr("ff00::/8"),
		}}},
		der: h(
			"30 29",                  // IPAddrBlocks, 41 octets
			"30 27",                  // IPAddressFamily, 39 octets
			"04 02 00 02",            // AFI 2
			"30 21",                  // addressesOrRanges, 33 octets
			"03 07 00 20010db8 0001", // addressPrefix 2001:db8:1::/48
			"30 12",                  // addressRange, 18 octets
			"03 07 00 20010db8 0003", // min 2001:db8:3:: (0x03: last one bit is bit 47)
			"03 07 01 20010db8 0004", // max 2001:db8:5:ffff..: 0x05 loses its trailing 1, 47 bits, unused bit zero
			"03 02 00 ff",            // addressPrefix ff00::/8
		),
	},
	{
		name:   "range ::1 - ffff:...:ffff, max all ones is an empty BIT STRING",
		blocks: IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{rng("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}}},
		der: h(
			"30 20", // IPAddrBlocks, 32 octets
			"30 1e", // IPAddressFamily, 30 octets
			"04 02 00 02",
			"30 18", // addressesOrRanges, 24 octets
			"30 16", // addressRange, 22 octets
			"03 11 00 00000000 00000000 00000000 00000001", // min ::1, all 128 bits
			"03 01 00", // max: every bit is a trailing one
		),
	},
	{
		name:   "IPv4 range 10.0.0.1 - 10.0.0.7",
		blocks: IPAddrBlocks{{AFI: AFIIPv4, AddressesOrRanges: []IPAddressOrRange{rng("10.0.0.1", "10.0.0.7")}}},
		der: h(
			"30 18",             // IPAddrBlocks, 24 octets
			"30 16",             // IPAddressFamily, 22 octets
			"04 02 00 01",       // AFI 1
			"30 10",             // addressesOrRanges, 16 octets
			"30 0e",             // addressRange, 14 octets
			"03 05 00 0a000001", // min 10.0.0.1: last bit is 1, all 32 bits
			"03 05 03 0a000000", // max 10.0.0.7: three trailing ones omitted, 29 bits, unused bits zero
		),
	},
	{
		name:   "empty addressesOrRanges",
		blocks: IPAddrBlocks{{AFI: AFIIPv6}},
		der:    h("30 08", "30 06", "04 02 00 02", "30 00"),
	},
	{
		name:   "no families",
		blocks: nil,
		der:    h("30 00"),
	},
}

func TestIPAddrBlocksRoundTrip(t *testing.T) {
	for _, tt := range roundTripTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIPAddrBlocks(tt.der)
			if err != nil {
				t.Fatalf("ParseIPAddrBlocks: %v", err)
			}
			if !reflect.DeepEqual(got, tt.blocks) {
				t.Errorf("ParseIPAddrBlocks = %v, want %v", got, tt.blocks)
			}
			der, err := tt.blocks.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(der, tt.der) {
				t.Errorf("Marshal = %x, want %x", der, tt.der)
			}
		})
	}
}

var parseErrorTests = []struct {
	name  string
	der   []byte
	cause error // also wrapped, besides ErrParse; nil if none
}{
	{"empty", nil, io.ErrUnexpectedEOF},
	{"outer truncated", h("30 0b", "30 09 04 02 00 02 30 03 03 01"), io.ErrUnexpectedEOF},
	{"length octets missing", h("30 82 01"), io.ErrUnexpectedEOF},
	{"outer not SEQUENCE", h("31 00"), nil},
	{"octets after IPAddrBlocks", h("30 00", "00"), nil},
	{"indefinite length", h("30 80 00 00"), ErrNotCanonical},
	{"long form for short length", h("30 81 01 00"), ErrNotCanonical},
	{"length with leading zero", h("30 82 00 80"), ErrNotCanonical},
	{"4-octet length", h("30 84 00 00 00 00"), nil},
	{"addressFamily of 1 octet", h("30 07", "30 05", "04 01 02", "05 00"), nil},
	{"addressFamily of 4 octets", h("30 0a", "30 08", "04 04 00 02 01 01", "05 00"), nil},
	{"AFI 3", h("30 08", "30 06", "04 02 00 03", "05 00"), ErrUnsupportedFamily},
	{"IPv6 before IPv4", h("30 10", "30 06 04 02 00 02 05 00", "30 06 04 02 00 01 05 00"), ErrNotCanonical},
	{"duplicate family", h("30 10", "30 06 04 02 00 02 05 00", "30 06 04 02 00 02 05 00"), ErrNotCanonical},
	{"SAFI before no SAFI", h("30 11", "30 07 04 03 00 02 01 05 00", "30 06 04 02 00 02 05 00"), ErrNotCanonical},
	{"ipAddressChoice missing", h("30 06", "30 04", "04 02 00 02"), io.ErrUnexpectedEOF},
	{"inherit NULL with contents", h("30 09", "30 07", "04 02 00 02", "05 01 00"), nil},
	{"ipAddressChoice INTEGER", h("30 09", "30 07", "04 02 00 02", "02 01 00"), nil},
	{"octets after ipAddressChoice", h("30 0a", "30 08", "04 02 00 02", "05 00", "05 00"), nil},
	{"IPAddressOrRange INTEGER", h("30 0b", "30 09", "04 02 00 02", "30 03", "02 01 00"), nil},
	{"BIT STRING without initial octet", h("30 0a", "30 08", "04 02 00 02", "30 02", "03 00"), io.ErrUnexpectedEOF},
	{"8 unused bits", h("30 0c", "30 0a", "04 02 00 02", "30 04", "03 02 08 20"), nil},
	{"unused bits in empty BIT STRING", h("30 0b", "30 09", "04 02 00 02", "30 03", "03 01 01"), nil},
	{"unused bits not zero", h("30 0c", "30 0a", "04 02 00 02", "30 04", "03 02 04 2f"), ErrNotCanonical},
	{"IPv6 prefix of 17 octets", h("30 1c", "30 1a", "04 02 00 02", "30 14", "03 12 00 20010db8 00000000 00000000 00000000 00"), nil},
	{"IPv4 prefix of 5 octets", h("30 10", "30 0e", "04 02 00 01", "30 08", "03 06 00 0a00000000"), nil},
	{"range that is a prefix", h("30 1c", "30 1a", "04 02 00 02", "30 14", "30 12",
		"03 07 00 20010db8 0001", // min 2001:db8:1::
		"03 07 01 20010db8 0000", // max 2001:db8:1:ffff:... (47 bits): exactly 2001:db8:1::/48
	), ErrNotCanonical},
	{"range min with trailing zero bit", h("30 1d", "30 1b", "04 02 00 02", "30 15", "30 13",
		"03 08 00 20010db8 0001 00", // min 2001:db8:1:: with a trailing zero octet
		"03 07 00 20010db8 0002",
	), ErrNotCanonical},
	{"range max with trailing one bit", h("30 1d", "30 1b", "04 02 00 02", "30 15", "30 13",
		"03 07 00 20010db8 0001",
		"03 08 00 20010db8 0002 ff", // max with a trailing one octet
	), ErrNotCanonical},
	{"range min above max", h("30 1c", "30 1a", "04 02 00 02", "30 14", "30 12",
		"03 07 00 20010db8 0003",
		"03 07 00 20010db8 0002",
	), nil},
	{"octets after range max", h("30 1f", "30 1d", "04 02 00 02", "30 17", "30 15",
		"03 07 00 20010db8 0001",
		"03 07 00 20010db8 0002",
		"05 01 00",
	), nil},
	{"range max missing", h("30 13", "30 11", "04 02 00 02", "30 0b", "30 09", "03 07 00 20010db8 0001"), io.ErrUnexpectedEOF},
	{"prefixes unsorted", h("30 12", "30 10", "04 02 00 02", "30 0a", "03 03 00 2002", "03 03 00 2001"), ErrNotCanonical},
	{"prefixes overlap", h("30 13", "30 11", "04 02 00 02", "30 0b", "03 03 00 2001", "03 04 00 2001 0d"), ErrNotCanonical},
	{"prefixes adjacent", h("30 12", "30 10", "04 02 00 02", "30 0a",
		"03 03 00 2000", // 2000::/16
		"03 03 00 2001", // 2001::/16 follows 2000:ffff:... directly
	), ErrNotCanonical},
	{"prefix after ::/0", h("30 0f", "30 0d", "04 02 00 02", "30 07", "03 01 00", "03 02 00 20"), ErrNotCanonical},
}

func TestParseIPAddrBlocksErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIPAddrBlocks(tt.der)
			if !errors.Is(err, ErrParse) {
				t.Fatalf("ParseIPAddrBlocks(%x) = %v, %v; want ErrParse", tt.der, got, err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
		})
	}
}

func TestMarshalRejectsNonCanonical(t *testing.T) {
	tests := []struct {
		name   string
		blocks IPAddrBlocks
		cause  error
	}{
		{"families unsorted", IPAddrBlocks{{AFI: AFIIPv6, Inherit: true}, {AFI: AFIIPv4, Inherit: true}}, ErrNotCanonical},
		{"ranges unsorted", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8:2::/48"), pr("2001:db8:1::/48")}}}, ErrNotCanonical},
		{"ranges adjacent", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8::/33"), pr("2001:db8:8000::/33")}}}, ErrNotCanonical},
		{"AFI 3", IPAddrBlocks{{AFI: 3, Inherit: true}}, ErrUnsupportedFamily},
		{"inherit and ranges", IPAddrBlocks{{AFI: AFIIPv6, Inherit: true, AddressesOrRanges: []IPAddressOrRange{pr("::/0")}}}, nil},
		{"IPv4 address in IPv6 family", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("10.0.0.0/8")}}}, nil},
		{"min above max", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{rng("2001:db8::2", "2001:db8::1")}}}, nil},
		{"zero address", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{{}}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.blocks.Marshal()
			if err == nil {
				t.Fatalf("Marshal = %x, want an error", der)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
		})
	}
}

func TestNewIPv6BlocksMerges(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []string
		want     []IPAddressOrRange
		der      []byte // of the addressesOrRanges element
	}{
		{
			name:     "three adjacent /48s become a range",
			prefixes: []string{"2001:db8:2::/48", "2001:db8::/48", "2001:db8:1:1::/64", "2001:db8:1::/48"},
			want:     []IPAddressOrRange{rng("2001:db8::", "2001:db8:2:ffff:ffff:ffff:ffff:ffff")},
			der: h("30 12", "30 10", // addressesOrRanges, addressRange
				"03 05 03 20010db8",      // min 2001:db8::: trailing zeros omitted, 0xb8 ends in 3 zeros: 29 bits
				"03 07 00 20010db8 0002", // max 2001:db8:2:ffff..: 0x02 ends in a zero: 48 bits
			),
		},
		{
			name:     "four adjacent /48s become a /46 prefix",
			prefixes: []string{"2001:db8:3::/48", "2001:db8:2::/48", "2001:db8::/48", "2001:db8:1::/48"},
			want:     []IPAddressOrRange{pr("2001:db8::/46")},
			der:      h("30 09", "03 07 02 20010db8 0000"), // addressPrefix: 6 octets, 2 unused bits: 46 bits
		},
		{
			name:     "host bits are masked",
			prefixes: []string{"2001:db8:1::1/48"},
			want:     []IPAddressOrRange{pr("2001:db8:1::/48")},
			der:      h("30 09", "03 07 00 20010db8 0001"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, s := range tt.prefixes {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			b, err := NewIPv6Blocks(ps...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b[0].AddressesOrRanges, tt.want) {
				t.Errorf("ranges = %v, want %v", b[0].AddressesOrRanges, tt.want)
			}
			der, err := b.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// Skip IPAddrBlocks, IPAddressFamily headers and addressFamily.
			if got := der[2+2+4:]; !bytes.Equal(got, tt.der) {
				t.Errorf("addressesOrRanges = %x, want %x", got, tt.der)
			}
		})
	}
	if _, err := NewIPv6Blocks(netip.MustParsePrefix("10.0.0.0/8")); err == nil {
		t.Error("NewIPv6Blocks accepted an IPv4 prefix")
	}
}

func TestContains(t *testing.T) {
	b, err := NewIPv6Blocks(netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("2001:db8:8::/46"))
	if err != nil {
		t.Fatal(err)
	}
	f := b.IPv6()
	tests := []struct {
		prefix string
		want   bool
	}{
		{"2001:db8:1::/48", true},
		{"2001:db8:1:2::/64", true},
		{"2001:db8:1:ffff::/64", true},
		{"2001:db8::/32", false},
		{"2001:db8:2::/64", false},
		{"2001:db8:0:ffff::/64", false},
		{"2001:db8:8::/46", true},
		{"2001:db8:b:ffff::/64", true},
		{"2001:db8:c::/64", false},
		{"2001:db8:1::/47", false},
		{"::/0", false},
	}
	for _, tt := range tests {
		if got := f.ContainsPrefix(netip.MustParsePrefix(tt.prefix)); got != tt.want {
			t.Errorf("ContainsPrefix(%s) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
	if f.ContainsRange(rng("2001:db8:1::", "2001:db8:8::")) {
		t.Error("range across a gap reported as contained")
	}
}

func FuzzParseIPAddrBlocks(f *testing.F) {
	for _, tt := range roundTripTests {
		f.Add(tt.der)
	}
	for _, tt := range parseErrorTests {
		f.Add(tt.der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		b, err := ParseIPAddrBlocks(der)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := b.Marshal()
		if err != nil {
			t.Fatalf("parsed %x but Marshal failed: %v", der, err)
		}
		if !bytes.Equal(out, der) {
			t.Fatalf("Marshal = %x, input %x", out, der)
		}
		again, err := ParseIPAddrBlocks(out)
		if err != nil || !reflect.DeepEqual(again, b) {
			t.Fatalf("re-parse = %v, %v; want %v", again, err, b)
		}
	})
}

func BenchmarkParseIPAddrBlocks(b *testing.B) {
	der := roundTripTests[7].der
	b.SetBytes(int64(len(der)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseIPAddrBlocks(der); err != nil {
			b.Fatal(err)
		}
	}
}
