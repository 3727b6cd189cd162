package pae

import (
	"bytes"
	"context"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
)

// session is one supplicant's authentication in progress.
type session struct {
	created    time.Time
	lastActive time.Time // last frame taken from the supplicant
	lastSent   time.Time // last EAP-Request sent (or sent again)
	rate       tokens
	busy       bool // a Response is at the backend
	retrans    int
	reqID      uint8  // Identifier of the outstanding EAP-Request
	lastReq    []byte // the outstanding EAP-Request, sent again as it is
	nai        string
	backend    BackendSession // nil until the Identity Response
	reauth     bool           // started by the authenticator's reAuthTimer
}

// maxAuthorizedFactor bounds the MACs remembered for Logoff at this many
// times MaxSessions (beyond, an arbitrary one is forgotten: its MSK then
// lives until its lifetime ends).
const maxAuthorizedFactor = 16

// frame wraps an EAP packet in an EAPOL-EAP PDU to dst.
func (a *Authenticator) frame(dst MAC, eapPacket []byte) []Frame {
	pdu, err := eap.EAPOL{Version: a.cfg.Version, Type: eap.EAPOLEAPPacket, Body: eapPacket}.Marshal()
	if err != nil {
		return nil // an EAP packet never exceeds 65535 octets
	}
	return []Frame{{Dst: dst, PDU: pdu}}
}

// start (re)starts src's authentication with an EAP-Request/Identity
// (IEEE 802.1X-2010 §8.4; RFC 3748 §5.1). A Start from a supplicant in
// authentication restarts it, unless its Response is at the server.
func (a *Authenticator) start(src MAC, now time.Time) []Frame {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[src]
	switch {
	case a.quietLocked(src, now):
		a.c.quiet.Add(1)
		return nil
	case s != nil && s.busy:
		a.c.unexpected.Add(1)
		return nil
	case s != nil:
		if !s.rate.allow(a.cfg.PerSupplicant, now) {
			a.c.rateLimited.Add(1)
			return nil
		}
	default:
		if !a.creation.allow(a.cfg.NewSessions, now) {
			a.c.rateLimited.Add(1)
			return nil
		}
		if len(a.sessions) >= a.cfg.MaxSessions && !a.evictLocked() {
			a.c.refused.Add(1)
			return nil
		}
		s = &session{}
		s.rate.allow(a.cfg.PerSupplicant, now)
		a.sessions[src] = s
	}
	return a.requestIdentityLocked(src, s, now)
}

// evictLocked removes the least recently active session not waiting for
// the server; false if every session is.
func (a *Authenticator) evictLocked() bool {
	var victim MAC
	var oldest *session
	for m, s := range a.sessions {
		if !s.busy && (oldest == nil || s.lastActive.Before(oldest.lastActive)) {
			victim, oldest = m, s
		}
	}
	if oldest == nil {
		return false
	}
	a.endLocked(victim, oldest, false)
	a.c.evicted.Add(1)
	return true
}

// response relays the EAP Response pkt (raw: its octets) of src's
// session: the Identity Response starts the backend session with the
// Identity as User-Name (RFC 3579 §2.1), each Response goes to the
// server, its answer to the supplicant.
func (a *Authenticator) response(ctx context.Context, src MAC, pkt eap.Packet, raw []byte, now time.Time) []Frame {
	a.mu.Lock()
	s := a.sessions[src]
	switch {
	case a.quietLocked(src, now):
		a.mu.Unlock()
		a.c.quiet.Add(1)
		return nil
	case s == nil || s.busy || pkt.Identifier != s.reqID:
		// RFC 3748 §4.1: a Response whose Identifier does not match the
		// outstanding Request is discarded.
		a.mu.Unlock()
		a.c.unexpected.Add(1)
		return nil
	case !s.rate.allow(a.cfg.PerSupplicant, now):
		a.mu.Unlock()
		a.c.rateLimited.Add(1)
		return nil
	}
	if s.backend == nil {
		if pkt.Type != eap.TypeIdentity || len(pkt.Data) == 0 || len(pkt.Data) > MaxIdentityLen ||
			len(pkt.Data) > hokey.MaxNAILen || bytes.IndexByte(pkt.Data, 0) >= 0 {
			a.mu.Unlock()
			a.c.unexpected.Add(1)
			return nil
		}
		s.nai = string(pkt.Data)
		s.backend = a.cfg.Backend.NewSession(s.nai)
	}
	s.busy, s.lastActive = true, now
	bs, req := s.backend, bytes.Clone(raw)
	a.mu.Unlock()

	res, err := bs.Send(ctx, req)
	defer res.MSK.Wipe()

	a.mu.Lock()
	defer a.mu.Unlock()
	s.busy = false
	if a.sessions[src] != s {
		return nil // ended meanwhile (Logoff)
	}
	now = a.cfg.Now()
	if err != nil {
		a.endLocked(src, s, false)
		a.c.backendErrors.Add(1)
		a.cfg.Logger.Warn("pae: authentication server", "mac", src.String(), "nai", s.nai, "err", err)
		return nil
	}
	switch res.Outcome {
	case radius.EAPContinue:
		p, err := eap.Parse(res.EAP)
		if err != nil || p.Code != eap.CodeRequest {
			a.endLocked(src, s, false)
			a.c.backendErrors.Add(1)
			return nil
		}
		s.reqID, s.lastReq, s.lastSent, s.retrans = p.Identifier, res.EAP, now, 0
		return a.frame(src, res.EAP)
	case radius.EAPAccept:
		return a.accept(src, s, &res, now)
	}
	a.endLocked(src, s, false)
	a.holdLocked(src, now)
	a.c.rejected.Add(1)
	a.cfg.Logger.Info("pae: access rejected", "mac", src.String(), "nai", s.nai)
	return a.frame(src, res.EAP)
}

