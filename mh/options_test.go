package mh

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"
)

// TestOptionRoundTrip encodes every option type alone, at an offset where
// it needs no leading padding, and decodes it again.
func TestOptionRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opt    Option
		offset int
		wire   []byte // option area: the option, then trailing padding
	}{
		{"Pad1", Pad1{}, 7, b(
			0, // Pad1: type only
		)},
		{"PadN", PadN{N: 5}, 3, cat(
			b(1), b(3), // PadN, Length 3
			zeros(3), // Option Data
		)},
		{"Binding Refresh Advice", BindingRefreshAdvice{RefreshInterval: 4 * 0x0102 * time.Second}, 4, cat(
			b(2), b(2), // type, Length
			u16(0x0102), // Refresh Interval (4 s units)
		)},
		{"Alternate Care-of Address", AlternateCareOfAddress{Address: newCoA}, 6, cat(
			b(3), b(16), // type, Length
			a16("2001:db8:2::100"),
		)},
		{"Nonce Indices", NonceIndices{HomeNonceIndex: 0x1122, CareOfNonceIndex: 0x3344}, 2, cat(
			b(4), b(4), // type, Length
			u16(0x1122), // Home Nonce Index
			u16(0x3344), // Care-of Nonce Index
		)},
		{"Binding Authorization Data", BindingAuthorizationData{Authenticator: auth96}, 2, cat(
			b(5), b(12), // type, Length
			auth96, // Authenticator
		)},
		{"MH Link-Layer Address", MobilityHeaderLinkLayerAddress{OptionCode: 2, LinkLayerAddress: mnMAC}, 0, cat(
			b(7), b(7), // type, Length
			b(2),                 // Option-Code
			mnMAC,                // LLA
			b(1), b(5), zeros(5), // PadN, 7 octets, to 16
		)},
		{"Mobile Node Identifier", MobileNodeIdentifier{Subtype: 1, Identifier: []byte("a@b")}, 2, cat(
			b(8), b(4), // type, Length
			b(1), // Subtype NAI
			[]byte("a@b"),
		)},
		{"Mobility Message Authentication", MobilityMessageAuthentication{Subtype: 2, SPI: HMACSHA1SPI, AuthenticationData: auth96}, 5, cat(
			b(9), b(17), // type, Length
			b(2),   // Subtype MN-AAA
			u32(3), // Mobility SPI: HMAC_SHA1_SPI
			auth96, // Authentication Data
		)},
		{"Mobility Message Replay Protection", MobilityMessageReplayProtection{Timestamp: ntpTS}, 2, cat(
			b(10), b(8), // type, Length
			u64(uint64(ntpTS)),
			b(1), b(2), zeros(2), // PadN to 8
		)},
		{"BADF", BindingAuthorizationDataForFMIPv6{SPI: 0xdeadbeef, Authenticator: auth96}, 6, cat(
			b(21), b(16), // type, Length = SPI + Authenticator
			u32(0xdeadbeef), // SPI
			auth96,          // Authenticator
		)},
		{"IPv6 Address/Prefix", MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeNARPrefix, PrefixLength: 64, Address: addr("2001:db8:2::")}, 4, cat(
			b(34), b(18), // type 34, Length
			b(4),  // Option-Code: NAR's prefix
			b(64), // Prefix Length
			a16("2001:db8:2::"),
		)},
		{"Handover Nonce", HandoverNonce{Subtype: NonceSubtypeHKS, Nonce: seq(4)}, 0, cat(
			b(250), b(6), // type, Length
			b(1), b(0), // Sub-type HKS-Nonce, Reserved
			seq(4), // nonce
		)},
		{"MAC", MessageAuthenticationCode{Subtype: MACSubtypeMNAR, AlgorithmType: 1, AuthValue: seq(20)}, 0, cat(
			b(251), b(22), // type, Length
			b(2), b(1), // Sub-type MN-AR, AT HMAC-SHA-1
			seq(20), // AUTH Value
		)},
		{"Timestamp", Timestamp{Value: ntpTS}, 2, cat(
			b(252), b(8), // type, Length
			u64(uint64(ntpTS)),
			b(1), b(2), zeros(2), // PadN to 8
		)},
		{"unknown option", RawOption{Type: 17, Data: seq(3)}, 3, cat(
			b(17), b(3), // DNS-UPDATE-TYPE, not decoded here
			seq(3),
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalOptions([]Option{tc.opt}, tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.wire) {
				t.Fatalf("MarshalOptions:\n got %x\nwant %x", got, tc.wire)
			}
			opts, err := ParseOptions(tc.wire, tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			if len(opts) == 0 || !reflect.DeepEqual(opts[0], tc.opt) {
				t.Fatalf("ParseOptions = %#v, want %#v first", opts, tc.opt)
			}
			for _, o := range opts[1:] {
				if !isPadding(o) {
					t.Fatalf("ParseOptions = %#v: non-padding after the option", opts)
				}
			}
		})
	}
}

func isPadding(o Option) bool {
	switch o.(type) {
	case Pad1, PadN:
		return true
	}
	return false
}

