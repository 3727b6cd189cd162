package mip6udp

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParsePacket: ParsePacket never panics; what it accepts marshals
// back to the same octets.
func FuzzParsePacket(f *testing.F) {
	f.Add([]byte{0x80, 0, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad})
	f.Add(make([]byte, 8))
	f.Add([]byte{0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error without ErrParse: %v", err)
			}
			return
		}
		out, err := AppendPacket(nil, p)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-marshalled %x, %v; want %x", out, err, b)
		}
	})
}

// FuzzOpen: Open never panics on any datagram and any suite; a rejected
// packet changes neither the window nor dst; an accepted one is accepted
// once, and its payload fits in the packet.
func FuzzOpen(f *testing.F) {
	for i, s := range Suites() {
		out, _ := pair(f, fixedConfig(f, s.ID, 0x0abcdef, 0xa5))
		f.Add(uint8(i), uint8(1), seal(f, out, PacketTypeMobilityHeader, 135, bindingUpdate))
		f.Add(uint8(i), uint8(1), seal(f, out, PacketTypeData, 41, []byte("tunneled")))
	}
	f.Add(uint8(0), uint8(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x60})
	all := Suites()
	f.Fuzz(func(t *testing.T, suite, scope uint8, pkt []byte) {
		_, in := pair(t, fixedConfig(t, all[int(suite)%len(all)].ID, 0x0abcdef, 0xa5))
		lookup := func(s SPI) (*Inbound, bool) { return in, s == in.SPI() }
		dst := make([]byte, 3, 16)
		before := in.window
		m, got, err := Open(dst, pkt, Scope(scope&1), lookup)
		if err != nil {
			if in.window != before || len(got) != len(dst) {
				t.Fatalf("rejected (%v) but window %+v → %+v, dst %d → %d", err, before, in.window, len(dst), len(got))
			}
			if !errors.Is(err, ErrParse) && !errors.Is(err, ErrAuth) {
				t.Fatalf("error without a category: %v", err)
			}
			return
		}
		if len(m.Payload) > len(pkt) || !bytes.Equal(got[:3], dst) {
			t.Fatalf("payload of %d octets from a %d-octet packet", len(m.Payload), len(pkt))
		}
		if m.Type == PacketTypePlaintext {
			return
		}
		if _, _, err := Open(nil, pkt, Scope(scope&1), lookup); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second Open: %v, want ErrReplayed", err)
		}
	})
}
