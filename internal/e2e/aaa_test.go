package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/radius/freeradius"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
)

// aaaMNStatus is the part of the MN's /status the shared-key test reads.
type aaaMNStatus struct {
	Keys []struct {
		Router netip.Addr `json:"router"`
		CareOf netip.Addr `json:"care_of"`
		SPI    uint32     `json:"spi"`
	} `json:"keys"`
	CareOf    netip.Addr `json:"care_of"` // the current link's
	Handovers int        `json:"handovers"`
	Handover  *struct {
		PreviousRouter  string `json:"previous_router"`
		ForwardingEnded string `json:"forwarding_ended"`
		Status          int    `json:"status"`
		Error           string `json:"error"`
	} `json:"handover"`
	LastRequestErr string `json:"last_request_error"`
}

// TestAAADaemonProcesses runs the shared-key mode (docs/aaa.md) on the
// testbed as a user does, every daemon a process: `fhkey hks` on a bbolt
// subscriber store and FreeRADIUS as the realm proxy in front of it
// (examples/freeradius/proxy.conf), both on the PAR namespace's loopback,
// an AAA-only `fhkey ar` on the PAR (no SEND credentials, bbolt key store,
// forwarder) and `fhkey mn` in the shared-key mode. The MN daemon gets its
// key through the chain; an HKReq with a forged MN-HKS MAC (wrong HMK) is
// discarded by the HKS (its bad_mac counter) and answered by nobody; the
// same forgery from the attacker's namespace, for a key bound to its own
// address, fails the PAR's CoA check (CoA_AUTH_FAILED); a replayed HKReq is refused by the PAR; with the HKS daemon stopped
// (SIGTERM, exit 0) the restarted MN gets no key and holds nothing, and
// gets one when the HKS daemon is back on its store; the PAR is killed and
// restarted on its key store; the MN moves, its FBU with the key's SPI is
// accepted by the restarted PAR, and the CN's stream follows it.
func TestAAADaemonProcesses(t *testing.T) {
	t.Parallel()
	testenv.RequireTool(t, "freeradius")
	b := newBed(t, "a", true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const nai = "mn@example.com"
	arSecret, hksSecret := []byte("ar-to-proxy-7c1d"), []byte("proxy-to-hks-0e9a")
	parAddr, pcoa := b.creds.PAR.CGA.Address, b.creds.MN.PCoA.Address
	hmk := make([]byte, 64)
	if _, err := rand.Read(hmk); err != nil {
		t.Fatal(err)
	}

	// The HKS daemon and FreeRADIUS in front of it, on the loopback of the
	// PAR's namespace (the testbed's own: fixed ports are free).
	loopback := netip.MustParseAddr("127.0.0.1")
	hksAddr, proxy := netip.AddrPortFrom(loopback, 18120), netip.AddrPortFrom(loopback, 18121)
	const hksHTTP = "127.0.0.1:9751"
	files, err := scenario.WriteAAADaemonFiles(b.dir, b.creds, scenario.AAADaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, LogLevel: "debug"},
		RADIUS:        proxy, Secret: arSecret, NAI: nai, HMK: hmk,
		HKS: &scenario.HKSDaemonOptions{Listen: hksAddr, Client: netip.PrefixFrom(loopback, 32), Secret: hksSecret, HTTP: hksHTTP}})
	if err != nil {
		t.Fatal(err)
	}
	hksd := startDaemonAt(t, b.tb, testbed.PAR, "HKS", hksHTTP, "hks", "-c", files.HKS)
	fr, err := freeradius.Start(ctx, freeradius.Config{Dir: t.TempDir(), Examples: "../../examples", Listen: proxy,
		Client: loopback, ClientSecret: arSecret, HKS: hksAddr, HKSSecret: hksSecret,
		Command: []string{"ip", "netns", "exec", b.tb.Namespace(testbed.PAR)}})
	stopAtCleanup(t, "FreeRADIUS", fr, err)

	// A copy of every HKReq reaching the PAR, to replay one.
	sniff, mnMH, par, mobile := aaaDaemons(t, b, files)
	var ms aaaMNStatus
	waitStatus := func(what string, cond func() bool) { t.Helper(); waitMN(t, mobile, &ms, what, cond) }
	hasKey := func() bool {
		return len(ms.Keys) == 1 && ms.Keys[0].Router == parAddr && ms.Keys[0].CareOf == pcoa && ms.Keys[0].SPI >= hokey.FirstAAASPI
	}
	waitStatus("key from the PAR through FreeRADIUS and the HKS", hasKey)
	firstSPI := ms.Keys[0].SPI
	par.waitMetric(`fhkey_ar_hkreq_answered_total{kind="key"}`, 1)
	if v := par.metric(`fhkey_radius_client_replies_total{code="accept"}`); v != 1 {
		t.Errorf("RADIUS accepts %v, want 1", v)
	}
	sctx2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	genuine, err := sniff.ReadPacket(sctx2)
	cancel2()
	if err != nil || genuine.Src != pcoa {
		t.Fatalf("no HKReq of the MN seen at the PAR: %v %v", genuine.Src, err)
	}

	// A forged MN-HKS MAC: an HKReq for the MN's NAI made with another HMK,
	// from the MN's address. The HKS discards it; nobody answers.
	forger, err := mn.New(mn.Config{AAA: &mn.AAAConfig{NAI: nai, HMK: bytes.Repeat([]byte{0x5a}, 64),
		PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.HandoverKeyRequest(parAddr, pcoa, pcoa, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := mnMH.WritePacket(ctx, forged); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_ar_hkreq_hks_failures_total{result="discarded"}`, 1)
	if v := par.metric(`fhkey_ar_hkreq_answered_total{kind="key"}`) + par.metric(`fhkey_ar_hkreq_answered_total{kind="status"}`); v != 1 {
		t.Errorf("answers after the forgery: %v, want the genuine one only", v)
	}
	if v := hksd.metric(`fhkey_hks_discarded_total{reason="bad_mac"}`); v != 1 {
		t.Errorf("HKS discarded %v requests for their MAC, want 1", v)
	}

	// The same forgery from the attacker on the NAR's link, for a key bound
	// to its own address: off the PAR's link the Key Care-of Address must be
	// the CoA of the NAI's live key, so the PAR refuses it (CoA_AUTH_FAILED)
	// without asking the HKS.
	forged, err = forger.HandoverKeyRequest(parAddr, testbed.AddrAttacker, testbed.AddrAttacker, false)
	if err != nil {
		t.Fatal(err)
	}
	atk := listenMH(t, b.tb, testbed.Attacker, mh.DefaultHandoverKeyResponseType)
	if err := atk.WritePacket(ctx, forged); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_ar_hkreq_refused_total{reason="coa_auth_failed"}`, 1)
	if v := hksd.metric("fhkey_hks_requests_total"); v != 2 {
		t.Errorf("HKS requests after the attacker's forgery: %v, want the MN's and the first forgery's", v)
	}

	// The MN's genuine HKReq replayed once its answer is no longer
	// buffered (HKEY_REQ_TOUT): its Timestamp is the live key's.
	par.waitMetric("fhkey_ar_hkreq_buffered", 0)
	if err := mnMH.WritePacket(ctx, netio.Packet{Src: pcoa, Dst: parAddr, NextHeader: genuine.NextHeader, Payload: genuine.Payload}); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_ar_hkreq_dropped_total{reason="replayed"}`, 1)
	mobile.status(&ms)
	if !hasKey() || ms.Keys[0].SPI != firstSPI {
		t.Fatalf("MN keys after the replay %+v", ms.Keys)
	}

	// The HKS stopped: the restarted MN (memory key store) gets no key and
	// shows none; when the HKS is back on its store, a retransmission
	// gets one.
	hksd.stop()
	failures := func() float64 {
		return par.metric(`fhkey_ar_hkreq_hks_failures_total{result="no_answer"}`) + par.metric(`fhkey_ar_hkreq_hks_failures_total{result="discarded"}`)
	}
	before := failures()
	mobile.kill()
	mobile = startDaemon(t, b.tb, testbed.MN, "MN (restarted)", "mn", "-c", files.MN)
	testenv.Eventually(t, 15*time.Second, "the PAR gives up on the silent HKS", func() (bool, string) {
		f := failures()
		return f > before, fmt.Sprintf("PAR HKS failures %v (before %v)", f, before)
	})
	mobile.status(&ms)
	if len(ms.Keys) != 0 {
		t.Fatalf("MN keys with the HKS down: %+v", ms.Keys)
	}
	hksd = startDaemonAt(t, b.tb, testbed.PAR, "HKS (restarted)", hksHTTP, "hks", "-c", files.HKS)
	waitStatus("key once the HKS is back", hasKey)

	// The PAR dies and comes back on its key store (the CoA record and the
	// NAI index record).
	par.kill()
	par = startDaemon(t, b.tb, testbed.PAR, "PAR (restarted)", "ar", "-c", files.PAR)
	var ps struct {
		KeysHeld int `json:"keys_held"`
	}
	par.status(&ps)
	if ps.KeysHeld != 2 {
		t.Fatalf("restarted PAR holds %d key records, want the persisted 2", ps.KeysHeld)
	}

	// The move: the MN daemon sends the FBU with the key's SPI to the
	// restarted PAR, and the CN's stream follows the MN.
	recv, cn, dst := b.stream(pcoa)
	if err := b.tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus("handover", func() bool { return ms.Handover != nil })
	if h := ms.Handover; h.Status != 0 || h.Error != "" || h.PreviousRouter != parAddr.String() {
		t.Fatalf("MN handover %+v: want FBack status 0 from the PAR", h)
	}
	if v := par.metric("fhkey_ar_fbu_accepted_total"); !oneExchange(uint64(v)) {
		t.Fatalf("PAR accepted %v FBUs", v)
	}
	from, to, _ := cn.Stream(ctx, dst, 200, time.Millisecond, nil)
	if s := recv.Await(from, to, 190, 10*time.Second); s.Received < 190 {
		t.Fatalf("redirected stream: %+v, want >= 95%% of 200", s)
	}
	for _, p := range []*process{mobile, par, hksd} {
		p.stop()
	}
}

// TestAAAIndirectRefreshProcesses is the indirect exchange of
// draft-vidya-mipshop-handover-keys-aaa-04 §6.5 on the testbed, every
// daemon a process: `fhkey hks` on the PAR namespace's loopback, an
// AAA-only `fhkey ar` on the PAR with 8 s keys, `fhkey mn` with
// refresh_before 4 s. The MN gets its key on the PAR's link and moves
// before it is due; its FBU is accepted (the PAR forwards the PCoA for
// 10 s, beyond the key's expiry). When the key comes due the MN daemon
// refreshes it from the NAR's link: an HKReq from the NCoA to the PAR with
// V clear and Key Care of Address ::, routed through the NAR, answered to
// the NCoA; the MN holds a new SPI for the PCoA. Back on the PAR's link
// before forwarding ends, the MN's FBU ending it (RFC 5568 §5.6) is
// authenticated with the refreshed key and accepted by the PAR.
func TestAAAIndirectRefreshProcesses(t *testing.T) {
	t.Parallel()
	b := newBed(t, "ai", false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const nai = "mn@example.com"
	secret := []byte("par-to-hks-5b27")
	parAddr, pcoa, ncoa := b.creds.PAR.CGA.Address, b.creds.MN.PCoA.Address, b.creds.MN.NCoA.Address
	hmk := make([]byte, 64)
	if _, err := rand.Read(hmk); err != nil {
		t.Fatal(err)
	}
	loopback := netip.MustParseAddr("127.0.0.1")
	hksAddr := netip.AddrPortFrom(loopback, 18130)
	const hksHTTP = "127.0.0.1:9753"
	files, err := scenario.WriteAAADaemonFiles(b.dir, b.creds, scenario.AAADaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, LogLevel: "debug"},
		RADIUS:        hksAddr, Secret: secret, NAI: nai, HMK: hmk,
		HKS:         &scenario.HKSDaemonOptions{Listen: hksAddr, Client: netip.PrefixFrom(loopback, 32), Secret: secret, HTTP: hksHTTP},
		KeyLifetime: 8 * time.Second, RefreshBefore: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hksd := startDaemonAt(t, b.tb, testbed.PAR, "HKS", hksHTTP, "hks", "-c", files.HKS)
	sniff, mnMH, par, mobile := aaaDaemons(t, b, files)
	var ms aaaMNStatus
	waitStatus := func(what string, cond func() bool) { t.Helper(); waitMN(t, mobile, &ms, what, cond) }
	parKey := func() (uint32, bool) {
		for _, k := range ms.Keys {
			if k.Router == parAddr && k.CareOf == pcoa && k.SPI >= hokey.FirstAAASPI {
				return k.SPI, true
			}
		}
		return 0, false
	}
	waitStatus("key from the PAR", func() bool { _, ok := parKey(); return ok })

	// The move, normally before the key is due (4 s after it was made).
	// Should the machine stall past that, the MN refreshes it directly on
	// the PAR's link first; the key it then holds at the handover is
	// refreshed from the NAR's link when it comes due in turn, since the
	// PAR forwards for 10 s, beyond that key's 8 s. The key compared
	// below is the one held after the handover, and the HKReq checked is
	// the one from the NCoA, whichever came before it.
	if err := b.tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus("handover", func() bool { return ms.Handover != nil })
	if h := ms.Handover; h.Status != 0 || h.Error != "" || h.PreviousRouter != parAddr.String() {
		t.Fatalf("MN handover %+v: want FBack status 0 from the PAR", h)
	}
	first, _ := parKey()

	// The refresh from the NAR's link, seen at the PAR and at the MN.
	testenv.Eventually(t, 15*time.Second, "an HKReq from the NCoA at the PAR", func() (bool, string) {
		rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer rcancel()
		p, err := sniff.ReadPacket(rctx)
		if err != nil || p.Src != ncoa {
			return false, fmt.Sprintf("last %v -> %v, %v", p.Src, p.Dst, err)
		}
		m, err := mh.ParseMessage(p.Payload)
		req, ok := m.(mh.HandoverKeyRequest)
		if err != nil || !ok || req.Verify || !req.KeyCareOfAddress.IsUnspecified() || p.Dst != parAddr {
			t.Fatalf("HKReq from the NCoA %v -> %v: %#v, %v; want V clear, Key Care of Address ::", p.Src, p.Dst, m, err)
		}
		return true, ""
	})
	testenv.Eventually(t, 15*time.Second, "an HKResp from the PAR to the NCoA", func() (bool, string) {
		rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer rcancel()
		p, err := mnMH.ReadPacket(rctx)
		return err == nil && p.Src == parAddr && p.Dst == ncoa, fmt.Sprintf("last %v -> %v, %v", p.Src, p.Dst, err)
	})
	waitStatus("the PAR's key refreshed on the NAR's link", func() bool {
		spi, ok := parKey()
		return ok && spi != first && ms.CareOf == ncoa && ms.Handovers == 1
	})
	refreshed, _ := parKey()
	if v := par.metric(`fhkey_ar_hkreq_answered_total{kind="key"}`); v < 2 {
		t.Errorf("PAR answered %v key requests, want the first and the indirect one", v)
	}
	var ps struct {
		KeysHeld int `json:"keys_held"`
	}
	par.status(&ps)
	if ps.KeysHeld != 2 {
		t.Errorf("PAR holds %d key records, want 2 (the PCoA's and the MN ID index)", ps.KeysHeld)
	}

	// Back on the PAR's link while it forwards: the FBU with Lifetime 0
	// carries the refreshed key's SPI and is accepted.
	accepted := par.metric("fhkey_ar_fbu_accepted_total")
	if err := b.tb.Attach(ctx, testbed.PAR); err != nil {
		t.Fatal(err)
	}
	waitStatus("back on the PAR's link", func() bool { return ms.Handovers == 2 })
	if h := ms.Handover; h.ForwardingEnded != parAddr.String() {
		t.Fatalf("MN handover %+v: want forwarding ended at the PAR with the refreshed key (SPI %d)", h, refreshed)
	}
	if v := par.metric("fhkey_ar_fbu_accepted_total"); v <= accepted {
		t.Fatalf("PAR accepted %v FBUs, %v before the return", v, accepted)
	}
	for _, p := range []*process{mobile, par, hksd} {
		p.stop()
	}
}

// aaaDaemons opens the Mobility Header sockets that see the HKReqs at the
// PAR and the HKResps at the MN, then starts the PAR's and the MN's
// daemons on files.
func aaaDaemons(t *testing.T, b *bed, files scenario.AAADaemonFiles) (sniff, mnMH *netio.MHConn, par, mobile *process) {
	t.Helper()
	sniff = listenMH(t, b.tb, testbed.PAR, mh.DefaultHandoverKeyRequestType)
	mnMH = listenMH(t, b.tb, testbed.MN, mh.DefaultHandoverKeyResponseType)
	par = startDaemon(t, b.tb, testbed.PAR, "PAR", "ar", "-c", files.PAR)
	mobile = startDaemon(t, b.tb, testbed.MN, "MN", "mn", "-c", files.MN)
	return sniff, mnMH, par, mobile
}

// waitMN polls the MN daemon's /status into ms until cond holds (15 s).
func waitMN(t *testing.T, mobile *process, ms *aaaMNStatus, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, what, func() (bool, string) {
		mobile.status(ms)
		return cond(), fmt.Sprintf("MN status %+v, handover %+v", *ms, ms.Handover)
	})
}

// listenMH opens a Mobility Header socket for the given types in node's
// namespace, closed when the test ends.
func listenMH(t *testing.T, tb *testbed.Testbed, node testbed.Node, types ...uint8) *netio.MHConn {
	t.Helper()
	var c *netio.MHConn
	if err := tb.Do(node, func() error {
		var err error
		c, err = netio.ListenMH(netio.MHConfig{Types: types})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stopAtCleanup fails the test if the server did not start (err), and
// otherwise stops it when the test ends, printing the end of its output if
// the test failed.
func stopAtCleanup(t *testing.T, name string, s *peer.Server, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tailOf(s.Output()))
		}
	})
}

// tailOf is the end of a long output, for failure messages.
func tailOf(s string) string {
	if len(s) > 8000 {
		return "…" + s[len(s)-8000:]
	}
	return s
}
