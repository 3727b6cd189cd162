package ar

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// TestAAAKeyAndFBU: the MN obtains a key from the PAR through the HKS; both
// hold the same key under the same SPI (≥ hokey.FirstAAASPI); an FBU
// authenticated with it (BADF SPI = that SPI) is accepted and its FBack
// verifies at the MN.
func TestAAAKeyAndFBU(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	ev := w.mustKey(w.pcoa)
	if ev.Record.SPI < hokey.FirstAAASPI || ev.Record.AT != uint8(hokey.HMACSHA1Trunc96) {
		t.Fatalf("MN record %v", ev.Record)
	}
	mnRec, err := w.mn.Store().Get(w.parAdr, w.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	arRec, err := w.arRecord(w.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	if arRec.SPI != mnRec.SPI || !arRec.KeyEqual(mnRec.KeyBytes()) || !arRec.Expires.Equal(mnRec.Expires) {
		t.Fatalf("AR %v and MN %v disagree", arRec, mnRec)
	}
	if req := w.hks.lastReq.Load(); req.NAI != testNAI || req.AR != w.parAdr {
		t.Errorf("KeyRequest NAI %q AR %v", req.NAI, req.AR)
	}
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
	if s := w.par.Stats(); s.FBUAccepted != 1 || s.HKRespSent != 1 || s.AAAKeysStored != 1 {
		t.Errorf("stats %s", w.aaaStats())
	}
	// A BADF naming SPI 0 (or any other SPI) does not verify with the key.
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa, w.ncoa, false)
	if err != nil {
		t.Fatal(err)
	}
	cov, err := mh.CoveredByBADF(fbu.Payload, w.ncoa, w.parAdr)
	if err != nil {
		t.Fatal(err)
	}
	spiAt := bytes.Index(fbu.Payload, []byte{byte(mnRec.SPI >> 24), byte(mnRec.SPI >> 16), byte(mnRec.SPI >> 8), byte(mnRec.SPI)})
	if spiAt < 0 || cov.SPI != mnRec.SPI {
		t.Fatalf("FBU BADF SPI %d, want %d", cov.SPI, mnRec.SPI)
	}
	clear(fbu.Payload[spiAt : spiAt+4])
	if err := mh.SetChecksum(fbu.Payload, w.pcoa, w.parAdr); err != nil {
		t.Fatal(err)
	}
	before := w.par.Stats().FBUBadAuth
	w.par.HandlePacket(context.Background(), fbu)
	if w.par.Stats().FBUBadAuth != before+1 {
		t.Errorf("FBU with BADF SPI 0 not refused: %s", w.aaaStats())
	}
}

// TestAAAForgedMAC: an HKReq whose MN-HKS MAC does not verify (wrong HMK)
// is discarded by the HKS: no answer, nothing stored at the AR, no state.
func TestAAAForgedMAC(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, &mn.AAAConfig{HMK: testHMK(1), Tries: 1, Timeout: 300 * time.Millisecond})
	if _, err := w.requestKey(w.pcoa, w.pcoa); !errors.Is(err, mn.ErrNoAnswer) {
		t.Fatalf("err %v, want mn.ErrNoAnswer", err)
	}
	w.waitIdle()
	s := w.par.Stats()
	if s.HKSDiscarded != 1 || s.HKRespSent+s.HKRespStatus != 0 || w.store.Len() != 0 {
		t.Errorf("stats %s, %d records", w.aaaStats(), w.store.Len())
	}
	if p, b := w.par.Exchanges(); p+b != 0 {
		t.Errorf("state left: %d pending, %d buffered", p, b)
	}
}