// accept stores the MSK of an Access-Accept (lifetime: Session-Timeout,
// RFC 2865 §5.27, or MSKLifetime) and forwards the EAP-Success; without
// an MSK, or if it cannot be stored, the supplicant gets an EAP-Failure
// instead, since the FBU of the MSK mode would then fail. The session
// ends.
//
// It is called with a.mu held and releases it while the store writes
// (keystore.MSKs fsyncs its file): the frames of every other supplicant
// would otherwise wait for each write, which made the authenticator
// authenticate about as many supplicants at once as one (`fhkey bench
// eap`, docs/eap.md). The session stays busy meanwhile, so that nothing
// ends, restarts or evicts it (a Logoff then is dropped, as while a
// Response is at the server).
func (a *Authenticator) accept(src MAC, s *session, res *radius.EAPResult, now time.Time) []Frame {
	stored := false
	defer func() { a.endLocked(src, s, stored) }() // with a.mu held again
	failure := func() []Frame {
		b, _ := eap.Packet{Code: eap.CodeFailure, Identifier: s.reqID}.Marshal()
		return a.frame(src, b)
	}
	if !res.HaveMSK {
		a.c.acceptedNoMSK.Add(1)
		return failure()
	}
	life := res.SessionTimeout
	if life <= 0 {
		life = a.cfg.MSKLifetime
	}
	rec := keystore.MSKRecord{NAI: s.nai, MSK: hokey.MSK(res.MSK), MAC: src, Expires: now.Add(life), Authenticated: now, Port: a.cfg.Port}
	s.busy = true
	a.mu.Unlock()
	err := a.cfg.Store.Put(rec)
	rec.MSK.Zero()
	a.mu.Lock()
	s.busy = false
	if err != nil {
		a.c.storeErrors.Add(1)
		a.cfg.Logger.Error("pae: storing the MSK", "nai", s.nai, "err", err)
		return failure()
	}
	// A new MSK replaces the old one in the store (keystore.MSKs.Put
	// advances MSKGeneration, so the router's FHK cache drops what it
	// derived from the old one) and restarts the reAuthTimer.
	a.authorizeLocked(src, authorization{nai: s.nai, expires: rec.Expires, reauthAt: a.cfg.reauthTime(now, life)})
	stored = true
	a.c.accepted.Add(1)
	a.cfg.Logger.Info("pae: authenticated", "mac", src.String(), "nai", s.nai, "lifetime", life)
	return a.frame(src, res.EAP)
}

// Tick sends the outstanding EAP-Request again to each supplicant silent
// for RetransmitInterval (RFC 3748 §4.3: the authenticator is responsible
// for retransmission), at most MaxRetransmissions times, ends the
// sessions that exhausted them or outlived SessionTimeout, restarts the
// MACs whose quiet period ended (endQuietLocked) and starts the
// re-authentications that are due (reauthLocked). A session whose
// Response is at the server waits for the backend's own timers.
func (a *Authenticator) Tick(now time.Time) []Frame {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Frame
	for m, s := range a.sessions {
		switch {
		case s.busy:
		case now.Sub(s.created) >= a.cfg.SessionTimeout, now.Sub(s.lastSent) >= a.cfg.RetransmitInterval && s.retrans >= a.cfg.MaxRetransmissions:
			a.endLocked(m, s, false)
			a.c.expired.Add(1)
		case now.Sub(s.lastSent) >= a.cfg.RetransmitInterval:
			s.retrans++
			s.lastSent = now
			a.c.retransmissions.Add(1)
			out = append(out, a.frame(m, s.lastReq)...)
		}
	}
	out = append(out, a.endQuietLocked(now)...)
	return append(out, a.reauthLocked(now)...)
}
