package mn

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// KeyResponse is what an HKResp with an error status said (Event.Kind
// HandoverKeyStatus).
type KeyResponse struct {
	MessageID uint8
	Status    uint16
	// Authenticated: an MN-HKS MAC (HKS errors) or MN-AR MAC (the
	// router's, after a V request) verified. The fields below are
	// meaningful only then.
	Authenticated bool
	// PRF is the HKResp's PRF field; MAC the Algorithm Type of its MAC
	// option; Timestamp its Timestamp option (0: none).
	PRF       hokey.PRF
	MAC       hokey.MACAlgorithm
	Timestamp mh.NTPTimestamp

	sentPRF hokey.PRF
	sentMAC hokey.MACAlgorithm
	verify  bool
}

// handoverKeyResponse is what the node reads of a received HKResp.
type handoverKeyResponse struct {
	mh.HandoverKeyResponse
	hksNonce      []byte
	ts            *mh.NTPTimestamp
	hksMAC, arMAC *mh.MessageAuthenticationCode
}

// handleKeyResponse is draft §6.2.2 for one received HKResp: it must
// answer the outstanding HKReq to its source (Message ID), and is acted on
// only when authenticated: a success by the MN-AR MAC with the HK the node
// derives itself (or holds, V set), an HKS error by the MN-HKS MAC with the
// HIK. Anything else changes nothing.
func (m *MobileNode) handleKeyResponse(p netio.Packet) (Event, error) {
	a := m.aaa
	router := p.Src.WithZone("")
	m.mu.Lock()
	ex := a.out[router]
	m.mu.Unlock()
	if ex == nil {
		return Event{}, fmt.Errorf("%w: HKResp from %v, to which no HKReq is outstanding", ErrDropped, router)
	}
	if err := mh.VerifyChecksum(p.Payload, router, p.Dst); err != nil {
		return Event{}, fmt.Errorf("%w: HKResp: %w", ErrDropped, err)
	}
	msg, err := a.cfg.Codepoints.ParseMessage(p.Payload)
	if err != nil {
		return Event{}, fmt.Errorf("%w: HKResp: %w", ErrDropped, err)
	}
	r := handoverKeyResponse{}
	var ok bool
	if r.HandoverKeyResponse, ok = msg.(mh.HandoverKeyResponse); !ok {
		return Event{}, errNotForMe
	}
	// "The MN MUST ensure that the Message ID matches with that of the
	// corresponding HKReq. If there is a mismatch, it MUST drop the
	// packet."
	if r.MessageID != ex.msgID {
		return Event{}, fmt.Errorf("%w: HKResp Message ID %d, outstanding %d", ErrDropped, r.MessageID, ex.msgID)
	}
	for _, o := range r.Options {
		switch o := o.(type) {
		case mh.HandoverNonce:
			if o.Subtype == mh.NonceSubtypeHKS && r.hksNonce == nil {
				r.hksNonce = o.Nonce
			}
		case mh.Timestamp:
			if r.ts == nil {
				r.ts = &o.Value
			}
		case mh.MessageAuthenticationCode:
			switch o.Subtype {
			case mh.MACSubtypeMNHKS:
				r.hksMAC = &o
			case mh.MACSubtypeMNAR:
				r.arMAC = &o
			}
		}
	}
	switch {
	case r.Status == mh.HandoverKeyStatusSuccess && r.Verified:
		return m.keyVerified(p, ex, &r)
	case r.Status == mh.HandoverKeyStatusSuccess:
		return m.keyEstablished(p, ex, &r)
	}
	return m.keyStatus(p, ex, &r)
}

