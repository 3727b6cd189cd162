package eap

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestPacketRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		wire []byte
	}{
		{"identity request", Packet{Code: CodeRequest, Identifier: 7, Type: TypeIdentity, Data: []byte{}}, cat(
			[]byte{1},    // Code
			[]byte{7},    // Identifier
			[]byte{0, 5}, // Length
			[]byte{1},    // Type Identity
		)},
		{"identity response", Packet{Code: CodeResponse, Identifier: 7, Type: TypeIdentity, Data: []byte("mn@example.com")}, cat(
			[]byte{2}, []byte{7}, []byte{0, 19}, []byte{1}, []byte("mn@example.com"),
		)},
		{"nak", Packet{Code: CodeResponse, Identifier: 8, Type: TypeNak, Data: []byte{13}}, cat(
			[]byte{2}, []byte{8}, []byte{0, 6}, []byte{3}, []byte{13},
		)},
		{"tls start", Packet{Code: CodeRequest, Identifier: 9, Type: TypeTLS, Data: []byte{0x20}}, cat(
			[]byte{1}, []byte{9}, []byte{0, 6}, []byte{13}, []byte{0x20},
		)},
		{"success", Packet{Code: CodeSuccess, Identifier: 10}, []byte{3, 10, 0, 4}},
		{"failure", Packet{Code: CodeFailure, Identifier: 11}, []byte{4, 11, 0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.wire) {
				t.Fatalf("Marshal = % x, want % x", b, tt.wire)
			}
			p, err := Parse(append(tt.wire, 0xee)) // padding ignored
			if err != nil {
				t.Fatal(err)
			}
			if p.Data == nil && tt.p.Data != nil {
				p.Data = []byte{}
			}
			if !reflect.DeepEqual(p, tt.p) {
				t.Fatalf("Parse = %+v, want %+v", p, tt.p)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", []byte{1, 1, 0}, io.ErrUnexpectedEOF},
		{"length beyond", []byte{1, 1, 0, 9, 1}, io.ErrUnexpectedEOF},
		{"request without type", []byte{1, 1, 0, 4}, ErrParse},
		{"success with data", []byte{3, 1, 0, 5, 0}, ErrParse},
		{"unknown code", []byte{5, 1, 0, 4}, ErrParse},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.b); !errors.Is(err, tt.want) || !errors.Is(err, ErrParse) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