// keyRequestPacket builds an HKReq from the MN and registers it as the
// outstanding one (driven without RequestHandoverKey).
func (w *aaaWorld) keyRequestPacket(careOf, src netip.Addr, verify bool) netio.Packet {
	w.t.Helper()
	p, err := w.mn.HandoverKeyRequest(w.parAdr, careOf, src, verify)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// readAnswer waits for one packet at the MN.
func (w *aaaWorld) readAnswer() (netio.Packet, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := w.mnConn.ReadPacket(ctx)
	return p, err == nil
}

// TestAAARetransmissionAndReplay: a retransmitted HKReq (same octets) is
// dropped while the HKS has not answered, answered from the buffer once it
// has (at most once per RetransInterval), and after the buffer expired the
// same HKReq is a replay: its Timestamp is not newer than the key's, so it
// is discarded and the key stays.
func TestAAARetransmissionAndReplay(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	block := make(chan struct{})
	w.hks.mu.Lock()
	w.hks.block = block
	w.hks.mu.Unlock()
	ctx := context.Background()
	p := w.keyRequestPacket(w.pcoa, w.pcoa, false)
	if out := w.par.HandlePacket(ctx, p); out != nil {
		t.Fatal("answered at once")
	}
	testenv.Eventually(t, 5*time.Second, "HKS called", func() (bool, string) { return w.hks.calls.Load() == 1, w.aaaStats() })
	if out := w.par.HandlePacket(ctx, p); out != nil || w.par.Stats().HKReqDuplicate != 1 {
		t.Fatalf("retransmission while pending: %d answers, %s", len(out), w.aaaStats())
	}
	close(block)
	answer, ok := w.readAnswer() // Serve sends the asynchronous answer
	if !ok {
		t.Fatalf("no answer: %s", w.aaaStats())
	}
	ev, err := w.mn.HandlePacket(ctx, answer)
	if err != nil || ev.Kind != mn.HandoverKeyEstablished {
		t.Fatalf("MN: %v %v", ev.Kind, err)
	}
	key, _ := w.arRecord(w.pcoa)
	if out := w.par.HandlePacket(ctx, p); out != nil || w.par.Stats().HKRespRateLimited != 1 {
		t.Fatalf("retransmission within RetransInterval answered: %s", w.aaaStats())
	}
	w.clock.Advance(DefaultRetransInterval)
	out := w.par.HandlePacket(ctx, p)
	if len(out) != 1 || !bytes.Equal(out[0].Payload, answer.Payload) || out[0].Dst != w.pcoa {
		t.Fatalf("retransmission not answered from the buffer: %s", w.aaaStats())
	}
	w.clock.Advance(HKeyReqTimeout)
	if out := w.par.HandlePacket(ctx, p); out != nil || w.par.Stats().HKReqReplayed != 1 {
		t.Fatalf("replay after the buffer: %d answers, %s", len(out), w.aaaStats())
	}
	if w.hks.calls.Load() != 1 {
		t.Errorf("HKS called %d times", w.hks.calls.Load())
	}
	if now, _ := w.arRecord(w.pcoa); now.SPI != key.SPI || !now.KeyEqual(key.KeyBytes()) {
		t.Error("the replay changed the key")
	}
}

// TestAAAHKSDown: without an answer from the HKS the AR drops the request's
// state and answers nothing; once the HKS is back, a new request works.
func TestAAAHKSDown(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, &mn.AAAConfig{Tries: 2, Timeout: 300 * time.Millisecond})
	w.hks.down.Store(true)
	if _, err := w.requestKey(w.pcoa, w.pcoa); !errors.Is(err, mn.ErrNoAnswer) {
		t.Fatalf("err %v, want mn.ErrNoAnswer", err)
	}
	w.waitIdle()
	if s := w.par.Stats(); s.HKSNoAnswer == 0 || s.HKRespSent+s.HKRespStatus+s.HKRespResent != 0 || w.store.Len() != 0 {
		t.Fatalf("stats %s, %d records", w.aaaStats(), w.store.Len())
	}
	if p, b := w.par.Exchanges(); p+b != 0 {
		t.Fatalf("state left: %d pending, %d buffered", p, b)
	}
	w.hks.down.Store(false)
	w.mustKey(w.pcoa)
}

// TestAAAHKSTimeout: a KeyServer that never answers is cut at HKSTimeout:
// the state goes, nothing is sent.
func TestAAAHKSTimeout(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{HKSTimeout: 50 * time.Millisecond}, nil)
	w.hks.mu.Lock()
	w.hks.block = make(chan struct{})
	w.hks.mu.Unlock()
	w.par.HandlePacket(context.Background(), w.keyRequestPacket(w.pcoa, w.pcoa, false))
	testenv.Eventually(t, 5*time.Second, "request dropped at HKSTimeout", func() (bool, string) {
		p, b := w.par.Exchanges()
		return p+b == 0 && w.par.Stats().HKSNoAnswer == 1, w.aaaStats()
	})
	if len(w.par.Answers()) != 0 {
		t.Error("an answer was queued")
	}
}

