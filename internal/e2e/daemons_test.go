package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// Status documents of the daemons, the parts the test reads.
type (
	parStatus struct {
		KeysHeld int `json:"keys_held"`
		Bindings []struct {
			PreviousCoA netip.Addr
			NewCoA      netip.Addr
		} `json:"bindings"`
	}
	mnStatus struct {
		Keys []struct {
			Router netip.Addr `json:"router"`
			CareOf netip.Addr `json:"care_of"`
			AT     uint8      `json:"at"`
		} `json:"keys"`
		Handovers int `json:"handovers"`
		Handover  *struct {
			PreviousRouter  string `json:"previous_router"`
			ForwardingEnded string `json:"forwarding_ended"`
			Status          int    `json:"status"`
			Error           string `json:"error"`
		} `json:"handover"`
	}
)

// TestDaemonProcesses runs the daemons as a user does, one process per
// namespace with the configurations of 'fhkey testbed configs': `fhkey ar`
// on the PAR (bbolt key store, forwarder) and the NAR, `fhkey mn` on the
// MN. The MN daemon provisions its key over SEND; malformed packets from
// the attacker are counted in the routers' /metrics and dropped; the PAR
// is killed (SIGKILL) in the middle of the flow and restarted on its key
// store; the MN is moved and its daemon, detecting the new link, sends
// the FBU, which the restarted PAR verifies with the persisted key; the
// CN's stream to the previous CoA then reaches the MN through the PAR's
// tunnel; a forged FBU is rejected. The MN gets a key from the NAR and
// moves back: it ends the PAR's tunnel and hands over from the NAR, whose
// tunnel then carries the stream to the NCoA. SIGTERM stops every daemon
// cleanly.
func TestDaemonProcesses(t *testing.T) {
	t.Parallel()
	b := newBed(t, "d", true)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	files, err := scenario.WriteDaemonFiles(b.dir, b.creds, scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP,
		ForwardingLifetime: time.Minute, LogLevel: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	parAddr, pcoa, ncoa := b.creds.PAR.CGA.Address, b.creds.MN.PCoA.Address, b.creds.MN.NCoA.Address

	par := startDaemon(t, b.tb, testbed.PAR, "PAR", "ar", "-c", files.PAR)
	nar := startDaemon(t, b.tb, testbed.NAR, "NAR", "ar", "-c", files.NAR)
	mobile := startDaemon(t, b.tb, testbed.MN, "MN", "mn", "-c", files.MN)

	// Provisioning (RFC 5269 §3.1–§3.3), driven by the MN daemon itself.
	par.waitMetric(`fhkey_ar_keys_issued_total{kind="created"}`, 1)
	var ms mnStatus
	// waitStatus polls the MN's /status until cond holds.
	waitStatus := func(what string, cond func() bool) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, what, func() (bool, string) {
			mobile.status(&ms)
			return cond(), fmt.Sprintf("MN status %+v, handover %+v", ms, ms.Handover)
		})
	}
	waitStatus("key from the PAR", func() bool { return len(ms.Keys) == 1 })
	if len(ms.Keys) != 1 || ms.Keys[0].Router != parAddr || ms.Keys[0].CareOf != pcoa || ms.Keys[0].AT != uint8(hokey.HMACSHA256Trunc128) {
		t.Fatalf("MN keys %+v: want one AT 1 key from the PAR for the PCoA", ms.Keys)
	}
	if v := mobile.metric("fhkey_mn_keys_held"); v != 1 {
		t.Errorf("fhkey_mn_keys_held = %v", v)
	}

	// Before the move, the CN's stream arrives directly.
	recv, cn, dst := b.stream(pcoa)
	from, to, _ := cn.Stream(ctx, dst, 20, time.Millisecond, nil)
	if s := recv.Await(from, to, 20, 10*time.Second); s.Received != 20 {
		t.Fatalf("before the move: %+v", s)
	}

	// Malformed packets from the attacker: a truncated RtSolPr on the
	// NAR's link, a cut-short FBU routed to the PAR. Counted, dropped.
	var aICMP *netio.ICMPConn
	var aMH *netio.MHConn
	if err := b.tb.Do(testbed.Attacker, func() error {
		var err error
		if aICMP, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceAttacker}); err != nil {
			return err
		}
		aMH, err = netio.ListenMH(netio.MHConfig{Interface: testbed.IfaceAttacker})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer aICMP.Close()
	defer aMH.Close()
	narAddr := b.creds.NAR.CGA.Address
	truncated := []byte{154, 0, 0, 0, 2, 0} // RtSolPr (RFC 5568 §6.1.1) cut inside its Identifier
	if err := aICMP.WritePacket(ctx, netio.Packet{Src: testbed.AddrAttacker, Dst: narAddr, HopLimit: 255,
		NextHeader: inet.ProtocolICMPv6, Payload: truncated}); err != nil {
		t.Fatal(err)
	}
	nar.waitMetric(`fhkey_ar_rtsolpr_rejected_total{reason="malformed"}`, 1)
	garbage := []byte{59, 0, 8, 0, 0, 0, 0xff, 0xff} // MH type 8 (FBU), body cut short
	if err := aMH.WritePacket(ctx, netio.Packet{Src: testbed.AddrAttacker, Dst: parAddr, NextHeader: inet.ProtocolMobility,
		Payload: garbage}); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_ar_fbu_rejected_total{reason="malformed"}`, 1)

	// The PAR dies without warning and comes back on its key store.
	par.kill()
	par = startDaemon(t, b.tb, testbed.PAR, "PAR (restarted)", "ar", "-c", files.PAR)
	var ps parStatus
	par.status(&ps)
	if ps.KeysHeld != 1 {
		t.Fatalf("restarted PAR holds %d keys, want the persisted one", ps.KeysHeld)
	}

	// The move: the MN daemon detects the new link and sends the FBU.
	if err := b.tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus("handover", func() bool { return ms.Handover != nil })
	if h := ms.Handover; h.Status != 0 || h.Error != "" || h.PreviousRouter != parAddr.String() {
		t.Fatalf("MN handover %+v: want FBack status 0 from the PAR", h)
	}
	// One FBU, or more when the MN retransmitted it (a loaded host): each
	// is accepted and answered.
	accepted := par.metric("fhkey_ar_fbu_accepted_total")
	if fbacks := par.metric("fhkey_ar_fback_sent_total"); !oneExchange(uint64(accepted)) || fbacks != accepted {
		t.Fatalf("PAR accepted %v FBUs, sent %v FBacks: want those of one exchange, all answered", accepted, fbacks)
	}
	par.status(&ps)
	if len(ps.Bindings) != 1 || ps.Bindings[0].PreviousCoA != pcoa || ps.Bindings[0].NewCoA != ncoa {
		t.Fatalf("PAR bindings %+v, want PCoA -> NCoA", ps.Bindings)
	}

	// The CN's stream to the previous CoA now follows the MN.
	from, to, _ = cn.Stream(ctx, dst, 200, time.Millisecond, nil)
	if s := recv.Await(from, to, 190, 10*time.Second); s.Received < 190 {
		t.Fatalf("redirected stream: %+v, want >= 95%% of 200", s)
	} else {
		t.Logf("redirected stream through the daemons: %+v", s)
	}

	// A forged FBU claiming the PCoA is rejected; the binding stays.
	forged, err := scenario.ForgeFBU(parAddr, pcoa, testbed.AddrAttacker, hokey.HMACSHA256Trunc128)
	if err != nil {
		t.Fatal(err)
	}
	if err := aMH.WritePacket(ctx, forged); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`, 1)
	if v := par.metric("fhkey_ar_fbu_accepted_total"); v != accepted {
		t.Errorf("fbu accepted = %v after the forgery, was %v", v, accepted)
	}
	par.status(&ps)
	if len(ps.Bindings) != 1 || ps.Bindings[0].NewCoA != ncoa {
		t.Fatalf("PAR bindings after the forgery %+v", ps.Bindings)
	}

	// On the NAR's link the MN daemon provisions a key from the NAR for
	// the NCoA, fetching the NAR's certification path on nar0.
	hasKey := func(router, coa netip.Addr) bool {
		for _, k := range ms.Keys {
			if k.Router == router && k.CareOf == coa {
				return true
			}
		}
		return false
	}
	waitStatus("key from the NAR", func() bool { return hasKey(narAddr, ncoa) })
	nar.waitMetric(`fhkey_ar_keys_issued_total{kind="created"}`, 1)

	// Back to the PAR's link before the PAR's tunnel times out: the MN
	// daemon ends it (FBU with Lifetime 0, RFC 5568 §5.6) and hands over
	// from the NAR (FBU for the NCoA with the NAR's key).
	recvN, _, dstN := b.stream(ncoa)
	if err := b.tb.Attach(ctx, testbed.PAR); err != nil {
		t.Fatal(err)
	}
	waitStatus("handover back", func() bool { return ms.Handovers == 2 })
	if h := ms.Handover; h.Status != 0 || h.Error != "" || h.PreviousRouter != narAddr.String() || h.ForwardingEnded != parAddr.String() {
		t.Fatalf("handover back %+v: want FBack 0 from the NAR, the PAR's forwarding ended", h)
	}
	par.status(&ps)
	if len(ps.Bindings) != 0 {
		t.Errorf("PAR bindings %+v after the MN came back", ps.Bindings)
	}
	var ns parStatus
	nar.status(&ns)
	if len(ns.Bindings) != 1 || ns.Bindings[0].PreviousCoA != ncoa || ns.Bindings[0].NewCoA != pcoa {
		t.Fatalf("NAR bindings %+v, want NCoA -> PCoA", ns.Bindings)
	}
	// The PCoA is reached directly again; the NCoA through the NAR.
	from, to, _ = cn.Stream(ctx, dst, 20, time.Millisecond, nil)
	if s := recv.Await(from, to, 20, 10*time.Second); s.Received != 20 {
		t.Fatalf("to the PCoA after coming back: %+v", s)
	}
	from, to, _ = cn.Stream(ctx, dstN, 200, time.Millisecond, nil)
	if s := recvN.Await(from, to, 190, 10*time.Second); s.Received < 190 {
		t.Fatalf("to the NCoA through the NAR's tunnel: %+v", s)
	}
	// RFC 5269 §3.6: the MN does not reuse the PAR's key without receiving
	// it again: it asks anew.
	waitStatus("key from the PAR again", func() bool { return hasKey(parAddr, pcoa) })

	for _, p := range []*process{mobile, nar, par} {
		p.stop()
	}
}
