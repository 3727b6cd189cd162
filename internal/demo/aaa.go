package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// AAAOutcome is the machine-readable outcome of the shared-key
// walk-through (fhkey demo --mode aaa --json).
type AAAOutcome struct {
	// KeyProvisioned: the MN and the PAR hold the same HK under the same
	// SPI (≥ hokey.FirstAAASPI) for the PCoA.
	KeyProvisioned bool `json:"key_provisioned"`
	// FBUAccepted: the FBU authenticated with the HK was accepted and the
	// PCoA bound to the NCoA.
	FBUAccepted bool `json:"fbu_accepted"`
	// ForgedRejected: both forgeries failed (the two fields below).
	ForgedRejected bool `json:"forged_rejected"`
	// ForgedFBURejected: the FBU with the key's SPI and a guessed key was
	// refused and the binding did not change.
	ForgedFBURejected bool `json:"forged_fbu_rejected"`
	// ForgedHKReqDropped: the HKReq with a wrong HMK was discarded by the
	// HKS, and the PAR answered nothing and stored nothing.
	ForgedHKReqDropped bool `json:"forged_hkreq_dropped"`
}

// AAASummary is the outcome of RunAAA (--json).
type AAASummary struct {
	OK            bool              `json:"ok"`
	Mode          string            `json:"mode"`
	Outcome       AAAOutcome        `json:"outcome"`
	Steps         []Step            `json:"steps"`
	Addresses     map[string]string `json:"addresses"`
	Counters      map[string]uint64 `json:"counters"`
	Pcap          string            `json:"pcap,omitempty"`
	Packets       int               `json:"packets"`
	RADIUSPackets int               `json:"radius_packets"`
	CacheDir      string            `json:"cache_dir"`
	Error         string            `json:"error,omitempty"`
}