// TestAlignment marshals each option with an alignment requirement at every
// offset and checks it lands on xn+y (RFC 6275 §6.2.1), preceded by the
// fewest octets of padding, as Pad1 for one octet and a single PadN
// otherwise, and that the area ends on an 8-octet boundary.
func TestAlignment(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
		x, y int
		end  bool // ends the header: Binding Authorization Data, BADF
	}{
		{"Binding Refresh Advice 2n", BindingRefreshAdvice{}, 2, 0, false},
		{"Alternate Care-of Address 8n+6", AlternateCareOfAddress{Address: newCoA}, 8, 6, false},
		{"Nonce Indices 2n", NonceIndices{}, 2, 0, false},
		{"Mobility Message Authentication 4n+1", MobilityMessageAuthentication{AuthenticationData: auth96}, 4, 1, false},
		{"Mobility Message Replay Protection 8n+2", MobilityMessageReplayProtection{}, 8, 2, false},
		{"IPv6 Address/Prefix 8n+4", MobilityHeaderIPv6AddressPrefix{Address: mnCoA}, 8, 4, false},
		{"Timestamp 8n+2", Timestamp{}, 8, 2, false},
		{"Binding Authorization Data, 96 bits: 8n+2", BindingAuthorizationData{Authenticator: auth96}, 8, 2, true},
		{"BADF, 96 bits: 8n+6", BindingAuthorizationDataForFMIPv6{Authenticator: auth96}, 8, 6, true},
		{"BADF, 128 bits: 8n+2", BindingAuthorizationDataForFMIPv6{Authenticator: seq(16)}, 8, 2, true},
		{"MH-LLA: none", MobilityHeaderLinkLayerAddress{LinkLayerAddress: mnMAC}, 1, 0, false},
		{"MN-ID: none", MobileNodeIdentifier{Identifier: nai}, 1, 0, false},
		{"Handover Nonce: none", HandoverNonce{Nonce: seq(3)}, 1, 0, false},
		{"MAC: none", MessageAuthenticationCode{AuthValue: seq(3)}, 1, 0, false},
	} {
		for off := 0; off < 16; off++ {
			out, err := MarshalOptions([]Option{tc.opt}, off)
			if err != nil {
				t.Fatalf("%s at %d: %v", tc.name, off, err)
			}
			if (off+len(out))%8 != 0 {
				t.Fatalf("%s at %d: area of %d octets ends off an 8-octet boundary", tc.name, off, len(out))
			}
			opts, err := ParseOptions(out, off)
			if err != nil {
				t.Fatalf("%s at %d: %x: %v", tc.name, off, out, err)
			}
			pos, lead := off, 0
			var i int
			for i = 0; isPadding(opts[i]); i++ {
				lead++
			}
			if lead > 1 {
				t.Fatalf("%s at %d: %d padding options before it: %#v", tc.name, off, lead, opts)
			}
			if lead == 1 {
				n := 1
				if p, ok := opts[0].(PadN); ok {
					n = p.N
				}
				pos += n
				if _, one := opts[0].(Pad1); one != (n == 1) {
					t.Fatalf("%s at %d: %d octets of padding as %#v", tc.name, off, n, opts[0])
				}
			}
			if pos%tc.x != tc.y {
				t.Fatalf("%s at %d: starts at %d, want %dn+%d", tc.name, off, pos, tc.x, tc.y)
			}
			if pos-off >= tc.x {
				t.Fatalf("%s at %d: %d octets of padding, more than needed", tc.name, off, pos-off)
			}
			if tc.end && i != len(opts)-1 {
				t.Fatalf("%s at %d: trailing padding after it: %#v", tc.name, off, opts)
			}
		}
	}
}

// TestMarshalKeepsGivenPadding: a parsed list (padding included) is written
// as given; padding the caller lists is kept even where it is not needed.
func TestMarshalKeepsGivenPadding(t *testing.T) {
	opts := []Option{Pad1{}, Pad1{}, PadN{N: 2}, AlternateCareOfAddress{Address: newCoA}}
	got, err := MarshalOptions(opts, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := cat(
		b(0), b(0), // Pad1, Pad1
		b(1), b(0), // PadN, 2 octets: Alternate CoA now at 8n+6
		b(3), b(16), a16("2001:db8:2::100"),
	)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		offset int
		cause  error
	}{
		{"type without length", b(1, 0, 3), 0, io.ErrUnexpectedEOF},
		{"PadN overrun", b(1, 5, 0, 0), 0, io.ErrUnexpectedEOF},
		{"Nonce Indices Length 5", cat(b(4, 5), zeros(5)), 0, ErrOptionLength},
		{"Nonce Indices at odd offset", cat(b(4, 4), zeros(4)), 1, ErrAlignment},
		{"Timestamp at 8n+6", cat(b(252, 8), zeros(8)), 6, ErrAlignment},
		{"BADF then raw option", cat(b(21, 5), u32(0), b(1), b(200, 0)), 0, ErrBADFNotLast},
	} {
		if opts, err := ParseOptions(tc.in, tc.offset); !errors.Is(err, ErrParse) || !errors.Is(err, tc.cause) {
			t.Errorf("%s: ParseOptions = %#v, %v; want ErrParse and %v", tc.name, opts, err, tc.cause)
		}
	}
}

func TestNTPTimestamp(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	ts := NTPTime(tm)
	// 2024-01-02T03:04:05Z is Unix 1704164645; NTP adds 2208988800.
	if ts.Seconds() != 1704164645+2208988800 || ts.Fraction() != 0x80000000 {
		t.Fatalf("NTPTime = %#x", uint64(ts))
	}
	if !ts.Time().Equal(tm) {
		t.Fatalf("Time() = %v, want %v", ts.Time(), tm)
	}
	// Era 1 (RFC 4330 §3): 2040 wraps the 32-bit seconds field.
	late := time.Date(2040, 6, 1, 0, 0, 0, 0, time.UTC)
	if got := NTPTime(late); got.Seconds()&0x80000000 != 0 || !got.Time().Equal(late) {
		t.Fatalf("2040: %#x -> %v", uint64(got), got.Time())
	}
	if got := NTPTimestamp(0x80000000_00000000).Time(); !got.Equal(time.Date(1968, 1, 20, 3, 14, 8, 0, time.UTC)) {
		t.Fatalf("0x80000000 seconds = %v", got)
	}
}
