package ar

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/mh"
)

// TestEndForwarding: an MN back on the PAR's link sends an FBU with
// Lifetime 0 (RFC 5568 §5.6); the PAR removes the binding, keeps the key,
// and answers at the PCoA with an authenticated FBack of Lifetime 0, which
// the MN verifies. Without the key, the same FBU is answered with nothing
// and changes nothing.
func TestEndForwarding(t *testing.T) {
	w := newWorld(t, 1024, nil)
	var logs bytes.Buffer
	w.par.log = slog.New(slog.NewTextHandler(&logs, nil)) // info and above
	w.provision()
	ctx := context.Background()
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(ctx, fbu)
	if len(out) != 1 {
		t.Fatalf("FBU: %d answers", len(out))
	}
	if _, err := w.mn.HandlePacket(ctx, out[0]); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.table.Lookup(w.pcoa.Address); !ok {
		t.Fatal("no binding after the FBU")
	}
	keys := snapshot(t, w.store)

	end, err := w.mn.EndForwardingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address)
	if err != nil {
		t.Fatal(err)
	}
	if end.Src != w.pcoa.Address || end.HomeAddress.IsValid() {
		t.Fatalf("end-forwarding FBU from %v, Home Address %v: want the PCoA, none", end.Src, end.HomeAddress)
	}
	m, err := mh.ParseMessage(end.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if f := m.(mh.FastBindingUpdate); f.Lifetime != 0 || !f.Acknowledge {
		t.Fatalf("end-forwarding FBU %+v: want Lifetime 0, A set", f)
	}
	out = w.par.HandlePacket(ctx, end)
	if len(out) != 1 {
		t.Fatalf("end-forwarding FBU: %d answers (stats %+v)", len(out), w.par.Stats())
	}
	if _, ok := w.table.Lookup(w.pcoa.Address); ok {
		t.Error("binding still there after Lifetime 0")
	}
	if out[0].Dst != w.pcoa.Address {
		t.Errorf("FBack to %v, want the PCoA %v (the tunnel to the NCoA is gone)", out[0].Dst, w.pcoa.Address)
	}
	ev, err := w.mn.HandlePacket(ctx, out[0])
	if err != nil || ev.Kind != mn.FastBindingAcknowledged || ev.Status != mh.FastStatusAccepted || ev.Lifetime != 0 {
		t.Fatalf("MN on the FBack: %+v %v", ev, err)
	}
	if !sameRecords(keys, snapshot(t, w.store)) {
		t.Error("ending forwarding changed the key store")
	}
	if s := w.par.Stats(); s.FBUAccepted != 2 || s.FBackSent != 2 {
		t.Errorf("stats %+v", s)
	}
	// One info record each: the key, the binding, its end.
	for _, want := range []string{"handover key created", "forwarding\" previous_coa=" + w.pcoa.Address.String(), "forwarding ended"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 3 {
		t.Errorf("%d log records, want 3:\n%s", n, logs.String())
	}

	// The MN holds no key of the NAR: nothing to authenticate with.
	if _, err := w.mn.EndForwardingUpdate(w.creds.NAR.CGA.Address, w.pcoa.Address, w.ncoa.Address); err == nil {
		t.Error("EndForwardingUpdate without a key for the router succeeded")
	}
}
