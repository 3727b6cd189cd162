package cga

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

var paramsCases = []struct {
	name string
	p    Parameters
	wire string // one wire field per row
}{
	{
		name: "no extensions",
		p: Parameters{
			Modifier:       [16]byte{0x89, 0xa8, 0xa8, 0xb2, 0xe8, 0x58, 0xd8, 0xb8, 0xf2, 0x63, 0x3f, 0x44, 0xd2, 0xd4, 0xce, 0x9b},
			SubnetPrefix:   [8]byte{0xfe, 0x80},
			CollisionCount: 0,
			PublicKey:      []byte{0x30, 0x03, 0x02, 0x01, 0x05},
		},
		wire: `
			89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9b # Modifier
			fe80 0000 0000 0000                     # Subnet Prefix
			00                                      # Collision Count
			30 03 020105                            # Public Key: SEQUENCE, 3 octets
		`,
	},
	{
		name: "two extensions, long-form key length",
		p: Parameters{
			Modifier:       [16]byte{15: 1},
			SubnetPrefix:   [8]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1},
			CollisionCount: 2,
			PublicKey:      append([]byte{0x30, 0x81, 0x80}, make([]byte, 128)...),
			Extensions: []Extension{
				{Type: 0x0012, Data: []byte{0xaa, 0xbb, 0xcc}},
				{Type: 0xfffd, Data: nil},
			},
		},
		wire: `
			0000 0000 0000 0000 0000 0000 0000 0001 # Modifier
			2001 0db8 0000 0001                     # Subnet Prefix
			02                                      # Collision Count
			30 8180                                 # Public Key: SEQUENCE, long form 128
		` + string(bytes.Repeat([]byte("00"), 128)) + `
			0012 0003 aabbcc                        # Extension: Multi-Prefix (RFC 5535), 3 octets
			fffd 0000                               # Extension: Exp_FFFD, empty
		`,
	},
}

func TestParametersRoundTrip(t *testing.T) {
	for _, tc := range paramsCases {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.wire)
			got, err := tc.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal:\n got %x\nwant %x", got, want)
			}
			if tc.p.Len() != len(want) {
				t.Errorf("Len = %d, want %d", tc.p.Len(), len(want))
			}
			p, err := ParseParameters(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*p, tc.p) {
				t.Fatalf("ParseParameters = %+v, want %+v", *p, tc.p)
			}
			want[0] ^= 0xff // the parsed value does not alias its input
			if p.Modifier[0] == want[0] {
				t.Error("Modifier aliases the input")
			}
		})
	}
}

func TestParseParametersErrors(t *testing.T) {
	fixed := "00000000000000000000000000000000 0000000000000000 00"
	for _, tc := range []struct {
		name  string
		wire  string
		isEOF bool
	}{
		{"empty", ``, true},
		{"fixed fields short", `0000000000000000000000000000000000000000000000`, true},
		{"no public key", fixed, true},
		{"key tag not SEQUENCE", fixed + ` 31 00`, false},
		{"key indefinite length", fixed + ` 30 80 0000`, false},
		{"key length of length 5", fixed + ` 30 85 0000000001 00`, false},
		{"key length octets missing", fixed + ` 30 82 01`, true},
		{"key body short", fixed + ` 30 05 0000`, true},
		{"key length over 16 MiB", fixed + ` 30 84 01000001`, false},
		{"extension header short", fixed + ` 3000 001200`, true},
		{"extension data short", fixed + ` 3000 0012 0004 aabbcc`, true},
		{"second extension short", fixed + ` 3000 0012 0000 ff`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseParameters(unhex(t, tc.wire))
			if !errors.Is(err, ErrParse) {
				t.Fatalf("err = %v, want ErrParse", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.isEOF {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v (%v)", got, tc.isEOF, err)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Parameters
	}{
		{"no key", Parameters{}},
		{"key not a SEQUENCE", Parameters{PublicKey: []byte{0x02, 0x01, 0x00}}},
		{"trailing octets after key", Parameters{PublicKey: []byte{0x30, 0x00, 0x00}}},
		{"extension too long", Parameters{PublicKey: []byte{0x30, 0x00}, Extensions: []Extension{{Data: make([]byte, 0x10000)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := tc.p.Marshal(); err == nil {
				t.Fatalf("Marshal = %x, want an error", b)
			}
		})
	}
}