// RunAAA plays the shared-key walk-through (draft-vidya-mipshop-handover-
// keys-aaa-04, docs/aaa.md "The demo"): the MN gets an HK through the PAR
// from an HKS reached over RADIUS on loopback UDP, authenticates its FBU
// with it; an FBU and an HKReq forged without the keys fail. at selects
// the algorithms: the MAC of the same hash (hokey.MACAlgorithmOf) and the
// PRF of that hash. The PAR's CGA and router key come from cacheDir (the
// router role needs them; the exchange does not use SEND). An error is a
// failure to run at all; protocol failures show in the outcome
// (FinishAAA).
func (d *Demo) RunAAA(ctx context.Context, cacheDir string, at hokey.AlgorithmType) error {
	d.sum.CacheDir = cacheDir
	d.width = len("Access-Request")
	if d.out != nil {
		fmt.Fprintf(d.out, "fhkey demo --mode aaa: draft-vidya-mipshop-handover-keys-aaa-04 handover keys from an HKS over RADIUS,\nRFC 5568 fast handover (in-memory network, the HKS on loopback UDP)\n\n")
	}
	mac, err := hokey.MACAlgorithmOf(at)
	if err != nil {
		return err
	}
	prf := hokey.PRFHMACSHA1
	if mac == hokey.MACHMACSHA256 {
		prf = hokey.PRFHMACSHA256
	}

	// Credentials and the HKS.
	creds, how, took, err := loadCredentials(ctx, cacheDir)
	if err != nil {
		return err
	}
	d.step("credentials", took, true, "the PAR's CGA and router key (the router role needs them; the exchange\nbelow does not use SEND): %s in %s", how, cacheDir)
	start := time.Now()
	hmk := make([]byte, hokey.MinHMKLen)
	defer clear(hmk)
	if _, err := rand.Read(hmk); err != nil {
		return err
	}
	m := newMarks()
	hs, err := d.startHKS(ctx, DemoNAI, hmk, m)
	if err != nil {
		return err
	}
	defer hs.stop()
	d.sum.Addresses["HKS"] = hs.addr.String()
	d.step("HKS", time.Since(start), true, "subscriber %s, a %d-octet HMK drawn for this run (the MN holds a copy),\nmemory store; RADIUS server on %s (UDP), client 127.0.0.1/32, %d-octet secret",
		DemoNAI, len(hmk), hs.addr, len(hs.secret))
	d.counters = func() map[string]uint64 { return aaaCounters(hs, nil) }

	// The network, the PAR with its RADIUS client, the MN.
	network := netio.NewNetwork()
	network.AddTap(d.capture)
	network.AddTap(m.tap)
	parAdr, pcoa, ncoa := creds.PAR.CGA.Address, creds.MN.PCoA.Address, creds.MN.NCoA.Address
	fbuAttacker, hkreqAttacker := netip.MustParseAddr("2001:db8:2::bad"), netip.MustParseAddr("2001:db8:1::bad")
	for k, v := range map[string]netip.Addr{"PAR": parAdr, "MN PCoA": pcoa, "MN NCoA": ncoa, "attacker (FBU)": fbuAttacker, "attacker (HKReq)": hkreqAttacker} {
		d.sum.Addresses[k] = v.String()
	}
	parConn := network.Attach([]netip.Addr{parAdr}, nil, 64)
	mnConn := network.Attach([]netip.Addr{pcoa}, nil, 64)
	attConn := network.Attach([]netip.Addr{fbuAttacker, hkreqAttacker}, nil, 64)
	defer func() {
		for _, c := range []netio.Conn{parConn, mnConn, attConn} {
			c.Close()
		}
	}()
	client, err := radius.NewClient(radius.ClientConfig{NAS: radius.NAS{Address: parAdr},
		Realms: map[string][]radius.HomeServer{radius.Realm(DemoNAI): {{Addr: hs.addr, Secret: hs.secret}}}})
	if err != nil {
		return err
	}
	defer client.Close()
	parStore := keystore.NewMemory()
	defer func() { d.keys = storeRecords(parStore) }()
	var par *ar.Router
	parFwd := forward.NewMemory(parAdr, forward.Options{OnExpire: func(p netip.Addr) { par.ForwardingTimedOut(p) }})
	defer parFwd.Close()
	par, err = ar.New(ar.Config{Address: parAdr, Parameters: creds.PAR.CGA.Parameters, Signer: creds.PAR.Key,
		Store: parStore, Bindings: ar.NewForwarderBindings(parFwd, nil), Trace: d.trace, AAA: &ar.AAAConfig{KeyServer: client}})
	if err != nil {
		return err
	}
	d.counters = func() map[string]uint64 { return aaaCounters(hs, par) }
	srvCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = par.Serve(srvCtx, parConn, 1) })
	defer func() { stop(); wg.Wait() }()
	node, err := mn.New(mn.Config{AAA: &mn.AAAConfig{NAI: DemoNAI, HMK: append([]byte(nil), hmk...), PRF: prf, MAC: mac}, Trace: d.mnTrace})
	if err != nil {
		return err
	}

	// The exchange: HKReq, Access-Request, the HKS, Access-Accept, HKResp.
	m.take()
	start = time.Now()
	ev, err := node.RequestHandoverKey(ctx, mnConn, parAdr, pcoa, pcoa)
	end := time.Now()
	at2 := m.take()
	at2["start"], at2["end"] = start, end
	spi := d.keyExchangeSteps(at2, ev, err, hs, prf, mac)
	arRec, err1 := parStore.Get(parAdr, pcoa)
	mnRec, err2 := node.Store().Get(parAdr, pcoa)
	d.aaa.KeyProvisioned = err == nil && ev.Kind == mn.HandoverKeyEstablished && err1 == nil && err2 == nil &&
		mnRec.SPI == arRec.SPI && mnRec.SPI >= hokey.FirstAAASPI && mnRec.KeyEqual(arRec.KeyBytes())
	d.step("MN key", between(at2, "hkresp", "end"), d.aaa.KeyProvisioned,
		"MN: HK derived from its HMK (MN-Nonce, HKS-Nonce, NAI, AR ID), MN-AR MAC verified;\nstored under (PAR, PCoA), SPI %d, BADF %v, equal to the PAR's copy", mnRec.SPI, hokey.AlgorithmType(mnRec.AT))
	arRec.Zero()
	mnRec.Zero()
	if !d.aaa.KeyProvisioned {
		return nil
	}

	// The handover, then the forged FBU with the key's SPI.
	h := &handover{node: node, mnConn: mnConn, par: par, parAdr: parAdr, fwd: parFwd, pcoa: pcoa, ncoa: ncoa, spi: spi,
		moveTo: func() { mnConn.SetAddrs([]netip.Addr{ncoa}) }}
	d.aaa.FBUAccepted = d.fastHandover(ctx, h)
	forged, err := forgeFBU(parAdr, pcoa, fbuAttacker, at, spi)
	if err != nil {
		return err
	}
	if d.aaa.ForgedFBURejected, _, err = d.forgedFBU(ctx, h, attConn, forged, fmt.Sprintf("BADF with SPI %d and a guessed key", spi)); err != nil {
		return err
	}

	// The forged HKReq: the subscriber's NAI, a guessed HMK.
	if d.aaa.ForgedHKReqDropped, err = d.forgedHKReq(ctx, network, attConn, hkreqAttacker, par, hs, prf, mac); err != nil {
		return err
	}
	d.aaa.ForgedRejected = d.aaa.ForgedFBURejected && d.aaa.ForgedHKReqDropped
	return nil
}

