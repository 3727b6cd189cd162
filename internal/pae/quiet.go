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
// (quietWhile not yet 0); an ended period is forgotten.
func (a *Authenticator) quietLocked(src MAC, now time.Time) bool {
	until, ok := a.quiet[src]
	if !ok {
		return false
	}
	if !now.Before(until) {
		delete(a.quiet, src)
		return false
	}
	return true
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

// expireQuietLocked forgets the quiet periods ended at now (Tick).
func (a *Authenticator) expireQuietLocked(now time.Time) {
	for m, until := range a.quiet {
		if !now.Before(until) {
			delete(a.quiet, m)
		}
	}
}
