package mn_test

import (
	"context"
	"testing"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
)

// FuzzHandlePacket feeds arbitrary ICMPv6 and Mobility Header payloads from
// the PAR to a mobile node with a pending solicitation and an outstanding
// FBU. Nothing may panic, and the key store may change only with a
// KeyProvisioned event.
func FuzzHandlePacket(f *testing.F) {
	fx := newFixture(f)
	sol, err := fx.node.Solicit(fx.par.Address(), fx.pcoa)
	if err != nil {
		f.Fatal(err)
	}
	adv := fx.par.HandlePacket(context.Background(), sol)[0]
	// A second node provisions, so that an FBU/FBack pair exists.
	other := fx.newNode(f, nil)
	sol2, _ := other.Solicit(fx.par.Address(), fx.pcoa)
	if _, err := other.HandlePacket(context.Background(), fx.par.HandlePacket(context.Background(), sol2)[0]); err != nil {
		f.Fatal(err)
	}
	fbu, err := other.FastBindingUpdate(fx.par.Address(), fx.pcoa.Address, fx.ncoa.Address, false)
	if err != nil {
		f.Fatal(err)
	}
	fback := fx.par.HandlePacket(context.Background(), fbu)[0]
	f.Add(uint8(0), adv.Payload)
	f.Add(uint8(1), fback.Payload)
	f.Add(uint8(0), adv.Payload[:len(adv.Payload)/2])
	f.Fuzz(func(t *testing.T, sel uint8, payload []byte) {
		count := func(n *mn.MobileNode) int {
			c := 0
			_ = n.Store().Range(func(*keystore.Record) bool { c++; return true })
			return c
		}
		p := netio.Packet{Src: fx.par.Address(), Dst: fx.pcoa.Address, HopLimit: 255, NextHeader: 58, Payload: payload}
		if sel&1 != 0 {
			p.NextHeader, p.Dst = 135, fx.ncoa.Address
		}
		for _, n := range []*mn.MobileNode{fx.node, other} {
			before := count(n)
			ev, err := n.HandlePacket(context.Background(), p)
			if after := count(n); after != before && (err != nil || ev.Kind != mn.KeyProvisioned) {
				t.Fatalf("store changed from %d to %d without a provisioned key (%v)", before, after, err)
			}
		}
	})
}
