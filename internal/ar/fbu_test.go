package ar

import (
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/mh"
)

func TestFastBindingUpdate(t *testing.T) {
	for _, fromPrevious := range []bool{false, true} {
		name := map[bool]string{false: "from the new link (HAO)", true: "from the previous link (Alternate CoA)"}[fromPrevious]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 1024, nil)
			w.provision()
			keys := snapshot(t, w.store)
			fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, fromPrevious)
			if err != nil {
				t.Fatal(err)
			}
			wantSrc := w.ncoa.Address
			if fromPrevious {
				wantSrc = w.pcoa.Address
			}
			if fbu.Src != wantSrc || fbu.Dst != w.parAdr || fbu.NextHeader != inet.ProtocolMobility {
				t.Errorf("FBU %v -> %v", fbu.Src, fbu.Dst)
			}
			if fromPrevious == fbu.HomeAddress.IsValid() || (!fromPrevious && fbu.HomeAddress != w.pcoa.Address) {
				t.Errorf("FBU Home Address %v", fbu.HomeAddress)
			}
			out := w.par.HandlePacket(context.Background(), fbu)
			if len(out) != 1 {
				t.Fatalf("PAR answered %d packets (stats %+v)", len(out), w.par.Stats())
			}
			b, ok := w.table.Lookup(w.pcoa.Address)
			if !ok || b.New != w.ncoa.Address {
				t.Fatalf("binding %+v %v", b, ok)
			}
			ack := out[0]
			if ack.Src != w.parAdr || ack.Dst != w.ncoa.Address || ack.NextHeader != inet.ProtocolMobility {
				t.Errorf("FBack %v -> %v", ack.Src, ack.Dst)
			}
			m, err := mh.ParseMessage(ack.Payload)
			if err != nil {
				t.Fatal(err)
			}
			fb := m.(mh.FastBindingAcknowledgment)
			if fb.Status != mh.FastStatusAccepted || fb.Lifetime != 10*time.Second {
				t.Errorf("FBack %+v", fb)
			}
			if _, ok := fb.Options[len(fb.Options)-1].(mh.BindingAuthorizationDataForFMIPv6); !ok {
				t.Error("FBack without BADF last")
			}
			ev, err := w.mn.HandlePacket(context.Background(), ack)
			if err != nil || ev.Kind != mn.FastBindingAcknowledged || ev.Status != 0 {
				t.Fatalf("MN: %+v %v", ev, err)
			}
			// The same FBack again: nothing is outstanding.
			if _, err := w.mn.HandlePacket(context.Background(), ack); err == nil {
				t.Error("MN accepted an FBack twice")
			}
			// A replay of the accepted FBU is refused (sequence).
			out = w.par.HandlePacket(context.Background(), fbu)
			if len(out) != 1 {
				t.Fatal("no answer to a replayed FBU")
			}
			m, _ = mh.ParseMessage(out[0].Payload)
			if st := m.(mh.FastBindingAcknowledgment).Status; st < 128 {
				t.Errorf("replayed FBU answered with Status %d", st)
			}
			if !sameRecords(keys, snapshot(t, w.store)) {
				t.Error("FBU changed the key store")
			}
			if s := w.par.Stats(); s.FBUAccepted != 1 || s.FBUStale != 1 || s.FBackSent != 2 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestBindingTable(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	bt := NewBindingTable(c.Now)
	a, b := w6("2001:db8:1::1"), w6("2001:db8:2::1")
	if err := bt.Bind(Binding{Previous: a, New: b, Expires: c.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got, ok := bt.Lookup(a); !ok || got.New != b || len(bt.Snapshot()) != 1 {
		t.Fatal("binding not found")
	}
	c.Advance(time.Second)
	if _, ok := bt.Lookup(a); ok {
		t.Error("expired binding found")
	}
	if bt.Expire() != 1 {
		t.Error("Expire did not remove the binding")
	}
	_ = bt.Bind(Binding{Previous: a, New: b, Expires: c.Now().Add(time.Second)})
	_ = bt.Bind(Binding{Previous: a, New: b, Expires: c.Now()}) // zero lifetime deletes
	if _, ok := bt.Lookup(a); ok {
		t.Error("zero-lifetime Bind did not delete")
	}
}