// keyEstablished checks and stores a new key (§6.2.2).
func (m *MobileNode) keyEstablished(p netio.Packet, ex *keyExchange, r *handoverKeyResponse) (Event, error) {
	a := m.aaa
	// "the MN MUST ensure that the message contains the MN-AR MAC mobility
	// option. If not, it MUST silently discard the message." The HK is
	// derived for the MAC algorithm of the request (its key length).
	switch {
	case r.arMAC == nil || r.hksNonce == nil:
		return Event{}, fmt.Errorf("%w: HKResp without MN-AR MAC or HKS-Nonce", ErrDropped)
	case hokey.PRF(r.PRF) != ex.prf || hokey.MACAlgorithm(r.arMAC.AlgorithmType) != ex.mac:
		return Event{}, fmt.Errorf("%w: HKResp with PRF %d / MAC %d, requested %v / %v", ErrDropped, r.PRF, r.arMAC.AlgorithmType, ex.prf, ex.mac)
	case r.ts != nil && *r.ts != ex.ts:
		return Event{}, fmt.Errorf("%w: HKResp Timestamp is not the HKReq's", ErrDropped)
	case r.SPI == 0 || r.Lifetime < time.Second:
		// SPI 0 names SEND keys (docs/aaa.md, The SPI space).
		return Event{}, fmt.Errorf("%w: HKResp with SPI %d, lifetime %v", ErrDropped, r.SPI, r.Lifetime)
	}
	hk, err := hokey.DeriveHK(ex.prf, a.cfg.HMK, ex.mnNonce, r.hksNonce, a.cfg.NAI, ex.router, ex.mac)
	if err != nil {
		return Event{}, fmt.Errorf("%w: HKResp: %w", ErrDropped, err)
	}
	defer hk.Zero()
	if err := hokey.VerifyMAC(a.cfg.Codepoints, p.Payload, &hk); err != nil {
		return Event{}, fmt.Errorf("%w: HKResp: %w", ErrDropped, err)
	}
	// "the MN MUST store the SPI and lifetime associated with the key".
	now := m.now()
	rec, err := m.storeKey(ex.router, ex.careOf, &hk, r.SPI, now, now.Add(r.Lifetime))
	if err != nil {
		return Event{}, err
	}
	m.dropOtherKeys(ex.router, ex.careOf)
	m.exchangeDone(ex, true)
	return Event{Kind: HandoverKeyEstablished, Router: ex.router, Record: rec}, nil
}

// keyVerified checks the answer to a V request (§6.2.3) and binds the key
// to the request's CoA.
func (m *MobileNode) keyVerified(p netio.Packet, ex *keyExchange, r *handoverKeyResponse) (Event, error) {
	if !ex.verify || r.arMAC == nil || r.SPI != ex.verifySPI || r.Lifetime < time.Second || (r.ts != nil && *r.ts != ex.ts) {
		return Event{}, fmt.Errorf("%w: HKResp with V set does not answer the V request", ErrDropped)
	}
	old, err := m.store.Get(ex.router, ex.verifyCoA)
	if err != nil {
		return Event{}, fmt.Errorf("%w: HKResp with V set: %w", ErrNoKey, err)
	}
	defer old.Zero()
	hk, err := handoverKeyOf(&old)
	if err != nil {
		return Event{}, err
	}
	defer hk.Zero()
	if err := hokey.VerifyMAC(m.aaa.cfg.Codepoints, p.Payload, &hk); err != nil {
		return Event{}, fmt.Errorf("%w: HKResp: %w", ErrDropped, err)
	}
	// The router's remaining lifetime can only shorten the key's.
	expires := old.Expires
	if e := m.now().Add(r.Lifetime); e.Before(expires) {
		expires = e
	}
	rec, err := m.storeKey(ex.router, ex.careOf, &hk, old.SPI, old.Created, expires)
	if err != nil {
		return Event{}, err
	}
	m.dropOtherKeys(ex.router, ex.careOf)
	m.exchangeDone(ex, true)
	return Event{Kind: HandoverKeyVerified, Router: ex.router, Record: rec}, nil
}

