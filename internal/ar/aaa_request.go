package ar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// keyRequest is what the router reads of a received HKReq before acting.
type keyRequest struct {
	p        netio.Packet
	src      netip.Addr
	req      mh.HandoverKeyRequest
	nai      []byte
	mnNonce  bool
	hksMAC   bool
	arMAC    bool
	ts       *mh.Timestamp
	received time.Time
}

// handleKeyRequest is draft §6.3 for one received HKReq: the silent
// discards, then the V flag (§6.3.1, handled here) or the relay to the
// Handover Key Server, whose answer comes later through Answers.
func (r *Router) handleKeyRequest(ctx context.Context, p netio.Packet) []netio.Packet {
	a := r.aaa
	r.stats.hkreq.Add(1)
	kr := keyRequest{p: p, src: p.Src.WithZone(""), received: r.now()}
	// The source is where the answer goes: a unicast address. The
	// destination is the AR ID (§6.3: "its IP address as seen by the MN").
	if p.Dst.WithZone("") != r.addr || !kr.src.Is6() || kr.src.Is4In6() || kr.src.IsUnspecified() ||
		kr.src.IsMulticast() || kr.src.IsLoopback() || isNAIIndex(kr.src) ||
		mh.VerifyChecksum(p.Payload, kr.src, r.addr) != nil {
		r.stats.hkreqMalformed.Add(1)
		return nil
	}
	m, err := a.cp.ParseMessage(p.Payload)
	if err != nil {
		r.stats.hkreqMalformed.Add(1)
		return nil
	}
	var ok bool
	if kr.req, ok = m.(mh.HandoverKeyRequest); !ok {
		r.stats.hkreqMalformed.Add(1)
		return nil
	}
	for _, o := range kr.req.Options {
		switch o := o.(type) {
		case mh.MobileNodeIdentifier:
			if o.Subtype == mh.MobileNodeIdentifierSubtypeNAI && kr.nai == nil {
				kr.nai = o.Identifier
			}
		case mh.HandoverNonce:
			kr.mnNonce = kr.mnNonce || o.Subtype == mh.NonceSubtypeMN
		case mh.MessageAuthenticationCode:
			kr.hksMAC = kr.hksMAC || o.Subtype == mh.MACSubtypeMNHKS
			kr.arMAC = kr.arMAC || o.Subtype == mh.MACSubtypeMNAR
		case mh.Timestamp:
			if kr.ts == nil {
				kr.ts = &o
			}
		}
	}
	// §6.3: "If the HKReq message does not contain the MN ID Mobility
	// Option, the AR MUST silently discard the message."
	if len(kr.nai) == 0 || len(kr.nai) > hokey.MaxNAILen {
		r.stats.hkreqNoMNID.Add(1)
		return nil
	}
	if kr.req.Verify {
		// §6.3.1: "If the MN-AR MAC Mobility Sub-Option is not present
		// ... the AR MUST silently drop the message".
		if !kr.arMAC {
			r.stats.hkreqNoMAC.Add(1)
			return nil
		}
		return r.verifyKeyRequest(ctx, &kr)
	}
	return r.relayKeyRequest(ctx, &kr)
}

