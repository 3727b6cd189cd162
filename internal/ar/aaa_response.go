package ar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// keyServerAnswered turns the HKS's answer to kr into the HKResp for the
// MN (§6.3), or nil: no answer and no state for ErrNoAnswer, ErrDiscarded
// or a response the router cannot use. It zeroes resp.HK.
func (r *Router) keyServerAnswered(kr *keyRequest, coa netip.Addr, resp *aaa.KeyResponse, err error) *netio.Packet {
	defer resp.HK.Zero()
	switch {
	case errors.Is(err, aaa.ErrNoAnswer):
		// "After retransmission timeout, if the AR does not receive a
		// response from the server, it MUST remove all state associated
		// with the MN and MUST NOT send a response to the MN."
		r.stats.hksNoAnswer.Add(1)
		return nil
	case errors.Is(err, aaa.ErrDiscarded):
		r.stats.hksDiscarded.Add(1)
		return nil
	case err != nil:
		r.stats.hksErrors.Add(1)
		r.log.Debug("ar: handover key server", "nai", string(kr.nai), "err", err)
		return nil
	}
	if resp.Status != mh.HandoverKeyStatusSuccess {
		return r.relayRefusal(kr, resp)
	}
	now := r.now()
	lifetime := min(resp.Lifetime, r.set.Load().lifetime).Truncate(time.Second)
	if resp.HK.IsZero() || len(resp.HKSNonce) == 0 || len(resp.HKSNonce) > hokey.MaxNonceLen || lifetime < time.Second {
		r.stats.hksErrors.Add(1)
		r.log.Debug("ar: unusable handover key server answer", "nai", string(kr.nai), "lifetime", resp.Lifetime)
		return nil
	}
	var ts mh.NTPTimestamp
	if kr.ts != nil {
		ts = kr.ts.Value
	}
	spi, err := r.storeHandoverKey(kr.nai, coa, &resp.HK, now, lifetime, ts)
	if err != nil {
		r.stats.internal.Add(1)
		r.log.Debug("ar: storing the handover key", "nai", string(kr.nai), "err", err)
		return nil
	}
	// §6.3: "The AR MUST send the SPI, HKS-Nonce and lifetime obtained
	// from the server in the HKResp message to the MN. The AR MUST include
	// a MAC of the message created using the HK in the MN-AR MAC". The
	// Timestamp the HKS accepted is echoed (§5.2.3: "it copies the entire
	// value into the HKResp").
	opts := []mh.Option{mh.HandoverNonce{Subtype: mh.NonceSubtypeHKS, Nonce: resp.HKSNonce}}
	if kr.ts != nil {
		opts = append(opts, *kr.ts)
	}
	b, err := hokey.SignMACs(r.aaa.cp, mh.HandoverKeyResponse{MessageID: kr.req.MessageID, PRF: kr.req.PRF,
		Lifetime: lifetime, SPI: spi, Options: opts}, r.addr, kr.src, &resp.HK)
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	r.stats.aaaKeys.Add(1)
	r.stats.hkrespSent.Add(1)
	r.log.Info("handover key stored", "nai", string(kr.nai), "coa", coa, "spi", spi, "lifetime", lifetime)
	p := r.keyResponsePacket(kr.src, b)
	return &p
}

// relayRefusal relays the HKS's refusal: its whole HKResp, MN-HKS MAC
// included (docs/aaa.md, HKS errors), with the checksum computed here, or
// a bare HKResp with the status when the HKS sent none.
func (r *Router) relayRefusal(kr *keyRequest, resp *aaa.KeyResponse) *netio.Packet {
	r.stats.hksRefused.Add(1)
	b := bytes.Clone(resp.HKResp)
	if len(b) == 0 {
		var err error
		if b, err = r.aaa.cp.MarshalMessage(mh.HandoverKeyResponse{MessageID: kr.req.MessageID, PRF: kr.req.PRF, Status: resp.Status}); err != nil {
			r.stats.internal.Add(1)
			return nil
		}
	}
	// The HKS is trusted, but what goes out must be an HKResp to this
	// request.
	m, err := r.aaa.cp.ParseMessage(b)
	if hk, ok := m.(mh.HandoverKeyResponse); err != nil || !ok || hk.MessageID != kr.req.MessageID {
		r.stats.hksErrors.Add(1)
		return nil
	}
	if err := mh.SetChecksum(b, r.addr, kr.src); err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	r.stats.hkrespStatus.Add(1)
	p := r.keyResponsePacket(kr.src, b)
	return &p
}

// storeHandoverKey stores hk for the MN nai at coa (§6.3: "store the
// handover key ... along with the CoA and MN ID and index it additionally
// with an SPI"): a record under (AR, CoA), which FBUs find, and one under
// (AR, naiIndex(MN ID)), which the V flag finds, both with a fresh SPI. The
// MN ID's previous key is discarded (§6.2.1: "Once a MN obtains a new key,
// it MUST discard the old key").
func (r *Router) storeHandoverKey(nai []byte, coa netip.Addr, hk *hokey.HandoverKey, now time.Time, lifetime time.Duration, ts mh.NTPTimestamp) (uint32, error) {
	a := r.aaa
	badf, err := hk.BADFKey()
	if err != nil {
		return 0, err
	}
	defer badf.Zero()
	rec := keystore.Record{AR: r.addr, MN: coa, AT: uint8(badf.Algorithm()), Created: now, Expires: now.Add(lifetime)}
	defer rec.Zero()
	if err := rec.SetKey(badf.Bytes()); err != nil {
		return 0, err
	}
	idx := naiIndex(nai)
	var oldCoA netip.Addr
	if old, err := r.cfg.Store.Get(r.addr, idx); err == nil {
		old.Zero()
		a.mu.Lock()
		if e, ok := a.spis[old.SPI]; ok {
			oldCoA = e.coa
			delete(a.spis, old.SPI)
		}
		a.mu.Unlock()
	}
	a.mu.Lock()
	spi, err := r.newSPI()
	if err == nil {
		a.spis[spi] = spiEntry{coa: coa, expires: rec.Expires, ts: ts}
	}
	a.mu.Unlock()
	if err != nil {
		return 0, err
	}
	rec.SPI = spi
	if err := r.cfg.Store.Put(&rec); err != nil {
		return 0, err
	}
	rec.MN = idx
	if err := r.cfg.Store.Put(&rec); err != nil {
		return 0, err
	}
	if oldCoA.IsValid() && oldCoA != coa {
		_ = r.cfg.Store.Delete(r.addr, oldCoA)
	}
	return spi, nil
}

// newSPI draws an unpredictable SPI from hokey.FirstAAASPI to 2^32-1 that
// no live key of the router has (docs/aaa.md, The SPI space). a.mu held.
func (r *Router) newSPI() (uint32, error) {
	var b [4]byte
	for range 64 {
		if _, err := io.ReadFull(r.rand, b[:]); err != nil {
			return 0, err
		}
		spi := binary.BigEndian.Uint32(b[:])
		if _, used := r.aaa.spis[spi]; spi >= hokey.FirstAAASPI && !used {
			return spi, nil
		}
	}
	return 0, fmt.Errorf("ar: no free SPI after 64 draws")
}