// keyExchangeSteps prints the steps of the key exchange from the times at
// which its messages were seen and returns the SPI of the key.
func (d *Demo) keyExchangeSteps(at map[string]time.Time, ev mn.Event, err error, hs *hksSide, prf hokey.PRF, mac hokey.MACAlgorithm) uint32 {
	_, sawReq := at["hkreq"]
	d.step("HKReq", between(at, "start", "hkreq"), sawReq,
		"MN -> PAR from the PCoA: HKReq, PRF %v, MN ID %s, MN-Nonce, Timestamp,\nMN-HKS MAC (%v, key: the HIK) last (time: building; whole exchange %s)",
		prf, DemoNAI, mac, FormatDuration(between(at, "start", "end")))
	_, sawRADIUS := at["access-request"]
	d.step("Access-Request", between(at, "hkreq", "access-request"), sawRADIUS,
		"PAR: CoA on its link; PAR -> HKS %s: Access-Request, Message-Authenticator first,\nUser-Name, NAS-IPv6-Address, FHkey-HKReq (the octets received), FHkey-AR-ID", hs.addr)
	hksErr := hs.timed.err()
	d.step("HKS", between(at, "hks-start", "hks-end"), hksErr == nil && hs.role.Stats().Accepted > 0,
		"HKS: subscriber found, MN-HKS MAC verified with the HIK (gprf+ of the HMK) over the\nreceived HKReq, Timestamp within ±7 s; HKS-Nonce drawn, HK derived (draft §6.1.2)%s", errSuffix(hksErr))
	_, sawAccept := at["access-accept"]
	d.step("Access-Accept", between(at, "hks-end", "access-accept"), sawAccept,
		"HKS -> PAR: Access-Accept, Message-Authenticator first, FHkey-HKS-Nonce, FHkey-Key-Lifetime,\nFHkey-Handover-Key salt-encrypted with the shared secret (RFC 2548 §2.4.2)")
	spi, life := ev.Record.SPI, ev.Record.Expires.Sub(ev.Record.Created).Round(time.Second)
	_, sawResp := at["hkresp"]
	d.step("HKResp", between(at, "access-accept", "hkresp"), sawResp && err == nil,
		"PAR: reply authenticated, HK decrypted, SPI %d drawn, key stored for the PCoA;\nPAR -> MN: HKResp Status 0, SPI, Lifetime %v, HKS-Nonce, Timestamp, MN-AR MAC (HK)%s", spi, life, errSuffix(err))
	return spi
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("\nfailed: %v", err)
}

