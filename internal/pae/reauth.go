package pae

import (
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/keystore"
)

// Re-authentication (IEEE 802.1X-2004 §8.2.4, reAuthTimer: "reAuthPeriod
// ... the number of seconds between periodic reauthentication"). The
// standard's reAuthPeriod is one constant (3600 s); here it follows each
// MSK's lifetime, the RADIUS Session-Timeout (RFC 2865 §5.27), so that a
// supplicant staying on the link gets a new MSK before the old one
// expires (docs/eap.md, "Re-authentication"). Config.ReauthFraction and
// Config.MinReauthPeriod override these defaults; Config.DisableReauth
// turns it off.
const (
	// DefaultReauthFraction of the MSK lifetime passes before the
	// authenticator re-authenticates the supplicant.
	DefaultReauthFraction = 0.8
	// DefaultMinReauthPeriod is the shortest time between an
	// authentication and the next re-authentication; an MSK living less
	// than that is not renewed (it expires, and the supplicant
	// authenticates again with an EAPOL-Start when it needs to).
	DefaultMinReauthPeriod = time.Minute
)

// authorization is what the authenticator remembers of an authenticated
// MAC address.
type authorization struct {
	nai      string
	expires  time.Time // of the stored MSK
	reauthAt time.Time // zero: no re-authentication planned
}

// authorizeLocked remembers au for src, forgetting an arbitrary other
// MAC if the map is full (maxAuthorizedFactor).
func (a *Authenticator) authorizeLocked(src MAC, au authorization) {
	if _, ok := a.authorized[src]; !ok && len(a.authorized) >= maxAuthorizedFactor*a.cfg.MaxSessions {
		for m := range a.authorized {
			delete(a.authorized, m)
			break
		}
	}
	a.authorized[src] = au
}

// Authorization is a supplicant authenticated by an earlier run of the
// authenticator (before an AR restart), as the MSK store keeps it
// (keystore.MSKHolder).
type Authorization struct {
	MAC MAC
	NAI string
	// Authenticated is when its MSK was stored; zero: unknown (a
	// record written before it was kept).
	Authenticated time.Time
	Expires       time.Time
}

// Authorizations selects from the MSK store's holders
// (keystore.MSKs.Holders) the ones stored by the authenticator of port
// (Config.Port), and those with no port recorded (written before ports
// were kept: every authenticator takes them, and on a router with
// several interfaces the ones whose supplicant is elsewhere fail their
// re-authentication after the retransmissions, MSK kept).
func Authorizations(holders []keystore.MSKHolder, port string) []Authorization {
	var out []Authorization
	for _, h := range holders {
		if h.Port == port || h.Port == "" {
			out = append(out, Authorization{MAC: h.MAC, NAI: h.NAI, Authenticated: h.Authenticated, Expires: h.Expires})
		}
	}
	return out
}

// Restore rebuilds the re-authentication timers of authorizations an
// earlier run made (the MSKs a restarted AR loads from its key store,
// whose timers lived in the memory of the process that stopped), so
// that each supplicant still on the link is re-authenticated at the
// time planned when it authenticated: Authenticated plus the
// re-authentication period of the lifetime Expires − Authenticated
// (reauthTime, with this Config's fraction and minimum). A time that
// passed while the AR was down, or an unknown Authenticated, is due at
// the first Tick. Authorizations expired at now are skipped; one the
// authenticator already holds for the MAC (authenticated since it
// started) is kept. Restored MACs can also log off (their MSK is then
// deleted). It returns how many it took.
func (a *Authenticator) Restore(list []Authorization, now time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range list {
		if !now.Before(r.Expires) || r.NAI == "" {
			continue
		}
		if _, ok := a.authorized[r.MAC]; ok {
			continue
		}
		au := authorization{nai: r.NAI, expires: r.Expires}
		switch {
		case a.cfg.DisableReauth:
		case r.Authenticated.IsZero() || !r.Authenticated.Before(r.Expires):
			// Decision: the lifetime is unknown; renew now rather
			// than let the MSK expire under the supplicant.
			au.reauthAt = now
		default:
			au.reauthAt = a.cfg.reauthTime(r.Authenticated, r.Expires.Sub(r.Authenticated))
		}
		a.authorizeLocked(r.MAC, au)
		n++
	}
	a.c.restored.Add(uint64(n))
	return n
}

// reauthTime is when an MSK stored at now with lifetime life is
// renewed: ReauthFraction of life, at least MinReauthPeriod; zero if
// that falls at or after its expiry, or if re-authentication is off.
func (c *Config) reauthTime(now time.Time, life time.Duration) time.Time {
	if c.DisableReauth {
		return time.Time{}
	}
	period := max(time.Duration(c.ReauthFraction*float64(life)), c.MinReauthPeriod)
	if period >= life {
		return time.Time{}
	}
	return now.Add(period)
}

// reauthLocked starts the due re-authentications: an EAP-Request/Identity
// to each authorized MAC whose reauthAt passed and that has no session
// (802.1X-2004 §8.2.4: reAuthTimer → REAUTHENTICATE → CONNECTING). The
// new session is a normal one, bounded by MaxSessions and the creation
// rate; when either refuses, the MAC is tried again at the next tick.
// One attempt per MSK: on failure the old MSK stays until it expires.
// Authorizations whose MSK expired are forgotten.
func (a *Authenticator) reauthLocked(now time.Time) []Frame {
	var out []Frame
	for m, au := range a.authorized {
		switch {
		case !now.Before(au.expires):
			delete(a.authorized, m)
		case au.reauthAt.IsZero() || now.Before(au.reauthAt) || a.sessions[m] != nil || a.quietLocked(m, now):
		case len(a.sessions) >= a.cfg.MaxSessions || !a.creation.allow(a.cfg.NewSessions, now):
		default:
			au.reauthAt = time.Time{}
			a.authorized[m] = au
			s := &session{reauth: true}
			s.rate.allow(a.cfg.PerSupplicant, now)
			a.sessions[m] = s
			out = append(out, a.requestIdentityLocked(m, s, now)...)
		}
	}
	return out
}

// requestIdentityLocked (re)starts s, src's session, with a new
// EAP-Request/Identity (RFC 3748 §5.1).
func (a *Authenticator) requestIdentityLocked(src MAC, s *session, now time.Time) []Frame {
	a.c.started.Add(1)
	a.nextID++
	*s = session{created: now, lastActive: now, lastSent: now, rate: s.rate, reqID: a.nextID, reauth: s.reauth}
	s.lastReq, _ = eap.Packet{Code: eap.CodeRequest, Identifier: s.reqID, Type: eap.TypeIdentity}.Marshal()
	return a.frame(src, s.lastReq)
}

// endLocked ends src's session s; a re-authentication counts as
// succeeded if ok, failed otherwise.
func (a *Authenticator) endLocked(src MAC, s *session, ok bool) {
	delete(a.sessions, src)
	if !s.reauth {
		return
	}
	if ok {
		a.c.reauthOK.Add(1)
	} else {
		a.c.reauthFailed.Add(1)
	}
}
