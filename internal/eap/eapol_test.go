package eap

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestEAPOLRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		e    EAPOL
		wire []byte
	}{
		{"start v1", EAPOL{Version: EAPOLVersion2001, Type: EAPOLStart, Body: []byte{}}, cat(
			[]byte{1},    // Protocol Version
			[]byte{1},    // Packet Type EAPOL-Start
			[]byte{0, 0}, // Packet Body Length
		)},
		{"logoff v2", EAPOL{Version: EAPOLVersion2004, Type: EAPOLLogoff, Body: []byte{}}, cat(
			[]byte{2},    // Protocol Version
			[]byte{2},    // Packet Type EAPOL-Logoff
			[]byte{0, 0}, // Packet Body Length
		)},
		{"eap identity request v3", EAPOL{Version: EAPOLVersion2010, Type: EAPOLEAPPacket, Body: []byte{1, 7, 0, 5, 1}}, cat(
			[]byte{3},             // Protocol Version
			[]byte{0},             // Packet Type EAP-Packet
			[]byte{0, 5},          // Packet Body Length
			[]byte{1, 7, 0, 5, 1}, // EAP Request/Identity
		)},
		{"key", EAPOL{Version: EAPOLVersion2004, Type: EAPOLKey, Body: []byte{2, 0xaa, 0xbb}}, cat(
			[]byte{2},             // Protocol Version
			[]byte{3},             // Packet Type EAPOL-Key
			[]byte{0, 3},          // Packet Body Length
			[]byte{2, 0xaa, 0xbb}, // Descriptor Type 2, the rest raw
		)},
		{"asf alert", EAPOL{Version: EAPOLVersion2001, Type: EAPOLEncapsulatedASFAlert, Body: []byte{0x10}}, cat(
			[]byte{1}, []byte{4}, []byte{0, 1}, []byte{0x10},
		)},
		{"unknown type raw", EAPOL{Version: EAPOLVersion2010, Type: 0xc8, Body: []byte{9, 8}}, cat(
			[]byte{3},    // Protocol Version
			[]byte{0xc8}, // Packet Type 200
			[]byte{0, 2}, // Packet Body Length
			[]byte{9, 8}, // Body, kept
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.wire) {
				t.Fatalf("Marshal = % x, want % x", b, tt.wire)
			}
			// Ethernet padding after the body is ignored.
			e, err := ParseEAPOL(append(tt.wire, make([]byte, 42)...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, tt.e) {
				t.Fatalf("ParseEAPOL = %+v, want %+v", e, tt.e)
			}
		})
	}
}

func TestParseEAPOLErrors(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		want  error
		field string
	}{
		{"empty", nil, io.ErrUnexpectedEOF, "header"},
		{"short header", []byte{2, 0, 0}, io.ErrUnexpectedEOF, "header"},
		{"body short", []byte{2, 0, 0, 5, 1, 7, 0, 5}, io.ErrUnexpectedEOF, "Packet Body Length"},
		{"body length max", []byte{2, 3, 0xff, 0xff, 0}, io.ErrUnexpectedEOF, "Packet Body Length"},
		{"version 0", []byte{0, 1, 0, 0}, ErrParse, "Protocol Version"},
		{"version 4", []byte{4, 1, 0, 0}, ErrParse, "Protocol Version"},
	}
	for _, tt := range tests {
		_, err := ParseEAPOL(tt.b)
		if !errors.Is(err, tt.want) || !errors.Is(err, ErrParse) {
			t.Errorf("%s: err = %v, want %v and ErrParse", tt.name, err, tt.want)
		}
		// The field at fault is named (the message is for people; the
		// test checks it is there, the sentinels above are the contract).
		if err != nil && !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: err = %v, does not name %s", tt.name, err, tt.field)
		}
	}
}

func TestEAPOLMarshalErrors(t *testing.T) {
	if _, err := (EAPOL{Version: 0, Type: EAPOLStart}).Marshal(); !errors.Is(err, ErrParse) {
		t.Errorf("version 0: %v, want ErrParse", err)
	}
	if _, err := (EAPOL{Version: EAPOLVersion2010, Body: make([]byte, 1<<16)}).Marshal(); !errors.Is(err, ErrTooLong) {
		t.Errorf("body of 65536 octets: %v, want ErrTooLong", err)
	}
}

func TestEAPOLEAP(t *testing.T) {
	e, err := ParseEAPOL([]byte{1, 0, 0, 5, 1, 7, 0, 5, 1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.EAP()
	if err != nil || p.Code != CodeRequest || p.Identifier != 7 || p.Type != TypeIdentity {
		t.Fatalf("EAP = %+v, %v", p, err)
	}
	if _, err := (EAPOL{Version: 1, Type: EAPOLStart}).EAP(); !errors.Is(err, ErrParse) {
		t.Errorf("EAP of an EAPOL-Start: %v, want ErrParse", err)
	}
	if PAEGroupAddress != [6]byte{0x01, 0x80, 0xc2, 0, 0, 3} || EtherTypeEAPOL != 0x888e {
		t.Error("PAE group address or EtherType")
	}
}
