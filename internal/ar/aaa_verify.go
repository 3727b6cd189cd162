package ar

import (
	"context"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// verifyKeyRequest is §6.3.1 for an HKReq with the V flag set and an
// MN-AR MAC: the key is found by the MN ID (docs/aaa.md, The V flag). With
// a live key whose MN-AR MAC verifies, the CoA is checked and bound to the
// key and the answer (V set, the key's SPI and remaining lifetime, MN-AR
// MAC) goes back at once; a wrong MAC is discarded silently. Without a key,
// a request that also carries an MN-HKS MAC goes to the HKS as if V were
// clear; one that does not is answered HK_VERIFY_FAILED.
func (r *Router) verifyKeyRequest(ctx context.Context, kr *keyRequest) []netio.Packet {
	rec, err := r.cfg.Store.Get(r.addr, naiIndex(kr.nai))
	defer rec.Zero()
	remaining := rec.Expires.Sub(kr.received).Truncate(time.Second)
	if err != nil || remaining < time.Second {
		if kr.hksMAC {
			r.stats.hkreqVerifyRelayed.Add(1)
			return r.relayKeyRequest(ctx, kr)
		}
		r.stats.hkreqVerifyNoKey.Add(1)
		return r.statusWithoutMAC(kr, HKStatusVerifyFailed)
	}
	mac, err := hokey.MACAlgorithmOf(hokey.AlgorithmType(rec.AT))
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	hk, err := hokey.NewHandoverKey(mac, rec.KeyBytes())
	defer hk.Zero()
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	// "If the AUTH value is invalid, the AR MUST silently discard the
	// message."
	if hokey.VerifyMAC(r.aaa.cp, kr.p.Payload, &hk) != nil {
		r.stats.hkreqBadMAC.Add(1)
		return nil
	}
	if !r.perSource.take(kr.src, kr.received) {
		r.stats.rlSource.Add(1)
		return nil
	}
	// A V request older than the last one accepted for the key is a
	// replay that would bind the key to an earlier CoA; the same one again
	// (a retransmission) is answered again.
	if kr.ts != nil && !r.aaa.acceptTimestamp(rec.SPI, kr.ts.Value) {
		r.stats.hkreqReplayed.Add(1)
		return nil
	}
	resp := mh.HandoverKeyResponse{MessageID: kr.req.MessageID, PRF: kr.req.PRF, Verified: true, Lifetime: remaining, SPI: rec.SPI}
	if kr.ts != nil {
		resp.Options = []mh.Option{*kr.ts}
	}
	coa, ok := r.checkCoA(kr)
	if ok {
		err = r.rebind(&rec, coa)
	}
	switch {
	case !ok:
		// The MN proved it holds the key: the refusal carries the MN-AR
		// MAC too.
		r.stats.hkreqCoAFailed.Add(1)
		resp = mh.HandoverKeyResponse{MessageID: kr.req.MessageID, PRF: kr.req.PRF, Status: mh.HandoverKeyStatusCoAAuthFailed}
	case err != nil:
		r.stats.internal.Add(1)
		return nil
	}
	b, err := hokey.SignMACs(r.aaa.cp, resp, r.addr, kr.src, &hk)
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	if ok {
		r.stats.hkrespVerified.Add(1)
	} else {
		r.stats.hkrespStatus.Add(1)
	}
	return []netio.Packet{r.keyResponsePacket(kr.src, b)}
}

// rebind binds the HK of idx (the record found by the MN ID) to coa
// (§6.3.1: "the AR MUST record the CoA of the MN as the IP address
// associated with the handover key"): a record under (AR, coa), and the
// one under the previous CoA removed.
func (r *Router) rebind(idx *keystore.Record, coa netip.Addr) error {
	a := r.aaa
	a.mu.Lock()
	old, ok := a.spis[idx.SPI]
	a.spis[idx.SPI] = spiEntry{coa: coa, expires: idx.Expires, ts: old.ts}
	a.mu.Unlock()
	rec := *idx
	defer rec.Zero()
	rec.MN = coa
	if err := r.cfg.Store.Put(&rec); err != nil {
		return err
	}
	if ok && old.coa.IsValid() && old.coa != coa {
		_ = r.cfg.Store.Delete(r.addr, old.coa)
	}
	return nil
}

// acceptTimestamp records ts as the last Timestamp of the key spi unless it
// is older than the one recorded.
func (a *aaaState) acceptTimestamp(spi uint32, ts mh.NTPTimestamp) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.spis[spi]
	if ok && ts < e.ts {
		return false
	}
	if ok {
		e.ts = ts
		a.spis[spi] = e
	}
	return true
}