// TestAAAErrorStatuses runs every error path of §6.2.2.1 end to end.
func TestAAAErrorStatuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *fakeHKS)
		mcfg  mn.AAAConfig
		// want: nil error and this key AT; or an error matching wantErr.
		wantAT     hokey.AlgorithmType
		wantErr    error
		wantStatus uint16
	}{
		{name: "INVALID_TIMESTAMP corrected", setup: func(h *fakeHKS) { h.skew = time.Minute }, wantAT: hokey.HMACSHA1Trunc96},
		{name: "INVALID_TIMESTAMP, HKS behind", setup: func(h *fakeHKS) { h.skew = -time.Hour }, wantAT: hokey.HMACSHA1Trunc96},
		{name: "TIMESTAMP_REQD", setup: func(h *fakeHKS) { h.force = mh.HandoverKeyStatusTimestampRequired }, wantAT: hokey.HMACSHA1Trunc96},
		{name: "INVALID_PRF_ALG rederived", setup: func(h *fakeHKS) { h.prf = hokey.PRFHMACSHA256 },
			mcfg: mn.AAAConfig{PRFs: []hokey.PRF{hokey.PRFHMACSHA256}}, wantAT: hokey.HMACSHA1Trunc96},
		{name: "INVALID_PRF_ALG not configured", setup: func(h *fakeHKS) { h.prf = hokey.PRFHMACSHA256 },
			wantErr: mn.ErrKeyRefused, wantStatus: mh.HandoverKeyStatusInvalidPRFAlgorithm},
		{name: "INVALID_MAC_ALG switched", setup: func(h *fakeHKS) { h.mac = hokey.MACHMACSHA256 },
			mcfg: mn.AAAConfig{MACs: []hokey.MACAlgorithm{hokey.MACHMACSHA256}}, wantAT: hokey.HMACSHA256Trunc128},
		{name: "INVALID_MAC_ALG not configured", setup: func(h *fakeHKS) { h.mac = hokey.MACHMACSHA256 },
			wantErr: mn.ErrKeyRefused, wantStatus: mh.HandoverKeyStatusInvalidMACAlgorithm},
		{name: "ADMINISTRATIVELY_PROHIBITED", setup: func(h *fakeHKS) { h.admin[testNAI] = true },
			wantErr: mn.ErrProhibited, wantStatus: mh.HandoverKeyStatusAdministrativelyProhibited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mcfg := tc.mcfg
			w := newAAAWorld(t, AAAConfig{}, &mcfg)
			w.hks.mu.Lock()
			tc.setup(w.hks)
			w.hks.mu.Unlock()
			ev, err := w.requestKey(w.pcoa, w.pcoa)
			if tc.wantErr != nil {
				var ke *mn.KeyRefusedError
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &ke) || ke.Status != tc.wantStatus || !ke.Authenticated {
					t.Fatalf("err %v, want %v with status %d", err, tc.wantErr, tc.wantStatus)
				}
				if w.store.Len() != 0 || w.par.Stats().HKSRefused == 0 {
					t.Errorf("stats %s, %d records", w.aaaStats(), w.store.Len())
				}
				if tc.wantErr == mn.ErrProhibited {
					if _, err := w.mn.HandoverKeyRequest(w.parAdr, w.pcoa, w.pcoa, false); !errors.Is(err, mn.ErrProhibited) {
						t.Errorf("HKReq after ADMINISTRATIVELY_PROHIBITED: %v", err)
					}
				}
				return
			}
			if err != nil || ev.Kind != mn.HandoverKeyEstablished || ev.Record.AT != uint8(tc.wantAT) {
				t.Fatalf("event %v %v, err %v; stats %s", ev.Kind, ev.Record, err, w.aaaStats())
			}
			if w.par.Stats().HKSRefused != 1 {
				t.Errorf("stats %s", w.aaaStats())
			}
			if err := w.fastHandover(w.pcoa); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAAACoAAuthFailed: a Key Care-of Address that is not the source, or an
// off-link source for an MN ID without a key, is refused with an
// (unauthenticated) CoA_AUTH_FAILED before the HKS is contacted; the MN
// does not act on it before its retransmissions are exhausted.
func TestAAACoAAuthFailed(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, &mn.AAAConfig{Tries: 1, Timeout: 300 * time.Millisecond})
	other := netip.MustParseAddr("2001:db8:1::4242")
	for _, tc := range []struct{ careOf, src netip.Addr }{
		{other, w.pcoa},  // Key CoA :: from an on-link source
		{w.pcoa, w.ncoa}, // indirect, but no key bound to the MN ID
	} {
		_, err := w.requestKey(tc.careOf, tc.src)
		var ke *mn.KeyRefusedError
		if !errors.Is(err, mn.ErrNoAnswer) || !errors.As(err, &ke) || ke.Status != mh.HandoverKeyStatusCoAAuthFailed || ke.Authenticated {
			t.Fatalf("%v from %v: err %v", tc.careOf, tc.src, err)
		}
	}
	if s := w.par.Stats(); s.HKReqCoAFailed != 2 || w.hks.calls.Load() != 0 || w.store.Len() != 0 {
		t.Errorf("stats %s", w.aaaStats())
	}
}

