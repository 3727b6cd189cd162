package mip6udp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPacketRoundTrip: header fields written one wire field per row, parsed
// and re-marshalled to the same octets.
func TestPacketRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire [][]byte
		want Packet
	}{
		{"binding management message, Figure 7", [][]byte{
			{0x80, 0x00, 0x12, 0x34}, // PType 8, SPI 0x1234
			{0x00, 0x00, 0x00, 0x01}, // Sequence Number 1
			{0xde, 0xad},             // IV, ciphertext, ICV (opaque here)
		}, Packet{Type: PacketTypeMobilityHeader, SPI: 0x1234, SequenceNumber: 1, Body: []byte{0xde, 0xad}}},
		{"protected data, Figure 8, largest SPI", [][]byte{
			{0x1f, 0xff, 0xff, 0xff}, // PType 1, SPI 2^28-1
			{0xff, 0xff, 0xff, 0xff}, // Sequence Number 2^32-1
		}, Packet{Type: PacketTypeData, SPI: MaxSPI, SequenceNumber: 0xffffffff, Body: []byte{}}},
		{"plaintext data, Figure 9", [][]byte{
			{0x00, 0x00, 0x00, 0x00}, // PType 0, SPI 0
			{0x00, 0x00, 0x00, 0x00}, // Sequence Number 0
			{0x60, 0x00, 0x00, 0x00}, // the IPv6 packet
		}, Packet{Type: PacketTypePlaintext, Body: []byte{0x60, 0, 0, 0}}},
	} {
		wire := bytes.Join(tc.wire, nil)
		p, err := ParsePacket(wire)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.Type != tc.want.Type || p.SPI != tc.want.SPI || p.SequenceNumber != tc.want.SequenceNumber || !bytes.Equal(p.Body, tc.want.Body) {
			t.Errorf("%s: parsed %+v, want %+v", tc.name, p, tc.want)
		}
		b, err := AppendPacket(nil, tc.want)
		if err != nil || !bytes.Equal(b, wire) {
			t.Errorf("%s: marshalled %x, %v; want %x", tc.name, b, err, wire)
		}
	}
}

// TestParsePacketErrors: one case per header rule, each naming its cause.
func TestParsePacketErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"7 octets", []byte{0x80, 0, 0, 1, 0, 0, 0}, io.ErrUnexpectedEOF},
		{"PType 2", []byte{0x20, 0, 0, 1, 0, 0, 0, 1}, ErrPacketType},
		{"PType 15", []byte{0xf0, 0, 0, 1, 0, 0, 0, 1}, ErrPacketType},
		{"SPI 0 on PType 8 (§6.3)", []byte{0x80, 0, 0, 0, 0, 0, 0, 1}, ErrSPI},
		{"SPI 0 on PType 1 (§6.2)", []byte{0x10, 0, 0, 0, 0, 0, 0, 1}, ErrSPI},
		{"SPI on PType 0 (§6.4)", []byte{0x00, 0, 0, 5, 0, 0, 0, 0}, ErrSPI},
		{"Sequence Number on PType 0 (§6.4)", []byte{0x00, 0, 0, 0, 0, 0, 0, 9}, ErrSequenceNumber},
	} {
		_, err := ParsePacket(tc.wire)
		if !errors.Is(err, ErrParse) || !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want ErrParse and %v", tc.name, err, tc.want)
		}
	}
	for _, p := range []Packet{
		{Type: PacketTypeMobilityHeader, SPI: MaxSPI + 1, SequenceNumber: 1},
		{Type: PacketTypeMobilityHeader, SequenceNumber: 1},
		{Type: 3, SPI: 1},
	} {
		if _, err := AppendPacket(nil, p); !errors.Is(err, ErrMarshal) {
			t.Errorf("AppendPacket(%+v): err %v, want ErrMarshal", p, err)
		}
	}
}

// TestPlaintextScope: plaintext data is built and accepted only with
// mip6-sas 0, protected data accepted only with mip6-sas 1, binding
// management messages with both (RFC 6618 §5.6.4, §6.4).
func TestPlaintextScope(t *testing.T) {
	ip := []byte{0x60, 1, 2, 3}
	if _, err := AppendPlaintext(nil, ScopeAll, ip); !errors.Is(err, ErrScope) || !errors.Is(err, ErrMarshal) {
		t.Errorf("AppendPlaintext with mip6-sas 1: err %v, want ErrScope", err)
	}
	pkt, err := AppendPlaintext(nil, ScopeSignaling, ip)
	if err != nil || !bytes.Equal(pkt, append(make([]byte, 8), ip...)) {
		t.Fatalf("AppendPlaintext = %x, %v", pkt, err)
	}
	none := func(SPI) (*Inbound, bool) { t.Fatal("plaintext looked up an SA"); return nil, false }
	m, _, err := Open(nil, pkt, ScopeSignaling, none)
	if err != nil || m.Type != PacketTypePlaintext || !bytes.Equal(m.Payload, ip) {
		t.Errorf("Open plaintext with mip6-sas 0 = %+v, %v", m, err)
	}
	if _, _, err := Open(nil, pkt, ScopeAll, none); !errors.Is(err, ErrScope) || !errors.Is(err, ErrAuth) {
		t.Errorf("Open plaintext with mip6-sas 1: err %v, want ErrScope", err)
	}

	out, in := pair(t, fixedConfig(t, AES128CBCSHA, 77, 1))
	lookup := func(s SPI) (*Inbound, bool) { return in, s == in.SPI() }
	data := seal(t, out, PacketTypeData, 41, ip)
	if _, _, err := Open(nil, data, ScopeSignaling, lookup); !errors.Is(err, ErrScope) {
		t.Errorf("protected data with mip6-sas 0: err %v, want ErrScope", err)
	}
	if in.window.Highest() != 0 {
		t.Error("a rejected packet moved the window")
	}
	for _, scope := range []Scope{ScopeSignaling, ScopeAll} {
		bu := seal(t, out, PacketTypeMobilityHeader, 135, []byte{59, 1, 5, 0})
		if m, _, err := Open(nil, bu, scope, lookup); err != nil || m.NextHeader != 135 {
			t.Errorf("binding management message with mip6-sas %d: %+v, %v", scope, m, err)
		}
	}
	if m, _, err := Open(nil, data, ScopeAll, lookup); err != nil || !bytes.Equal(m.Payload, ip) {
		t.Errorf("protected data with mip6-sas 1 = %+v, %v", m, err)
	}
}
