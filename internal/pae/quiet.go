package pae

import "time"

// Quiet period (IEEE 802.1X-2004 §8.2.4.1.2, quietWhile; §8.2.4.1.3,
// quietPeriod, default 60 s): after a failed authentication the
// authenticator PAE of the port sits in HELD and takes nothing from the
// supplicant until quietWhile runs out. On a shared access link the
// "port" is the supplicant's MAC address, so a MAC whose authentication
// the server rejected has its EAPOL-Starts and EAP-Responses dropped
// (Stats.Quiet) for QuietPeriod: a supplicant with wrong credentials
// cannot make the AR run EAP-TLS exchanges with the RADIUS server back
// to back (docs/eap.md, "Quiet period").
const DefaultQuietPeriod = 60 * time.Second

// maxQuiet bounds the MACs in their quiet period: an attacker cycling
// MAC addresses creates one entry per Access-Reject (each needs a
// session, so at most NewSessions a second), and beyond the bound the
// entry ending first is dropped (that MAC may start again early), as
// the session table evicts its least recently active session.
func (a *Authenticator) maxQuiet() int { return maxAuthorizedFactor * a.cfg.MaxSessions }

// quietLocked reports whether src is in its quiet period at now
// (quietWhile not yet 0). Ended periods are forgotten by Tick
// (endQuietLocked), which restarts their MACs.
func (a *Authenticator) quietLocked(src MAC, now time.Time) bool {
	until, ok := a.quiet[src]
	return ok && now.Before(until)
}

// holdLocked starts src's quiet period at now (802.1X-2004 HELD:
// quietWhile = quietPeriod), unless QuietPeriod is negative (none).
func (a *Authenticator) holdLocked(src MAC, now time.Time) {
	if a.cfg.QuietPeriod < 0 {
		return
	}
	if _, ok := a.quiet[src]; !ok && len(a.quiet) >= a.maxQuiet() {
		var victim MAC
		var first time.Time
		for m, until := range a.quiet {
			if first.IsZero() || until.Before(first) {
				victim, first = m, until
			}
		}
		delete(a.quiet, victim)
		a.c.quietEvicted.Add(1)
	}
	a.quiet[src] = now.Add(a.cfg.QuietPeriod)
}

// endQuietLocked forgets the quiet periods ended at now (Tick) and
// restarts the authentication of each of their MACs that has no session
// with an EAP-Request/Identity, as 802.1X-2004's authenticator PAE does:
// HELD → (quietWhile = 0) → RESTART (eapRestart: the EAP authenticator
// starts over with an Identity Request, RFC 4137) → CONNECTING. Not
// waiting for an EAPOL-Start matters: the supplicant PAE holds for its
// own heldPeriod (802.1X-2004 §8.2.11, 60 s like quietPeriod) from the
// EAP-Failure, and wpa_supplicant's Start at its end can arrive just
// before ours (its timers tick whole seconds; eapol_supp_sm.c), be
// dropped, and hold it another heldPeriod; in HELD it answers a
// Request/Identity (HELD → RESTART on eapolEap). The session is a normal
// one, bounded by MaxSessions and the creation rate (when either
// refuses, nothing is sent: the supplicant may still Start), a
// re-authentication if the MAC holds an MSK (docs/eap.md, "Quiet
// period").
func (a *Authenticator) endQuietLocked(now time.Time) []Frame {
	var out []Frame
	for m, until := range a.quiet {
		if now.Before(until) {
			continue
		}
		delete(a.quiet, m)
		if a.sessions[m] != nil || len(a.sessions) >= a.cfg.MaxSessions || !a.creation.allow(a.cfg.NewSessions, now) {
			continue
		}
		s := &session{}
		if au, ok := a.authorized[m]; ok {
			s.reauth = true
			au.reauthAt = time.Time{}
			a.authorized[m] = au
		}
		s.rate.allow(a.cfg.PerSupplicant, now)
		a.sessions[m] = s
		a.c.quietRestarts.Add(1)
		out = append(out, a.requestIdentityLocked(m, s, now)...)
	}
	return out
}