// TestAAAVerifyFlag is §6.2.3 and §6.3.1: the MN back at a router whose
// key it holds verifies it with the V flag (no HKS round trip), from a new
// CoA too, which the key is then bound to; when the AR lost the key the
// same request goes to the HKS; without an MN-HKS MAC it is answered
// HK_VERIFY_FAILED; a wrong MN-AR MAC is discarded.
func TestAAAVerifyFlag(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	first := w.mustKey(w.pcoa)
	ev, err := w.requestKey(w.pcoa, w.pcoa)
	if err != nil || ev.Kind != mn.HandoverKeyVerified || ev.Record.SPI != first.Record.SPI {
		t.Fatalf("V: %v %v, err %v; %s", ev.Kind, ev.Record, err, w.aaaStats())
	}
	if w.hks.calls.Load() != 1 || w.par.Stats().HKRespVerified != 1 {
		t.Fatalf("stats %s", w.aaaStats())
	}
	// A new CoA on the same link: the key follows it.
	coa2 := netip.MustParseAddr("2001:db8:1::77")
	w.mnConn.SetAddrs([]netip.Addr{coa2, w.ncoa})
	w.clock.Advance(time.Second)
	ev, err = w.requestKey(coa2, coa2)
	if err != nil || ev.Kind != mn.HandoverKeyVerified || ev.Record.MN != coa2 {
		t.Fatalf("V from a new CoA: %v %v, err %v; %s", ev.Kind, ev.Record, err, w.aaaStats())
	}
	if _, err := w.arRecord(w.pcoa); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("the old CoA still has the key: %v", err)
	}
	if rec, err := w.arRecord(coa2); err != nil || rec.SPI != first.Record.SPI {
		t.Fatalf("new CoA record %v, %v", rec, err)
	}
	if len(mnAAAKeys(w.mn)) != 1 {
		t.Errorf("MN keys %v", mnAAAKeys(w.mn))
	}
	if err := w.fastHandover(coa2); err != nil {
		t.Fatal(err)
	}
	// A wrong MN-AR MAC: silently discarded.
	ctx := context.Background()
	p := w.keyRequestPacket(coa2, coa2, true)
	p.Payload[len(p.Payload)-5] ^= 1 // inside the MN-AR MAC's AUTH Value (last option, then 4 octets of PadN at most)
	mh.SetChecksum(p.Payload, coa2, w.parAdr)
	before := w.par.Stats()
	if out := w.par.HandlePacket(ctx, p); out != nil {
		t.Fatalf("wrong MN-AR MAC answered; %s", w.aaaStats())
	}
	if s := w.par.Stats(); s.HKReqBadMAC+s.HKReqMalformed == before.HKReqBadMAC+before.HKReqMalformed {
		t.Errorf("not counted: %s", w.aaaStats())
	}
	// The AR lost the key: the V request carries an MN-HKS MAC too, so it
	// goes to the HKS and a new key comes back.
	for _, a := range []netip.Addr{coa2, naiIndex([]byte(testNAI))} {
		if err := w.store.Delete(w.parAdr, a); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(time.Second)
	ev, err = w.requestKey(coa2, coa2)
	if err != nil || ev.Kind != mn.HandoverKeyEstablished {
		t.Fatalf("V to a router without the key: %v, err %v; %s", ev.Kind, err, w.aaaStats())
	}
	if w.par.Stats().HKReqVerifyRelayed != 1 {
		t.Errorf("stats %s", w.aaaStats())
	}
}

