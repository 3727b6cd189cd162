package ar

import (
	"context"
	"testing"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

// FuzzHandlePacket feeds arbitrary ICMPv6 and Mobility Header payloads (with
// and without a Home Address option) to a PAR holding the MN's key. Nothing
// may panic; every answer must be a well-formed PrRtAdv or FBack; the MN's
// key must never change; a binding, if any, may only point the PCoA at the
// MN's genuine NCoA (only the MN can authenticate one).
func FuzzHandlePacket(f *testing.F) {
	w := newWorld(f, 1024, &Limits{})
	w.provision()
	before := snapshot(f, w.store)
	sol := w.solicit()
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		f.Fatal(err)
	}
	fbuOld, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), sol.Payload)
	f.Add(uint8(1), fbu.Payload)
	f.Add(uint8(3), fbuOld.Payload)
	f.Add(uint8(0), sol.Payload[:40])
	f.Add(uint8(1), fbu.Payload[:len(fbu.Payload)-1])
	f.Fuzz(func(t *testing.T, sel uint8, payload []byte) {
		p := netio.Packet{Dst: w.parAdr, HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Src: w.pcoa.Address, Payload: payload}
		if sel&1 != 0 {
			p.NextHeader = inet.ProtocolMobility
			p.Src = w.ncoa.Address
			if sel&2 != 0 {
				p.Src = w.pcoa.Address
			} else {
				p.HomeAddress = w.pcoa.Address
			}
		}
		for _, out := range w.par.HandlePacket(context.Background(), p) {
			switch out.NextHeader {
			case inet.ProtocolICMPv6:
				m, err := ndp.ParseMessage(out.Payload)
				if err != nil {
					t.Fatalf("router sent a malformed PrRtAdv: %v", err)
				}
				if _, ok := m.(*ndp.ProxyRouterAdvertisement); !ok {
					t.Fatalf("router sent %T", m)
				}
			case inet.ProtocolMobility:
				m, err := mh.ParseMessage(out.Payload)
				if err != nil {
					t.Fatalf("router sent a malformed FBack: %v", err)
				}
				if _, ok := m.(mh.FastBindingAcknowledgment); !ok {
					t.Fatalf("router sent %T", m)
				}
			default:
				t.Fatalf("router sent next header %d", out.NextHeader)
			}
		}
		after := snapshot(t, w.store)
		for k, r := range before {
			o, ok := after[k]
			if !ok || !r.Equal(&o) {
				t.Fatal("the MN's key record changed")
			}
		}
		for prev, b := range w.table.Snapshot() {
			if prev != w.pcoa.Address || b.New != w.ncoa.Address {
				t.Fatalf("unauthenticated binding %v -> %v", prev, b.New)
			}
		}
	})
}
