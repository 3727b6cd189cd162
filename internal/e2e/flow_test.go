package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
)

const streamPort = 5999

// TestRedirectedStreamAndForgery runs the RFC 5269 flow on the testbed: the
// MN gets a key from the PAR over SEND (with CPS/CPA), moves, sends the FBU
// from the NAR's link with the Home Address option, gets FBack 0; the CN's
// stream to the previous CoA reaches the MN through the PAR's tunnel. Then a
// forged FBU from the attacker is rejected, the binding stays, and the
// attacker receives nothing of a second stream, which still reaches the MN.
func TestRedirectedStreamAndForgery(t *testing.T) {
	t.Parallel()
	b := newBed(t, "f", true)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	par := b.par(nil)
	b.nar()
	m := b.mobile()
	parAddr := par.Address()

	ev, err := m.RequestKey(ctx, parAddr)
	if err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("RequestKey: %v %v", ev.Kind, err)
	}
	arRec, err := par.Store.Get(parAddr, m.PCoA.Address)
	if err != nil {
		t.Fatal(err)
	}
	mnRec, err := m.Role.Store().Get(parAddr, m.PCoA.Address)
	if err != nil || !mnRec.KeyEqual(arRec.KeyBytes()) {
		t.Fatalf("MN key %v differs from the PAR's", err)
	}
	if s := m.Solicitor.Stats(); s.PathsVerified != 1 {
		t.Errorf("solicitor %+v: want one certification path verified (CPS/CPA)", s)
	}

	recv, cn, dst := b.stream(m.PCoA.Address)

	// Attached to the PAR, the stream arrives directly.
	from, to, _ := cn.Stream(ctx, dst, 20, time.Millisecond, nil)
	if s := recv.Await(from, to, 20, 10*time.Second); s.Received != 20 {
		t.Fatalf("before the move: %+v", s)
	}

	if err := m.Move(ctx); err != nil {
		t.Fatal(err)
	}
	// Moved, without a binding: nothing arrives, checked once the
	// redirected stream, sent after it, has arrived.
	unboundFrom, unboundTo, _ := cn.Stream(ctx, dst, 20, time.Millisecond, nil)

	fb, err := m.FastHandover(ctx, parAddr)
	if err != nil || fb.Status != mh.FastStatusAccepted {
		t.Fatalf("FastHandover: status %d, %v", fb.Status, err)
	}
	bnd, ok := par.Binding(m.PCoA.Address)
	if !ok || bnd.NewCoA != m.NCoA.Address {
		t.Fatalf("PAR binding %+v %v, want PCoA -> NCoA", bnd, ok)
	}
	if st := par.Role.Stats(); !oneExchange(st.FBUAccepted) || st.FBackSent != st.FBUAccepted {
		t.Errorf("PAR stats %+v: want the FBUs of one exchange accepted and answered", st)
	}

	from, to, _ = cn.Stream(ctx, dst, 200, time.Millisecond, nil)
	s := recv.Await(from, to, 190, 10*time.Second)
	if s.Received < 190 {
		t.Fatalf("redirected stream: %+v, want >= 95%% of 200; forwarder %+v, decapsulator %+v", s, par.Forwarder.Counters(), m.Decapsulator.Counters())
	}
	if s := recv.Stats(unboundFrom, unboundTo); s.Received != 0 {
		t.Fatalf("moved without FBU: %+v, want nothing", s)
	}
	// The decapsulator counts a packet after passing it on.
	testenv.Eventually(t, 5*time.Second, "decapsulator counting the packets received", func() (bool, string) {
		dc := m.Decapsulator.Counters()
		return dc.Packets >= uint64(s.Received), fmt.Sprintf("%+v, %d received", dc, s.Received)
	})
	t.Logf("redirected stream: %+v", s)

	// The forgery.
	sink, err := scenario.ListenTunnel(b.tb, testbed.Attacker)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var att *netio.MHConn
	if err := b.tb.Do(testbed.Attacker, func() error {
		att, err = netio.ListenMH(netio.MHConfig{Interface: testbed.IfaceAttacker})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	before := par.Role.Stats()
	forged, err := scenario.ForgeFBU(parAddr, m.PCoA.Address, testbed.AddrAttacker, hokey.HMACSHA256Trunc128)
	if err != nil {
		t.Fatal(err)
	}
	if err := att.WritePacket(ctx, forged); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
	p, err := att.ReadPacket(rctx)
	rcancel()
	if err != nil {
		t.Fatalf("no FBack for the forged FBU: %v", err)
	}
	msg, err := mh.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := msg.(mh.FastBindingAcknowledgment); !ok || a.Status == mh.FastStatusAccepted {
		t.Fatalf("answer to the forged FBU: %#v", msg)
	}
	after := par.Role.Stats()
	if after.FBUBadAuth != before.FBUBadAuth+1 || after.FBUAccepted != before.FBUAccepted {
		t.Fatalf("PAR stats after forgery %+v, before %+v: want one more bad authenticator, no acceptance", after, before)
	}
	if bnd2, ok := par.Binding(m.PCoA.Address); !ok || bnd2.Binding != bnd.Binding || !bnd2.Expires.Equal(bnd.Expires) {
		t.Fatalf("binding changed by the forgery: %+v, was %+v", bnd2, bnd)
	}
	from, to, _ = cn.Stream(ctx, dst, 100, time.Millisecond, nil)
	if s := recv.Await(from, to, 95, 10*time.Second); s.Received < 95 {
		t.Fatalf("second stream after the forgery: %+v, want it still at the MN", s)
	}
	if n := sink.Count(); n != 0 {
		t.Fatalf("attacker received %d tunnel packets", n)
	}
}
