package pae

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/keystore"
)

// Defaults of Config (docs/eap.md, "The authenticator"). 802.1X-2010
// leaves the EAP timers to the EAP layer; these follow RFC 3748 §4.3 (the
// authenticator retransmits Requests, "a maximum of 3-5
// retransmissions is suggested") and hostapd's defaults.
const (
	DefaultMaxSessions        = 1024
	DefaultRetransmitInterval = 3 * time.Second
	DefaultMaxRetransmissions = 4
	DefaultSessionTimeout     = 60 * time.Second
	// DefaultMSKLifetime is the MSK's lifetime when the Access-Accept
	// carries no Session-Timeout (RFC 2865 §5.27).
	DefaultMSKLifetime = time.Hour
	// MaxIdentityLen is the longest EAP Identity taken as an NAI: what
	// a RADIUS User-Name carries (RFC 2865 §5.1, 253 octets).
	MaxIdentityLen = 253
)

// Default rates: a supplicant needs a few frames per round trip; an
// access link sees a few new supplicants per second.
var (
	DefaultPerSupplicant = Rate{PerSecond: 20, Burst: 40}
	DefaultNewSessions   = Rate{PerSecond: 50, Burst: 100}
)

// MSKStore keeps the MSK of each NAI (keystore.MSKs).
type MSKStore interface {
	Put(r keystore.MSKRecord) error
	Delete(nai string) error
}

// Config configures an Authenticator. Zero durations and counts take the
// defaults above.
type Config struct {
	// Backend relays EAP to the authentication server; required.
	Backend Backend
	// Store receives the MSK of each authenticated NAI; required.
	Store MSKStore
	// MaxSessions bounds the supplicants in authentication at once;
	// when full, a new one evicts the least recently active session not
	// waiting for the server, or is refused if all are.
	MaxSessions int
	// RetransmitInterval is how long a supplicant may stay silent after
	// an EAP-Request before it is sent again, MaxRetransmissions times
	// at most; then the session ends.
	RetransmitInterval time.Duration
	MaxRetransmissions int
	// SessionTimeout bounds one authentication from EAPOL-Start (or the
	// first Identity Request) to Success or Failure.
	SessionTimeout time.Duration
	// MSKLifetime is the MSK's lifetime when the Access-Accept has no
	// Session-Timeout.
	MSKLifetime time.Duration
	// ReauthFraction (0 < f < 1) of an MSK's lifetime passes before the
	// supplicant is re-authenticated, at least MinReauthPeriod after
	// the authentication (zero: DefaultReauthFraction,
	// DefaultMinReauthPeriod); DisableReauth turns re-authentication
	// off (reauth.go).
	ReauthFraction  float64
	MinReauthPeriod time.Duration
	DisableReauth   bool
	// Port names the authenticator's interface in each MSKRecord it
	// stores (at most keystore.MaxMSKPortLen octets), so that after a
	// restart each authenticator restores its own supplicants (Restore).
	Port string
	// QuietPeriod is how long a MAC whose authentication was rejected
	// is ignored (IEEE 802.1X-2004 §8.2.4.1.2 quietWhile); zero:
	// DefaultQuietPeriod, negative: none.
	QuietPeriod time.Duration
	// PerSupplicant limits the EAPOL frames taken from one MAC address,
	// NewSessions the sessions created (zero Rate: the default).
	PerSupplicant, NewSessions Rate
	// Version is the EAPOL Protocol Version sent (default 2,
	// 802.1X-2004, which every supplicant accepts).
	Version eap.EAPOLVersion
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger logs session outcomes (never keys); nil discards.
	Logger *slog.Logger
}

func (c *Config) withDefaults() (Config, error) {
	o := *c
	if o.Backend == nil || o.Store == nil {
		return o, errors.New("pae: Config needs a Backend and a Store")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxSessions, DefaultMaxSessions)
	def(&o.MaxRetransmissions, DefaultMaxRetransmissions)
	defd(&o.RetransmitInterval, DefaultRetransmitInterval)
	defd(&o.SessionTimeout, DefaultSessionTimeout)
	defd(&o.MSKLifetime, DefaultMSKLifetime)
	if len(o.Port) > keystore.MaxMSKPortLen {
		return o, fmt.Errorf("pae: Config.Port %q: at most %d octets", o.Port, keystore.MaxMSKPortLen)
	}
	if o.ReauthFraction == 0 {
		o.ReauthFraction = DefaultReauthFraction
	}
	if !(o.ReauthFraction > 0 && o.ReauthFraction < 1) {
		return o, fmt.Errorf("pae: Config.ReauthFraction %v: want 0 < f < 1", o.ReauthFraction)
	}
	defd(&o.MinReauthPeriod, DefaultMinReauthPeriod)
	if o.QuietPeriod == 0 {
		o.QuietPeriod = DefaultQuietPeriod
	}
	if o.PerSupplicant == (Rate{}) {
		o.PerSupplicant = DefaultPerSupplicant
	}
	if o.NewSessions == (Rate{}) {
		o.NewSessions = DefaultNewSessions
	}
	if o.Version == 0 {
		o.Version = eap.EAPOLVersion2004
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Rate is a token bucket: PerSecond tokens a second, up to Burst.
type Rate struct {
	PerSecond float64
	Burst     int
}

// tokens is one token bucket's state.
type tokens struct {
	level float64
	at    time.Time
}

// allow takes one token at now, refilling first.
func (t *tokens) allow(r Rate, now time.Time) bool {
	if t.at.IsZero() {
		t.level = float64(r.Burst)
	} else if d := now.Sub(t.at); d > 0 {
		t.level = min(float64(r.Burst), t.level+d.Seconds()*r.PerSecond)
	}
	t.at = now
	if t.level < 1 {
		return false
	}
	t.level--
	return true
}