// TestAAAVerifyFailed: a V request without an MN-HKS MAC to a router
// without the key is answered HK_VERIFY_FAILED (139, docs/codepoints.md).
func TestAAAVerifyFailed(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	hk, err := hokey.NewHandoverKey(hokey.MACHMACSHA1, bytes.Repeat([]byte{7}, 20))
	if err != nil {
		t.Fatal(err)
	}
	req := mh.HandoverKeyRequest{MessageID: 9, Verify: true, PRF: 1, KeyCareOfAddress: w.pcoa, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(testNAI)},
		mh.Timestamp{Value: mh.NTPTime(w.clock.Now())},
	}}
	b, err := hokey.SignMACs(mh.Codepoints{}, req, w.pcoa, w.parAdr, &hk)
	if err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(context.Background(), netio.Packet{Src: w.pcoa, Dst: w.parAdr, NextHeader: inet.ProtocolMobility, HopLimit: 64, Payload: b})
	if len(out) != 1 {
		t.Fatalf("%d answers; %s", len(out), w.aaaStats())
	}
	m, err := mh.ParseMessage(out[0].Payload)
	if resp, ok := m.(mh.HandoverKeyResponse); err != nil || !ok || resp.Status != HKStatusVerifyFailed || resp.MessageID != 9 {
		t.Fatalf("answer %#v, %v", m, err)
	}
	if mh.VerifyChecksum(out[0].Payload, w.parAdr, w.pcoa) != nil || w.par.Stats().HKReqVerifyNoKey != 1 {
		t.Errorf("checksum or stats %s", w.aaaStats())
	}
}

