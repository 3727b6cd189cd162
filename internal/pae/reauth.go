package pae

import (
	"time"

	"github.com/fhkey/fhkey/internal/eap"
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
