package mip6mn

import (
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// FuzzHandlePacket feeds the role, with a Binding Update in flight,
// either raw datagrams (mode 0) or payloads the in-test HA seals under
// the SA as PType 8 (mode 1, Next Header nh) or PType 1 (mode 2), so that
// the fuzzer reaches the Mobility Header and data checks behind the ICV.
// A rejected packet must change nothing but the counters; nothing panics.
func FuzzHandlePacket(f *testing.F) {
	s := newSetup(f, mip6tls.SAScopeAll, nil)
	ba := s.ha.ack(0, 1, DefaultLifetime, true)
	f.Add(uint8(0), uint8(0), ba)
	f.Add(uint8(0), uint8(0), []byte{0x10, 0xab, 0xcd, 0xef, 0, 0, 0, 1})
	f.Add(uint8(1), uint8(43), ba[24:])
	f.Add(uint8(1), uint8(135), []byte{59, 1, 6, 0, 0, 0, 0, 1, 0, 0, 0, 150, 0, 0, 0, 0})
	f.Add(uint8(1), uint8(135), []byte{59, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(2), uint8(41), ipv6(testCareOf2, testHome, []byte("x")))
	f.Fuzz(func(t *testing.T, mode, nh uint8, data []byte) {
		s := newSetup(t, mip6tls.SAScopeAll, nil)
		if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
			t.Fatal(err)
		}
		s.wire.take()
		pkt := data
		switch mode % 3 {
		case 1:
			pkt = s.ha.seal(mip6udp.PacketTypeMobilityHeader, nh, data)
		case 2:
			pkt = s.ha.seal(mip6udp.PacketTypeData, nh, data)
		}
		before := s.mn.Status()
		s.clock.Advance(time.Millisecond)
		_, err := s.mn.HandlePacket(testHomeAgent, pkt)
		after := s.mn.Status()
		before.Counters, after.Counters = Counters{}, Counters{}
		if err != nil && !reflect.DeepEqual(before, after) {
			t.Fatalf("rejected (%v) but the state changed:\n%+v\n%+v", err, before, after)
		}
		if err == nil {
			if _, err := s.mn.HandlePacket(testHomeAgent, pkt); err == nil {
				t.Fatal("the same packet was accepted twice")
			}
		}
	})
}