// TestAAAIndirect is §6.5 as the MN daemon runs it: the MN got its key on
// the PAR's link and moved (FBU from the NCoA accepted, the PAR forwards);
// on the NAR's link it refreshes the key it still holds, without the V
// flag, from the NCoA with Key Care of Address ::. The HKReq goes to the
// HKS, the HKResp back to the NCoA; the new key (new SPI) is bound to the
// PCoA at the PAR (CoA record and MN ID index) and at the MN, so that the
// next FBU from the NCoA with the PCoA in its Home Address option is
// accepted with it, and the old key is gone at both.
func TestAAAIndirect(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	var hkresps []netio.Packet
	var mu sync.Mutex
	w.network.AddTap(func(p netio.Packet) {
		if len(p.Payload) > 2 && p.Payload[2] == mh.DefaultHandoverKeyResponseType {
			mu.Lock()
			hkresps = append(hkresps, p)
			mu.Unlock()
		}
	})
	first := w.mustKey(w.pcoa)
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := w.mn.RequestNewHandoverKey(ctx, w.mnConn, w.parAdr, w.pcoa, w.ncoa)
	if err != nil || ev.Kind != mn.HandoverKeyEstablished || ev.Record.MN != w.pcoa || ev.Record.SPI == first.Record.SPI {
		t.Fatalf("indirect: %v %v, err %v; %s", ev.Kind, ev.Record, err, w.aaaStats())
	}
	req := w.hks.lastReq.Load()
	m, err := mh.ParseMessage(req.HKReq)
	if hk, ok := m.(mh.HandoverKeyRequest); err != nil || !ok || hk.Verify || !hk.KeyCareOfAddress.IsUnspecified() {
		t.Fatalf("relayed HKReq %#v, %v: want V clear, Key Care of Address ::", m, err)
	}
	mu.Lock()
	last := hkresps[len(hkresps)-1]
	mu.Unlock()
	if last.Src != w.parAdr || last.Dst != w.ncoa || mh.VerifyChecksum(last.Payload, w.parAdr, w.ncoa) != nil {
		t.Fatalf("HKResp %v -> %v: want the PAR to the NCoA, checksummed so", last.Src, last.Dst)
	}
	arRec, err := w.arRecord(w.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := w.arRecord(naiIndex([]byte(testNAI)))
	if err != nil {
		t.Fatal(err)
	}
	mnRec, err := w.mn.Store().Get(w.parAdr, w.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	if arRec.SPI != ev.Record.SPI || idx.SPI != ev.Record.SPI || mnRec.SPI != ev.Record.SPI || !arRec.KeyEqual(mnRec.KeyBytes()) {
		t.Fatalf("AR CoA record SPI %d, index SPI %d, MN SPI %d (want %d), same key %v",
			arRec.SPI, idx.SPI, mnRec.SPI, ev.Record.SPI, arRec.KeyEqual(mnRec.KeyBytes()))
	}
	if _, err := w.arRecord(w.ncoa); !errors.Is(err, keystore.ErrNotFound) || len(mnAAAKeys(w.mn)) != 1 || w.store.Len() != 2 {
		t.Fatalf("NCoA record at the AR: %v; MN keys %v; AR records %d", err, mnAAAKeys(w.mn), w.store.Len())
	}
	before := w.par.Stats().FBUAccepted
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
	if w.par.Stats().FBUAccepted != before+1 {
		t.Errorf("FBU with the refreshed key: %s", w.aaaStats())
	}
}

// TestAAAIndirectKeyCoA is §6.5's check of a non-NULL Care-of Address: "the
// pAR MUST check if the CoA provided in the HKReq is the same address that
// is tied to the NAI ... If that is not the case the pAR MUST reject the
// HKReq". From the NAR's link, with the MN ID's key bound to the PCoA: a
// Key Care of Address that is another address (the NCoA, the source
// itself, included) is refused CoA_AUTH_FAILED before the HKS is asked and
// the key stays; the PCoA is accepted and the new key bound to it.
func TestAAAIndirectKeyCoA(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	first := w.mustKey(w.pcoa)
	ctx := context.Background()
	for i, kcoa := range []netip.Addr{w.ncoa, netip.MustParseAddr("2001:db8:1::4242")} {
		w.clock.Advance(time.Second)
		out := w.par.HandlePacket(ctx, w.indirectRequest(uint8(100+i), kcoa))
		if len(out) != 1 || out[0].Dst != w.ncoa {
			t.Fatalf("Key CoA %v: %d answers; %s", kcoa, len(out), w.aaaStats())
		}
		m, err := mh.ParseMessage(out[0].Payload)
		if resp, ok := m.(mh.HandoverKeyResponse); err != nil || !ok || resp.Status != mh.HandoverKeyStatusCoAAuthFailed {
			t.Fatalf("Key CoA %v: answer %#v, %v", kcoa, m, err)
		}
	}
	if rec, err := w.arRecord(w.pcoa); err != nil || rec.SPI != first.Record.SPI || w.hks.calls.Load() != 1 || w.par.Stats().HKReqCoAFailed != 2 {
		t.Fatalf("after the refusals: record %v, %v; %s", rec, err, w.aaaStats())
	}
	w.clock.Advance(time.Second)
	if out := w.par.HandlePacket(ctx, w.indirectRequest(102, w.pcoa)); out != nil {
		t.Fatalf("Key CoA = the PCoA answered at once: %v", out)
	}
	resp, ok := w.readAnswer()
	if !ok || resp.Dst != w.ncoa {
		t.Fatalf("no HKResp to the NCoA; %s", w.aaaStats())
	}
	m, err := mh.ParseMessage(resp.Payload)
	hk, isResp := m.(mh.HandoverKeyResponse)
	if err != nil || !isResp || hk.Status != mh.HandoverKeyStatusSuccess || hk.SPI == first.Record.SPI {
		t.Fatalf("answer %#v, %v", m, err)
	}
	if rec, err := w.arRecord(w.pcoa); err != nil || rec.SPI != hk.SPI {
		t.Fatalf("PCoA record %v, %v, want SPI %d", rec, err, hk.SPI)
	}
}

// TestAAAForwardingTimedOutUnties: when forwarding for the PCoA times out
// the PAR discards the key of the PCoA (RFC 5269 §3.6) and the PCoA is no
// longer the CoA tied to the MN ID (§6.3: "the AR MUST disassociate the key
// and the corresponding CoA"), across a restart too: an indirect HKReq
// (§6.5, Key CoA ::) or an off-link V request then has no CoA to bind a key
// to and is refused CoA_AUTH_FAILED, so no key comes back for the PCoA and
// an FBU naming it finds none. On the PAR's link the MN gets a key again.
func TestAAAForwardingTimedOutUnties(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, &mn.AAAConfig{Tries: 1, Timeout: 300 * time.Millisecond})
	path := filepath.Join(t.TempDir(), "keys.db")
	db := w.boltPAR(path)
	first := w.mustKey(w.pcoa)
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
	if !w.par.ForwardingTimedOut(w.pcoa) {
		t.Fatal("no key discarded for the PCoA")
	}
	refused := func(what string, verify bool) {
		t.Helper()
		w.clock.Advance(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		if verify {
			_, err = w.mn.RequestHandoverKey(ctx, w.mnConn, w.parAdr, w.pcoa, w.ncoa)
		} else {
			_, err = w.mn.RequestNewHandoverKey(ctx, w.mnConn, w.parAdr, w.pcoa, w.ncoa)
		}
		var ke *mn.KeyRefusedError
		if !errors.As(err, &ke) || ke.Status != mh.HandoverKeyStatusCoAAuthFailed {
			t.Fatalf("%s: %v, want CoA_AUTH_FAILED; %s", what, err, w.aaaStats())
		}
		if _, err := w.arRecord(w.pcoa); !errors.Is(err, keystore.ErrNotFound) || w.hks.calls.Load() != 1 {
			t.Fatalf("%s: PCoA record %v, HKS calls %d", what, err, w.hks.calls.Load())
		}
	}
	refused("indirect", false)
	refused("indirect V", true)
	w.stopPAR()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = w.boltPAR(path)
	defer db.Close()
	w.par.aaa.mu.Lock()
	e, reserved := w.par.aaa.spis[first.Record.SPI]
	w.par.aaa.mu.Unlock()
	if !reserved || e.coa.IsValid() {
		t.Fatalf("restarted: SPI %d reserved %v, CoA %v: want reserved, tied to none", first.Record.SPI, reserved, e.coa)
	}
	refused("indirect after a restart", false)
	w.clock.Advance(time.Second)
	ev, err := w.requestKey(w.pcoa, w.pcoa)
	if err != nil || ev.Record.MN != w.pcoa {
		t.Fatalf("on the PAR's link: %v %v; %s", ev.Record, err, w.aaaStats())
	}
	if rec, err := w.arRecord(w.pcoa); err != nil || rec.SPI != ev.Record.SPI {
		t.Fatalf("PCoA record %v, %v", rec, err)
	}
}

// indirectRequest is an HKReq of the MN's subscription from the NCoA with
// Key Care of Address kcoa, which the role never sends (it sends :: from
// another link, §6.5 "SHOULD be set to NULL"), and a valid MN-HKS MAC.
func (w *aaaWorld) indirectRequest(id uint8, kcoa netip.Addr) netio.Packet {
	w.t.Helper()
	hik, err := hokey.DeriveHIK(hokey.PRFHMACSHA1, testHMK(0), id, hokey.MACHMACSHA1)
	if err != nil {
		w.t.Fatal(err)
	}
	req := mh.HandoverKeyRequest{MessageID: id, PRF: uint8(hokey.PRFHMACSHA1), KeyCareOfAddress: kcoa, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(testNAI)},
		mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: bytes.Repeat([]byte{id}, 16)},
		mh.Timestamp{Value: mh.NTPTime(w.clock.Now())},
	}}
	b, err := hokey.SignMACs(mh.Codepoints{}, req, w.ncoa, w.parAdr, &hik)
	if err != nil {
		w.t.Fatal(err)
	}
	return netio.Packet{Src: w.ncoa, Dst: w.parAdr, NextHeader: inet.ProtocolMobility, HopLimit: 64, Payload: b}
}

