package forward

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
)

// FuzzDecapsulate: Decapsulate never panics, fails only with ErrParse, and
// whatever it accepts re-marshals to the same octets and parses equal.
func FuzzDecapsulate(f *testing.F) {
	for _, s := range [][]byte{tunnelPacket, tunnelWithLimit, tunnelWithHopByHop, innerPacket, nil, tunnelPacket[:39], tunnelWithLimit[:44]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decapsulate(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := p.AppendTo(nil)
		if err != nil {
			t.Fatalf("AppendTo of a parsed packet: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("AppendTo =\n% x\nwant\n% x", out, b)
		}
		q, err := Decapsulate(out)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("re-parse = %+v, %v; want %+v", q, err, p)
		}
		if p.Outer.NextHeader == 41 && len(p.Extensions) != 0 {
			t.Fatalf("extensions %x with next header 41", p.Extensions)
		}
	})
}

// FuzzDecapsulatorPayload feeds what a raw socket for protocol 41 hands
// over (the original packet) to the decapsulator: it never panics, counts
// each payload exactly once, and writes exactly the well-formed packets
// from an allowed source to the device, unchanged.
func FuzzDecapsulatorPayload(f *testing.F) {
	f.Add(innerPacket, true)
	f.Add(innerPacket, false)
	f.Add(tunnelPacket, true)
	f.Add(innerPacket[:41], true)
	f.Add([]byte{}, true)
	par := netip.MustParseAddr("2001:db8:1::1")
	f.Fuzz(func(t *testing.T, b []byte, allowed bool) {
		dev := &fakeDevice{}
		d := newDecapsulator(&DecapsulatorConfig{Allowed: []netip.Addr{par}}, dev, "fake", nil)
		src := par
		if !allowed {
			src = netip.MustParseAddr("2001:db8:c::2")
		}
		d.handle(src, b)
		c := d.Counters()
		if c.Packets+c.Rejected+c.Malformed+c.Dropped != 1 {
			t.Fatalf("counters %+v do not count the payload once", c)
		}
		_, perr := ParsePacket(b)
		if perr != nil && !errors.Is(perr, ErrParse) {
			t.Fatalf("ParsePacket error %v does not wrap ErrParse", perr)
		}
		wantEOF := len(b) < HeaderLen || (b[0]>>4 == 6 && int(b[4])<<8|int(b[5]) > len(b)-HeaderLen)
		if errors.Is(perr, io.ErrUnexpectedEOF) != wantEOF {
			t.Fatalf("ParsePacket(% x) error %v: truncation must be, and only be, io.ErrUnexpectedEOF", b, perr)
		}
		wrote := allowed && perr == nil
		if got := len(dev.written); got != map[bool]int{true: 1, false: 0}[wrote] {
			t.Fatalf("%d packets written, want written=%v (allowed %v, parse %v)", got, wrote, allowed, perr)
		}
		if wrote && !bytes.Equal(dev.written[0], b) {
			t.Fatalf("written % x, want the payload % x", dev.written[0], b)
		}
	})
}