// relayKeyRequest relays an HKReq to the HKS (§6.3) after the checks that
// create nothing: the MN-HKS MAC and MN-Nonce present, no exchange of the
// same (MN ID, Message ID) in progress, the CoA, the per-source bucket,
// the bound on pending requests.
func (r *Router) relayKeyRequest(ctx context.Context, kr *keyRequest) []netio.Packet {
	a := r.aaa
	// "If the HKReq message does not contain the MN-HKS MAC Mobility
	// sub-option, it MUST silently discard the message." Without an
	// MN-Nonce the HKS cannot derive the HK (§6.1.2) either.
	if !kr.hksMAC || !kr.mnNonce {
		r.stats.hkreqNoMAC.Add(1)
		return nil
	}
	coa, ok := r.checkCoA(kr)
	if !ok {
		r.stats.hkreqCoAFailed.Add(1)
		return r.statusWithoutMAC(kr, mh.HandoverKeyStatusCoAAuthFailed)
	}
	if !r.perSource.take(kr.src, kr.received) {
		r.stats.rlSource.Add(1)
		return nil
	}
	// A new request must carry a Timestamp newer than the one that
	// obtained the MN ID's live key (§5.2.3: "MUST be greater than that
	// used in any previous successful HKReq"): the HKS, stateless, would
	// accept a replay within its ±7 s and the new key would replace the
	// MN's.
	spi, live := r.liveSPI(kr.nai)
	fresh := func() bool {
		e, ok := a.spis[spi]
		return !live || !ok || kr.ts == nil || kr.ts.Value > e.ts
	}
	key := exchangeKey{nai: string(kr.nai), id: kr.req.MessageID}
	verdict, ex, answer := a.begin(key, sha256.Sum256(kr.p.Payload), kr.received, fresh)
	switch verdict {
	case dupReplay:
		r.stats.hkreqReplayed.Add(1)
		return nil
	case dupPending, dupConflict:
		// "If the AR already forwarded this message to the Handover Key
		// Server but has not yet received a response ... the AR MUST
		// silently discard the retransmitted request". A different
		// request under the same Message ID cannot be told from a forgery
		// before the HKS has spoken: discarded too.
		r.stats.hkreqDuplicate.Add(1)
		return nil
	case dupRateLimited:
		r.stats.hkrespRateLimited.Add(1)
		return nil
	case dupResend:
		r.stats.hkrespResent.Add(1)
		return []netio.Packet{answer}
	case dupFull:
		r.stats.hkreqPendingFull.Add(1)
		return nil
	}
	req := aaa.KeyRequest{NAI: string(kr.nai), AR: r.addr, HKReq: bytes.Clone(kr.p.Payload)}
	k := *kr
	k.p.Payload = nil // not kept
	k.nai = slices.Clone(kr.nai)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		cctx, cancel := context.WithTimeout(ctx, a.cfg.HKSTimeout)
		resp, err := a.cfg.KeyServer.RequestKey(cctx, req)
		cancel()
		out := r.keyServerAnswered(&k, coa, &resp, err)
		a.finish(key, ex, out, r.now())
		if out != nil {
			r.sendLater(*out)
		}
	}()
	return nil
}

// checkCoA is the CoA check of §6.3 and §6.5 (docs/aaa.md, The access
// router) and returns the CoA the key is bound to:
//
//   - a direct request: the Key Care-of Address is the packet's source
//     and lies in one of the on-link prefixes;
//   - an indirect one (§6.5), from off the link: the Key Care-of Address
//     is :: or the CoA the MN ID's live key is bound to, and the key is
//     bound to that CoA again.
func (r *Router) checkCoA(kr *keyRequest) (netip.Addr, bool) {
	kcoa := kr.req.KeyCareOfAddress.WithZone("")
	onLink := false
	for _, p := range r.aaa.cfg.Prefixes {
		onLink = onLink || p.Contains(kr.src)
	}
	if onLink {
		return kcoa, kcoa == kr.src
	}
	bound, ok := r.boundCoA(kr.nai)
	if !ok || (!kcoa.IsUnspecified() && kcoa != bound) {
		return netip.Addr{}, false
	}
	return bound, true
}

// boundCoA returns the CoA the live HK of nai is bound to, if any (none
// after ForwardingTimedOut).
func (r *Router) boundCoA(nai []byte) (netip.Addr, bool) {
	spi, ok := r.liveSPI(nai)
	if !ok {
		return netip.Addr{}, false
	}
	r.aaa.mu.Lock()
	e, ok := r.aaa.spis[spi]
	r.aaa.mu.Unlock()
	return e.coa, ok && e.coa.IsValid()
}

// liveSPI returns the SPI of the live HK of nai.
func (r *Router) liveSPI(nai []byte) (uint32, bool) {
	rec, err := r.cfg.Store.Get(r.addr, naiIndex(nai))
	if err != nil {
		return 0, false
	}
	rec.Zero()
	return rec.SPI, true
}

// statusWithoutMAC answers kr with an HKResp the router cannot
// authenticate (CoA_AUTH_FAILED, HK_VERIFY_FAILED: it shares no key with
// the MN), within Limits.UnsecuredReplies.
func (r *Router) statusWithoutMAC(kr *keyRequest, status uint16) []netio.Packet {
	if !r.unsecured.take(kr.received) || !r.total.take(kr.received) {
		r.stats.unsecured.Add(1)
		return nil
	}
	b, err := r.aaa.cp.MarshalMessage(mh.HandoverKeyResponse{MessageID: kr.req.MessageID, PRF: kr.req.PRF, Status: status})
	if err == nil {
		err = mh.SetChecksum(b, r.addr, kr.src)
	}
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	r.stats.hkrespStatus.Add(1)
	return []netio.Packet{r.keyResponsePacket(kr.src, b)}
}

func (r *Router) keyResponsePacket(dst netip.Addr, b []byte) netio.Packet {
	return netio.Packet{Src: r.addr, Dst: dst, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: b}
}