// floodRequest is an HKReq of an unknown subscriber: well-formed, with an
// MN-HKS MAC the HKS will not verify.
func floodRequest(t testing.TB, src, ar netip.Addr, nai string, id uint8) netio.Packet {
	hik, err := hokey.NewIntegrityKey(hokey.MACHMACSHA1, bytes.Repeat([]byte{1}, 20))
	if err != nil {
		t.Fatal(err)
	}
	req := mh.HandoverKeyRequest{MessageID: id, PRF: 1, KeyCareOfAddress: src, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(nai)},
		mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: []byte{1, 2, 3, 4}},
	}}
	b, err := hokey.SignMACs(mh.Codepoints{}, req, src, ar, &hik)
	if err != nil {
		t.Fatal(err)
	}
	return netio.Packet{Src: src, Dst: ar, NextHeader: inet.ProtocolMobility, HopLimit: 64, Payload: b}
}

// TestAAAPendingBound: a flood of HKReqs with distinct MN IDs and Message
// IDs holds at most MaxPending requests (and KeyServer calls) at a time;
// the rest is discarded and counted; the state goes when the HKS answers.
func TestAAAPendingBound(t *testing.T) {
	const max, flood = 8, 500
	w := newAAAWorld(t, AAAConfig{MaxPending: max}, nil)
	block := make(chan struct{})
	w.hks.mu.Lock()
	w.hks.block = block
	w.hks.mu.Unlock()
	ctx := context.Background()
	for i := range flood {
		src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
		w.par.HandlePacket(ctx, floodRequest(t, src, w.parAdr, "flood"+string(rune('a'+i%26))+"@x", uint8(i)))
	}
	testenv.Eventually(t, 5*time.Second, "MaxPending KeyServer calls", func() (bool, string) {
		return w.hks.calls.Load() == max, w.aaaStats()
	})
	if p, _ := w.par.Exchanges(); p != max || w.par.Stats().HKReqPendingFull != flood-max {
		t.Fatalf("pending %d; %s", p, w.aaaStats())
	}
	close(block)
	testenv.Eventually(t, 5*time.Second, "all state gone", func() (bool, string) {
		p, b := w.par.Exchanges()
		return p+b == 0 && w.par.Stats().HKSDiscarded == max, w.aaaStats()
	})
	if w.store.Len() != 0 {
		t.Errorf("%d records", w.store.Len())
	}
}

