package mn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// errNoAAA is returned by the shared-key methods of a node without AAA.
var errNoAAA = errors.New("mn: shared-key mode not configured (Config.AAA)")

// mnNonceLen is the length of the MN-Nonce: 16 random octets.
const mnNonceLen = 16

// HandoverKeyRequest builds a new HKReq to router (draft §6.2.1) for a key
// bound to careOf, sent from src, and makes it the outstanding request to
// router: a new Message ID, a random 16-octet MN-Nonce, the MN ID option
// with the NAI, a Timestamp greater than the last one sent and the MN-HKS
// MAC with the HIK of that Message ID. When src is not careOf the request
// is indirect (§6.5): the Key Care of Address is ::. With verify, the node
// must hold a key from router (§6.2.3): V is set and the MN-AR MAC with
// that key comes last. Retransmissions resend the returned octets.
func (m *MobileNode) HandoverKeyRequest(router, careOf, src netip.Addr, verify bool) (netio.Packet, error) {
	a := m.aaa
	if a == nil {
		return netio.Packet{}, errNoAAA
	}
	router, careOf, src = router.WithZone(""), careOf.WithZone(""), src.WithZone("")
	ex := &keyExchange{router: router, careOf: careOf, src: src, mnNonce: make([]byte, mnNonceLen)}
	if _, err := io.ReadFull(m.rand, ex.mnNonce); err != nil {
		return netio.Packet{}, err
	}
	var keys []hokey.MACKey
	if verify {
		rec, ok := m.aaaKey(router)
		if !ok {
			return netio.Packet{}, fmt.Errorf("%w: %v (V flag)", ErrNoKey, router)
		}
		hk, err := handoverKeyOf(&rec)
		rec.Zero()
		if err != nil {
			return netio.Packet{}, err
		}
		defer hk.Zero()
		ex.verify, ex.verifyCoA, ex.verifySPI = true, rec.MN, rec.SPI
		keys = append(keys, &hk)
	}
	m.mu.Lock()
	if a.prohibited[router] {
		m.mu.Unlock()
		return netio.Packet{}, fmt.Errorf("%w: %v", ErrProhibited, router)
	}
	a.msgID++
	ex.msgID, ex.prf, ex.mac = a.msgID, a.prf, a.mac
	// §5.2.3: "the 64-bit timestamp used in a HKReq from the Mobile Node
	// MUST be greater than that used in any previous successful HKReq";
	// fhkey's is greater than every one sent, except after a correction
	// to an earlier HKS clock (see handleKeyStatus).
	ex.ts = max(mh.NTPTime(m.now().Add(a.offset)), a.lastTS+1)
	a.lastTS = ex.ts
	m.mu.Unlock()
	hik, err := hokey.DeriveHIK(ex.prf, a.cfg.HMK, ex.msgID, ex.mac)
	if err != nil {
		return netio.Packet{}, err
	}
	defer hik.Zero()
	kcoa := careOf
	if src != careOf {
		kcoa = netip.IPv6Unspecified()
	}
	req := mh.HandoverKeyRequest{MessageID: ex.msgID, Verify: verify, PRF: uint8(ex.prf), KeyCareOfAddress: kcoa, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(a.cfg.NAI)},
		mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: ex.mnNonce},
		mh.Timestamp{Value: ex.ts},
	}}
	// The MN-HKS MAC also goes into a V request: a router that lost the
	// key then relays it to the HKS (§6.3.1) and a new key comes in the
	// same round trip.
	ex.packet, err = hokey.SignMACs(a.cfg.Codepoints, req, src, router, append([]hokey.MACKey{&hik}, keys...)...)
	if err != nil {
		return netio.Packet{}, fmt.Errorf("mn: building HKReq: %w", err)
	}
	m.mu.Lock()
	a.out[router] = ex
	m.mu.Unlock()
	return ex.packetTo(), nil
}

func (ex *keyExchange) packetTo() netio.Packet {
	return netio.Packet{Src: ex.src, Dst: ex.router, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: slices.Clone(ex.packet)}
}

// RequestHandoverKey obtains a handover key from router for careOf, sending
// from src (src != careOf: the indirect exchange of §6.5), over conn: with
// the V flag when the node still holds a key from router (§6.2.3), else a
// new key. Each HKReq is sent up to N_HO_KEYTRIES times, HKEY_REQ_TOUT
// apart, with the same octets (§6.2.1: "the Message ID MUST remain the
// same"). Authenticated error answers are acted on (§6.2.2.1): a new HKReq
// with the HKS's clock (INVALID_TIMESTAMP), with the HKS's PRF or MAC
// algorithm when configured (INVALID_PRF_ALG, INVALID_MAC_ALG), without the
// V flag (HK_VERIFY_FAILED); others end in a *KeyRefusedError. It returns
// the HandoverKeyEstablished or HandoverKeyVerified event. conn must not be
// read by anyone else meanwhile.
func (m *MobileNode) RequestHandoverKey(ctx context.Context, conn netio.Conn, router, careOf, src netip.Addr) (Event, error) {
	if m.aaa == nil {
		return Event{}, errNoAAA
	}
	router = router.WithZone("")
	rec, verify := m.aaaKey(router)
	rec.Zero()
	return m.requestHandoverKey(ctx, conn, router, careOf, src, verify)
}