// keyStatus reads an error HKResp (§6.2.2.1). HKS errors carry an MN-HKS
// MAC with the HIK of the HKResp's PRF and the HKReq's Message ID, for the
// MAC option's algorithm (docs/aaa.md, HKS errors); the router's answer to
// a V request may carry an MN-AR MAC with the key; CoA_AUTH_FAILED and
// HK_VERIFY_FAILED from a router that shares no key carry none.
func (m *MobileNode) keyStatus(p netio.Packet, ex *keyExchange, r *handoverKeyResponse) (Event, error) {
	a := m.aaa
	kr := &KeyResponse{MessageID: r.MessageID, Status: r.Status, PRF: hokey.PRF(r.PRF), sentPRF: ex.prf, sentMAC: ex.mac, verify: ex.verify}
	if r.ts != nil {
		kr.Timestamp = *r.ts
	}
	switch {
	case r.hksMAC != nil:
		prf, mac := hokey.PRF(r.PRF), hokey.MACAlgorithm(r.hksMAC.AlgorithmType)
		// Verified with any PRF and MAC hokey implements: the node can
		// then refuse, authenticated, an algorithm it is not configured
		// for.
		if !prf.Valid() || !mac.Valid() {
			return Event{}, fmt.Errorf("%w: HKResp status %d with PRF %v / MAC %v", ErrDropped, r.Status, prf, mac)
		}
		hik, err := hokey.DeriveHIK(prf, a.cfg.HMK, ex.msgID, mac)
		if err != nil {
			return Event{}, err
		}
		err = hokey.VerifyMAC(a.cfg.Codepoints, p.Payload, &hik)
		hik.Zero()
		if err != nil {
			return Event{}, fmt.Errorf("%w: HKResp status %d: %w", ErrDropped, r.Status, err)
		}
		kr.Authenticated, kr.MAC = true, mac
	case r.arMAC != nil && ex.verify:
		old, err := m.store.Get(ex.router, ex.verifyCoA)
		if err != nil {
			return Event{}, fmt.Errorf("%w: HKResp: %w", ErrNoKey, err)
		}
		hk, err := handoverKeyOf(&old)
		old.Zero()
		if err != nil {
			return Event{}, err
		}
		err = hokey.VerifyMAC(a.cfg.Codepoints, p.Payload, &hk)
		hk.Zero()
		if err != nil {
			return Event{}, fmt.Errorf("%w: HKResp status %d: %w", ErrDropped, r.Status, err)
		}
		kr.Authenticated, kr.MAC = true, hokey.MACAlgorithm(r.arMAC.AlgorithmType)
	}
	if kr.Authenticated {
		m.mu.Lock()
		switch r.Status {
		case mh.HandoverKeyStatusAdministrativelyProhibited:
			// "the MN MUST NOT send any more HKReq messages via that AR".
			a.prohibited[ex.router] = true
		case mh.HandoverKeyStatusInvalidTimestamp:
			// §5.2.3: the HKS "copies only the low-order 32 bits into the
			// HKResp, and supplies the high-order 32 bits from its own
			// time of day": the difference of the seconds fields is the
			// correction. The next HKReq may be earlier than this one
			// then, never earlier than the last successful one.
			if r.ts != nil {
				a.offset += time.Duration(int32(r.ts.Seconds()-ex.ts.Seconds())) * time.Second
				a.lastTS = a.okTS
			}
		}
		if a.out[ex.router] == ex {
			delete(a.out, ex.router)
		}
		m.mu.Unlock()
	}
	return Event{Kind: HandoverKeyStatus, Router: ex.router, KeyResponse: kr}, nil
}

// storeKey stores hk as the key of (router, careOf) with spi.
func (m *MobileNode) storeKey(router, careOf netip.Addr, hk *hokey.HandoverKey, spi uint32, created, expires time.Time) (keystore.Record, error) {
	badf, err := hk.BADFKey()
	if err != nil {
		return keystore.Record{}, err
	}
	defer badf.Zero()
	rec := keystore.Record{AR: router, MN: careOf, AT: uint8(badf.Algorithm()), SPI: spi, Created: created, Expires: expires}
	if err := rec.SetKey(badf.Bytes()); err != nil {
		return keystore.Record{}, err
	}
	err = m.store.Put(&rec)
	rec.Zero()
	if err != nil {
		return keystore.Record{}, fmt.Errorf("mn: storing the handover key: %w", err)
	}
	return rec, nil
}

// exchangeDone ends ex; a success moves the timestamp floor.
func (m *MobileNode) exchangeDone(ex *keyExchange, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.aaa.out[ex.router] == ex {
		delete(m.aaa.out, ex.router)
	}
	if ok {
		m.aaa.okTS = max(m.aaa.okTS, ex.ts)
	}
}

// handoverKeyOf returns the HK of a stored shared-mode record.
func handoverKeyOf(rec *keystore.Record) (hokey.HandoverKey, error) {
	mac, err := hokey.MACAlgorithmOf(hokey.AlgorithmType(rec.AT))
	if err != nil {
		return hokey.HandoverKey{}, err
	}
	return hokey.NewHandoverKey(mac, rec.KeyBytes())
}