// TestAAARestartKeepsKey: with the bbolt store an AR restart keeps the key,
// its SPI and its MN ID index: the FBU is accepted and the V flag works.
func TestAAARestartKeepsKey(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	path := filepath.Join(t.TempDir(), "keys.db")
	db := w.boltPAR(path)
	first := w.mustKey(w.pcoa)
	w.stopPAR()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = w.boltPAR(path)
	defer db.Close()
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Second)
	ev, err := w.requestKey(w.pcoa, w.pcoa)
	if err != nil || ev.Kind != mn.HandoverKeyVerified || ev.Record.SPI != first.Record.SPI {
		t.Fatalf("V after restart: %v %v, err %v; %s", ev.Kind, ev.Record, err, w.aaaStats())
	}
	// The restarted AR knows the SPI is taken.
	w.par.aaa.mu.Lock()
	_, taken := w.par.aaa.spis[first.Record.SPI]
	w.par.aaa.mu.Unlock()
	if !taken {
		t.Error("SPI index not rebuilt")
	}
}

// TestAAAModeOff: without AAAConfig an HKReq is not handled (Other gets
// it) and Answers is nil.
func TestAAAModeOff(t *testing.T) {
	w := newWorld(t, 1024, &Limits{})
	if w.par.Answers() != nil {
		t.Fatal("Answers without AAA")
	}
	p := floodRequest(t, w.pcoa.Address, w.parAdr, testNAI, 1)
	if out := w.par.HandlePacket(context.Background(), p); out != nil || w.par.Stats().HKReqReceived != 0 {
		t.Fatal("HKReq handled without AAA")
	}
}

// TestAAAStatusesAreUnauthenticatedOnlyWhenNeeded guards the MN side of
// forged errors: an unauthenticated ADMINISTRATIVELY_PROHIBITED changes
// nothing at the MN.
func TestAAAForgedStatusIgnored(t *testing.T) {
	w := newAAAWorld(t, AAAConfig{}, nil)
	p := w.keyRequestPacket(w.pcoa, w.pcoa, false)
	b, err := mh.MarshalMessage(mh.HandoverKeyResponse{MessageID: p.Payload[6], PRF: 1, Status: mh.HandoverKeyStatusAdministrativelyProhibited})
	if err != nil {
		t.Fatal(err)
	}
	mh.SetChecksum(b, w.parAdr, w.pcoa)
	ev, err := w.mn.HandlePacket(context.Background(), netio.Packet{Src: w.parAdr, Dst: w.pcoa, NextHeader: inet.ProtocolMobility, Payload: b})
	if err != nil || ev.Kind != mn.HandoverKeyStatus || ev.KeyResponse.Authenticated {
		t.Fatalf("event %v %+v, err %v", ev.Kind, ev.KeyResponse, err)
	}
	if _, err := w.mn.HandoverKeyRequest(w.parAdr, w.pcoa, w.pcoa, false); err != nil {
		t.Fatalf("a forged ADMINISTRATIVELY_PROHIBITED stopped the MN: %v", err)
	}
}

// TestAAAOnlyRouter: without SEND credentials the router needs AAA; it
// then serves HKReqs and FBUs and leaves RtSolPrs to Other.
func TestAAAOnlyRouter(t *testing.T) {
	if _, err := New(Config{Address: netip.MustParseAddr("2001:db8:1::1"), Store: keystore.NewMemory()}); err == nil {
		t.Fatal("New without SEND credentials nor AAA succeeded")
	}
	w := newAAAWorld(t, AAAConfig{}, nil)
	w.stopPAR()
	w.noSEND = true
	w.startPAR(w.store)
	var other atomic.Int64
	w.par.cfg.Other = func(context.Context, netio.Packet) { other.Add(1) }
	rtsolpr := netio.Packet{Src: w.pcoa, Dst: w.parAdr, HopLimit: 255, NextHeader: inet.ProtocolICMPv6,
		Payload: []byte{154, 0, 0, 0, 2, 0, 0, 1}}
	if out := w.par.HandlePacket(context.Background(), rtsolpr); len(out) != 0 || other.Load() != 1 || w.par.Stats().RtSolPrReceived != 0 {
		t.Fatalf("RtSolPr at an AAA-only router: %d answers, %d to Other, stats %+v", len(out), other.Load(), w.par.Stats())
	}
	w.mustKey(w.pcoa)
	if err := w.fastHandover(w.pcoa); err != nil {
		t.Fatal(err)
	}
}