// RequestNewHandoverKey is RequestHandoverKey without the V flag: the router
// asks the HKS for a new key even when the node holds one from it. It is
// the refresh of a key about to expire (§6.2.1: "The MN should send a new
// HKReq before the expiry of the lifetime of the key"; a V request would
// only confirm the held key and its lifetime), directly or, with src not
// careOf, through another link (§6.5). The held key stays usable until
// the new one replaces it (§6.2.1: "Once a MN obtains a new key, it MUST
// discard the old key"), so a failed refresh loses nothing.
func (m *MobileNode) RequestNewHandoverKey(ctx context.Context, conn netio.Conn, router, careOf, src netip.Addr) (Event, error) {
	if m.aaa == nil {
		return Event{}, errNoAAA
	}
	return m.requestHandoverKey(ctx, conn, router.WithZone(""), careOf, src, false)
}

func (m *MobileNode) requestHandoverKey(ctx context.Context, conn netio.Conn, router, careOf, src netip.Addr, verify bool) (Event, error) {
	for range maxCorrections + 1 {
		p, err := m.HandoverKeyRequest(router, careOf, src, verify)
		if err != nil {
			return Event{}, err
		}
		ev, err := m.keyExchange(ctx, conn, p)
		if err != nil {
			return Event{}, err
		}
		if ev.Kind != HandoverKeyStatus {
			return ev, nil
		}
		st := ev.KeyResponse
		switch {
		case st.Status == HKStatusVerifyFailed && verify:
			// §6.2.3: "it SHOULD send another HKReq with the MN-HKS MAC
			// Mobility sub-option to obtain a new handover key".
			verify = false
		case !st.Authenticated:
			return Event{}, &KeyRefusedError{Router: router, Status: st.Status}
		case st.Status == mh.HandoverKeyStatusInvalidTimestamp || st.Status == mh.HandoverKeyStatusTimestampRequired:
			// Corrected in handleKeyResponse; the next HKReq carries a
			// Timestamp either way.
		case st.Status == mh.HandoverKeyStatusInvalidPRFAlgorithm && slices.Contains(m.aaa.cfg.PRFs, st.PRF) && st.PRF != st.sentPRF:
			m.mu.Lock()
			m.aaa.prf = st.PRF
			m.mu.Unlock()
		case st.Status == mh.HandoverKeyStatusInvalidMACAlgorithm && slices.Contains(m.aaa.cfg.MACs, st.MAC) && st.MAC != st.sentMAC:
			m.mu.Lock()
			m.aaa.mac = st.MAC
			m.mu.Unlock()
		default:
			return Event{}, &KeyRefusedError{Router: router, Status: st.Status, Authenticated: true}
		}
	}
	return Event{}, fmt.Errorf("%w: %v: still refused after %d corrections", ErrKeyRefused, router, maxCorrections)
}

// keyExchange sends p up to Tries times, HKEY_REQ_TOUT apart, and returns
// the first event that answers it. An unauthenticated error status that
// the node cannot act on does not end the wait (a forger could otherwise
// stop the exchange); it is reported if nothing else comes.
func (m *MobileNode) keyExchange(ctx context.Context, conn netio.Conn, p netio.Packet) (Event, error) {
	a := m.aaa
	var unauth *KeyResponse
	for range a.cfg.Tries {
		if err := conn.WritePacket(ctx, p); err != nil {
			return Event{}, err
		}
		actx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		for {
			in, err := conn.ReadPacket(actx)
			if err != nil {
				break
			}
			ev, err := m.HandlePacket(ctx, in)
			if errors.Is(err, errNotForMe) && m.cfg.Other != nil {
				m.cfg.Other(in)
				continue
			}
			if err != nil {
				m.log.Debug("mn: dropped", "src", in.Src, "err", err)
				continue
			}
			switch ev.Kind {
			case HandoverKeyEstablished, HandoverKeyVerified:
				if ev.Router == p.Dst {
					cancel()
					return ev, nil
				}
			case HandoverKeyStatus:
				if ev.Router != p.Dst || ev.KeyResponse.MessageID != p.Payload[6] {
					continue
				}
				if ev.KeyResponse.Authenticated || (ev.KeyResponse.Status == HKStatusVerifyFailed && ev.KeyResponse.verify) {
					cancel()
					return ev, nil
				}
				unauth = ev.KeyResponse
			}
		}
		cancel()
		if ctx.Err() != nil {
			return Event{}, ctx.Err()
		}
	}
	if unauth != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrNoAnswer, &KeyRefusedError{Router: p.Dst, Status: unauth.Status})
	}
	return Event{}, fmt.Errorf("%w: no HKResp from %v after %d HKReqs", ErrNoAnswer, p.Dst, a.cfg.Tries)
}

// KeyRefreshDue returns the shared-mode keys (SPI at least
// hokey.FirstAAASPI) among RefreshDue's: §6.2.1, "The MN should send a new
// HKReq before the expiry of the lifetime of the key". Key octets zeroed.
func (m *MobileNode) KeyRefreshDue() []KeyDue {
	var out []KeyDue
	now := m.now()
	for _, r := range m.RefreshDue() {
		if r.SPI >= hokey.FirstAAASPI {
			out = append(out, KeyDue{Router: r.AR, CareOf: r.MN, SPI: r.SPI, Remaining: r.Expires.Sub(now)})
		}
	}
	return out
}

// KeyDue is a shared-mode key due for a new HKReq.
type KeyDue struct {
	Router, CareOf netip.Addr
	SPI            uint32
	Remaining      time.Duration
}
