package netio

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
)

var testHome = netip.MustParseAddr("2001:db8:1::2")

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestAppendHomeAddressHeader(t *testing.T) {
	got, err := AppendHomeAddressHeader([]byte{0xee}, 135, testHome)
	if err != nil {
		t.Fatal(err)
	}
	want := cat(
		[]byte{0xee},       // existing content kept
		[]byte{135},        // Next Header: Mobility Header
		[]byte{2},          // Hdr Ext Len: (2+1)*8 = 24 octets
		[]byte{1, 2},       // PadN, length 2
		[]byte{0, 0},       // PadN data
		[]byte{201},        // Option Type: Home Address, offset 6 = 8n+6 (RFC 6275 §6.3)
		[]byte{16},         // Option Length: 16
		testHome.AsSlice(), // Home Address
	)
	if !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
	if len(got)-1 != HomeAddressHeaderLen {
		t.Fatalf("header length %d, want %d", len(got)-1, HomeAddressHeaderLen)
	}
	if off := bytes.IndexByte(got[1:], 201); off%8 != 6 {
		t.Fatalf("home address option at offset %d, not 8n+6", off)
	}
	d, err := ParseDestinationOptions(got[1:])
	if err != nil || d != (DestinationOptions{NextHeader: 135, Len: 24, HomeAddress: testHome}) {
		t.Fatalf("round trip: %+v %v", d, err)
	}
	for _, bad := range []netip.Addr{{}, netip.MustParseAddr("::"), netip.MustParseAddr("ff02::1"), netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.1")} {
		if _, err := AppendHomeAddressHeader(nil, 135, bad); err == nil {
			t.Errorf("home address %v accepted", bad)
		}
	}
}

func TestParseDestinationOptions(t *testing.T) {
	hao := cat([]byte{201, 16}, testHome.AsSlice())
	tests := []struct {
		name string
		in   []byte
		want DestinationOptions
	}{
		{"padn only", cat(
			[]byte{59, 0},            // Next Header: none; Hdr Ext Len 0
			[]byte{1, 4, 0, 0, 0, 0}, // PadN(4)
		), DestinationOptions{NextHeader: 59, Len: 8}},
		{"pad1 then home address, trailing data", cat(
			[]byte{135, 2},      // Next Header: MH; 24 octets
			[]byte{0, 0, 0, 0},  // Pad1 x4
			hao,                 // Home Address option at offset 6
			[]byte{59, 1, 2, 3}, // start of the Mobility Header: not part of the header
		), DestinationOptions{NextHeader: 135, Len: 24, HomeAddress: testHome}},
		{"unaligned home address accepted", cat(
			[]byte{135, 2},     // Next Header, Hdr Ext Len
			hao,                // Home Address option at offset 2
			[]byte{1, 2, 0, 0}, // PadN(2)
		), DestinationOptions{NextHeader: 135, Len: 24, HomeAddress: testHome}},
		{"unknown skippable option", cat(
			[]byte{135, 0},              // Next Header, Hdr Ext Len
			[]byte{0x1e, 4, 9, 9, 9, 9}, // type 0x1e: high bits 00, skip
		), DestinationOptions{NextHeader: 135, Len: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDestinationOptions(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseDestinationOptionsErrors(t *testing.T) {
	hao := cat([]byte{201, 16}, testHome.AsSlice())
	tests := []struct {
		name  string
		in    []byte
		cause error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"one octet", []byte{135}, io.ErrUnexpectedEOF},
		{"hdr ext len beyond data", []byte{135, 1, 1, 4, 0, 0, 0, 0}, io.ErrUnexpectedEOF},
		{"option length beyond header", []byte{135, 0, 1, 5, 0, 0, 0, 0}, io.ErrUnexpectedEOF},
		{"option type in the last octet", []byte{135, 0, 1, 3, 0, 0, 0, 1}, io.ErrUnexpectedEOF},
		{"home address length 8", cat([]byte{135, 1, 201, 8}, make([]byte, 8), []byte{1, 2, 0, 0}), nil},
		{"home address twice", cat([]byte{135, 5, 0, 0, 0, 0}, hao, []byte{0, 0, 0, 0, 0, 0}, hao), nil},
		{"multicast home address", cat([]byte{135, 2, 1, 2, 0, 0, 201, 16}, netip.MustParseAddr("ff02::1").AsSlice()), nil},
		{"unspecified home address", cat([]byte{135, 2, 1, 2, 0, 0, 201, 16}, make([]byte, 16)), nil},
		{"unknown option, discard (01)", []byte{135, 0, 0x41, 4, 0, 0, 0, 0}, nil},
		{"unknown option, discard and ICMP (11)", []byte{135, 0, 0xc2, 4, 0, 0, 0, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDestinationOptions(tt.in)
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v, want ErrParse", err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Fatalf("error %v, want %v", err, tt.cause)
			}
			if tt.cause == nil && errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v: a complete header reported as truncated", err)
			}
		})
	}
}

func FuzzParseDestinationOptions(f *testing.F) {
	h, _ := AppendHomeAddressHeader(nil, 135, testHome)
	f.Add(h)
	f.Add([]byte{59, 0, 1, 4, 0, 0, 0, 0})
	f.Add([]byte{135, 0, 0x41, 4, 0, 0, 0, 0})
	f.Add(cat([]byte{135, 2, 0, 0, 0, 0, 201, 16}, testHome.AsSlice(), []byte{59, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDestinationOptions(b)
		if err != nil {
			return
		}
		if d.Len > len(b) || d.Len%8 != 0 || d.Len < 8 {
			t.Fatalf("length %d for %d octets", d.Len, len(b))
		}
		if !d.HomeAddress.IsValid() {
			return
		}
		// A parsed home address re-marshals into a canonical header that
		// parses to the same option.
		h, err := AppendHomeAddressHeader(nil, d.NextHeader, d.HomeAddress)
		if err != nil {
			t.Fatalf("marshal %v: %v", d.HomeAddress, err)
		}
		d2, err := ParseDestinationOptions(h)
		if err != nil || d2.HomeAddress != d.HomeAddress || d2.NextHeader != d.NextHeader {
			t.Fatalf("re-parse %+v %v, want %+v", d2, err, d)
		}
	})
}

func BenchmarkParseDestinationOptions(b *testing.B) {
	h, _ := AppendHomeAddressHeader(nil, 135, testHome)
	b.SetBytes(int64(len(h)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDestinationOptions(h); err != nil {
			b.Fatal(err)
		}
	}
}