// forgedHKReq sends an HKReq for the subscriber's NAI with a MN-HKS MAC
// computed with a guessed HMK from src, on the PAR's link, and reports
// whether it was dropped: discarded by the HKS, nothing stored or sent by
// the PAR (step "forged HKReq").
func (d *Demo) forgedHKReq(ctx context.Context, network *netio.Network, conn netio.Conn, src netip.Addr, par *ar.Router, hs *hksSide, prf hokey.PRF, mac hokey.MACAlgorithm) (bool, error) {
	guess := make([]byte, hokey.MinHMKLen)
	defer clear(guess)
	if _, err := rand.Read(guess); err != nil {
		return false, err
	}
	forger, err := mn.New(mn.Config{AAA: &mn.AAAConfig{NAI: DemoNAI, HMK: guess, PRF: prf, MAC: mac}})
	if err != nil {
		return false, err
	}
	p, err := forger.HandoverKeyRequest(par.Address(), src, src, false)
	if err != nil {
		return false, err
	}
	var mu sync.Mutex
	answered := 0
	network.AddTap(func(p netio.Packet) {
		if p.Dst == src {
			mu.Lock()
			answered++
			mu.Unlock()
		}
	})
	parBefore, hksBefore, radBefore := par.Stats(), hs.role.Stats(), hs.radius.Stats()
	start := time.Now()
	if err := conn.WritePacket(ctx, p); err != nil {
		return false, err
	}
	// The PAR counts the HKS's discard once the Access-Reject is in.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for par.Stats().HKSDiscarded == parBefore.HKSDiscarded && wctx.Err() == nil {
		select {
		case <-tick.C:
		case <-wctx.Done():
		}
	}
	took := time.Since(start)
	parAfter, hksAfter, radAfter := par.Stats(), hs.role.Stats(), hs.radius.Stats()
	mu.Lock()
	n := answered
	mu.Unlock()
	badMAC := hksAfter.BadMAC - hksBefore.BadMAC
	dropped := badMAC == 1 && hksAfter.Accepted == hksBefore.Accepted && radAfter.Discards == radBefore.Discards+1 &&
		parAfter.HKSDiscarded == parBefore.HKSDiscarded+1 && parAfter.AAAKeysStored == parBefore.AAAKeysStored && n == 0
	d.step("forged HKReq", took, dropped,
		"attacker %s on the PAR's link -> PAR: HKReq as %s, MAC from a guessed HMK;\nPAR relays it; HKS: MN-HKS MAC does not verify, discarded (%d; Access-Reject without\nattributes); PAR: state dropped, %d packets to the attacker",
		src, DemoNAI, badMAC, n)
	return dropped, nil
}

// forgeFBU returns an FBU from attacker claiming pcoa with a BADF that
// names spi and is computed with a random key of at.
func forgeFBU(par, pcoa, attacker netip.Addr, at hokey.AlgorithmType, spi uint32) (netio.Packet, error) {
	key, err := hokey.GenerateKey(at, rand.Reader)
	if err != nil {
		return netio.Packet{}, err
	}
	defer key.Zero()
	fbu := mh.FastBindingUpdate{Sequence: 0x8000, Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Second,
		Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: spi, Authenticator: make([]byte, at.AuthenticatorLen())}}}
	b, err := hokey.SignBADF(fbu, &key, attacker, par, pcoa, par)
	if err != nil {
		return netio.Packet{}, err
	}
	return netio.Packet{Src: attacker, Dst: par, HopLimit: 64, NextHeader: inet.ProtocolMobility, HomeAddress: pcoa, Payload: b}, nil
}

// aaaCounters are the counters of the summary: the HKS role's, the RADIUS
// server's and (once it runs) the PAR's shared-key ones.
func aaaCounters(hs *hksSide, par *ar.Router) map[string]uint64 {
	k, r := hs.role.Stats(), hs.radius.Stats()
	c := map[string]uint64{
		"hks_requests": k.Requests, "hks_accepted": k.Accepted, "hks_bad_mac": k.BadMAC, "hks_unknown_subscriber": k.UnknownSubscriber,
		"radius_received": r.Received, "radius_accepts": r.Accepts, "radius_rejects": r.Rejects, "radius_discards": r.Discards,
	}
	if par != nil {
		s := par.Stats()
		c["par_hkreq_received"], c["par_hks_discarded"], c["par_hkresp_sent"], c["par_keys_stored"] = s.HKReqReceived, s.HKSDiscarded, s.HKRespSent, s.AAAKeysStored
		c["par_fbu_accepted"], c["par_fbu_bad_auth"] = s.FBUAccepted, s.FBUBadAuth
	}
	return c
}
