package config

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/pae"
)

// Defaults of the access router's [eap] section (docs/msk.md, "The access
// router daemon"): the authenticator's (internal/pae, docs/eap.md, "The
// authenticator").
const (
	DefaultEAPMaxSessions        = pae.DefaultMaxSessions
	DefaultEAPRetransmitInterval = pae.DefaultRetransmitInterval
	DefaultEAPMaxRetransmissions = pae.DefaultMaxRetransmissions
	DefaultEAPSessionTimeout     = pae.DefaultSessionTimeout
	// DefaultEAPMSKLifetime is the MSK's lifetime when the Access-Accept
	// carries no Session-Timeout (RFC 2865 §5.27).
	DefaultEAPMSKLifetime = pae.DefaultMSKLifetime
	// MaxEAPMSKLifetime bounds msk_lifetime: a day.
	MaxEAPMSKLifetime = 24 * time.Hour
	// DefaultEAPReauthFraction and DefaultEAPMinReauthPeriod time the
	// re-authentication of an authenticated supplicant (docs/eap.md,
	// Re-authentication); DefaultEAPQuietPeriod is IEEE 802.1X-2004's
	// quietPeriod (docs/eap.md, Quiet period).
	DefaultEAPReauthFraction  = pae.DefaultReauthFraction
	DefaultEAPMinReauthPeriod = pae.DefaultMinReauthPeriod
	DefaultEAPQuietPeriod     = pae.DefaultQuietPeriod
	// MinEAPMinReauthPeriod bounds min_reauth_period from below.
	MinEAPMinReauthPeriod = time.Second
	// MaxEAPQuietPeriod is quietPeriod's largest value in 802.1X-2004
	// (a 16-bit count of seconds).
	MaxEAPQuietPeriod = 65535 * time.Second
)

// AREAP is the [eap] section of ar.toml: the router is the IEEE 802.1X
// authenticator of its access link (internal/pae), relays EAP to RADIUS
// servers (RFC 3579) and keeps each NAI's MSK in its bbolt key store for
// the FBUs of the MSK mode (issue 12, docs/msk.md).
type AREAP struct {
	// Interfaces carry EAPOL (AF_PACKET, EtherType 0x888E, PAE group
	// address); default the router's interface.
	Interfaces []string
	// Servers are the RADIUS servers, tried in this order (failover) for
	// the first Access-Request of a session.
	Servers []RADIUSServer
	// Timeout and Tries are the RADIUS retransmission timer and count per
	// server; MaxPending bounds the Access-Requests waiting at once.
	Timeout    time.Duration
	Tries      int
	MaxPending int
	// NASIdentifier, when set, is sent as NAS-Identifier instead of the
	// router's address as NAS-IPv6-Address (RFC 2865 §4.1).
	NASIdentifier string
	// FramedMTU, when not 0, is sent as Framed-MTU (RFC 3579 §2.4).
	FramedMTU int
	// The authenticator's bounds and timers (pae.Config).
	MaxSessions        int
	RetransmitInterval time.Duration
	MaxRetransmissions int
	SessionTimeout     time.Duration
	// MSKLifetime is the MSK's lifetime when the Access-Accept has no
	// Session-Timeout.
	MSKLifetime time.Duration
	// Reauth re-authenticates each authenticated supplicant when
	// ReauthFraction of its MSK's lifetime has passed, at least
	// MinReauthPeriod after its authentication.
	Reauth          bool
	ReauthFraction  float64
	MinReauthPeriod time.Duration
	// QuietPeriod is how long a supplicant's MAC is ignored after an
	// Access-Reject; 0: not at all.
	QuietPeriod time.Duration
	// Algorithms are the ATs the router accepts in the FBU's
	// authenticator (docs/msk.md, Bidding down); default AT 1 only.
	Algorithms []hokey.AlgorithmType
}

type rawAREAP struct {
	Interfaces []string `toml:"interfaces"`
	Servers    []struct {
		Address    string `toml:"address"`
		SecretFile string `toml:"secret_file"`
	} `toml:"servers"`
	Timeout            string   `toml:"timeout"`
	Tries              *int     `toml:"tries"`
	MaxPending         *int     `toml:"max_pending"`
	NASIdentifier      string   `toml:"nas_identifier"`
	FramedMTU          *int     `toml:"framed_mtu"`
	MaxSessions        *int     `toml:"max_sessions"`
	RetransmitInterval string   `toml:"retransmit_interval"`
	MaxRetransmissions *int     `toml:"max_retransmissions"`
	SessionTimeout     string   `toml:"session_timeout"`
	MSKLifetime        string   `toml:"msk_lifetime"`
	Reauth             *bool    `toml:"reauth"`
	ReauthFraction     *float64 `toml:"reauth_fraction"`
	MinReauthPeriod    string   `toml:"min_reauth_period"`
	QuietPeriod        string   `toml:"quiet_period"`
	Algorithms         []string `toml:"algorithms"`
}

// arEAPSection validates [eap] of ar.toml; iface is the router's
// interface, store its [key_store].
func (c *collector) arEAPSection(r *rawAREAP, dir, iface string, store KeyStore) *AREAP {
	if r == nil {
		return nil
	}
	e := &AREAP{Interfaces: []string{iface}}
	if r.Interfaces != nil {
		e.Interfaces = nil
		if len(r.Interfaces) == 0 {
			c.addf("eap.interfaces", ErrMissing, "at least one interface required (leave it out to use interface)")
		}
		for i, s := range r.Interfaces {
			k := fmt.Sprintf("eap.interfaces[%d]", i)
			name := c.interfaceName(k, s)
			if slices.Contains(e.Interfaces, name) {
				c.addf(k, ErrInvalid, "%q listed twice", s)
			}
			e.Interfaces = append(e.Interfaces, name)
		}
	}
	if len(r.Servers) == 0 {
		c.addf("eap.servers", ErrMissing, "at least one server { address = \"IP:PORT\", secret_file = \"...\" } required")
	}
	for i, rs := range r.Servers {
		k := fmt.Sprintf("eap.servers[%d]", i)
		s := RADIUSServer{Address: c.radiusAddress(k+".address", rs.Address)}
		c.required(k+".secret_file", rs.SecretFile)
		s.SecretFile = resolve(dir, rs.SecretFile)
		if s.Address.IsValid() && slices.ContainsFunc(e.Servers, func(o RADIUSServer) bool { return o.Address == s.Address }) {
			c.addf(k+".address", ErrInvalid, "server %s listed twice", s.Address)
		}
		e.Servers = append(e.Servers, s)
	}
	e.Timeout = c.duration("eap.timeout", r.Timeout, DefaultRADIUSTimeout, 10*time.Millisecond, time.Minute)
	e.Tries = c.intRange("eap.tries", r.Tries, DefaultRADIUSTries, 1, 10)
	limit := RADIUSIdentifiers * max(1, len(r.Servers))
	e.MaxPending = c.intRange("eap.max_pending", r.MaxPending, min(RADIUSIdentifiers, limit), 1, limit)
	if len(r.NASIdentifier) > 253 {
		c.addf("eap.nas_identifier", ErrInvalid, "%d octets, at most 253", len(r.NASIdentifier))
	}
	e.NASIdentifier = r.NASIdentifier
	// RFC 3579 §2.4: Framed-MTU carries the link's EAP packet size; 1280
	// is IPv6's minimum, 1500 Ethernet's payload less nothing.
	e.FramedMTU = c.intRange("eap.framed_mtu", r.FramedMTU, 0, 64, 9000)
	e.MaxSessions = c.intRange("eap.max_sessions", r.MaxSessions, DefaultEAPMaxSessions, 1, 1<<20)
	e.RetransmitInterval = c.duration("eap.retransmit_interval", r.RetransmitInterval, DefaultEAPRetransmitInterval, 100*time.Millisecond, time.Minute)
	e.MaxRetransmissions = c.intRange("eap.max_retransmissions", r.MaxRetransmissions, DefaultEAPMaxRetransmissions, 1, 20)
	e.SessionTimeout = c.duration("eap.session_timeout", r.SessionTimeout, DefaultEAPSessionTimeout, time.Second, 10*time.Minute)
	e.MSKLifetime = c.duration("eap.msk_lifetime", r.MSKLifetime, DefaultEAPMSKLifetime, time.Minute, MaxEAPMSKLifetime)
	e.Reauth = r.Reauth == nil || *r.Reauth
	e.ReauthFraction = DefaultEAPReauthFraction
	if r.ReauthFraction != nil {
		if f := *r.ReauthFraction; f > 0 && f < 1 {
			e.ReauthFraction = f
		} else {
			c.addf("eap.reauth_fraction", ErrInvalid, "%v: want a fraction of the MSK lifetime, 0 < f < 1, such as 0.8", f)
		}
	}
	e.MinReauthPeriod = c.duration("eap.min_reauth_period", r.MinReauthPeriod, DefaultEAPMinReauthPeriod, MinEAPMinReauthPeriod, MaxEAPMSKLifetime)
	e.QuietPeriod = c.duration("eap.quiet_period", r.QuietPeriod, DefaultEAPQuietPeriod, 0, MaxEAPQuietPeriod)
	if r.Algorithms == nil {
		e.Algorithms = []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}
	} else {
		if len(r.Algorithms) == 0 {
			c.addf("eap.algorithms", ErrMissing, "at least one algorithm type required")
		}
		e.Algorithms = c.algorithms("eap.algorithms", r.Algorithms)
	}
	// The MSKs are kept in the key store's bbolt file, so that a restart
	// keeps them (issue 12); a memory store has no file to keep them in.
	if store.Type != KeyStoreBolt {
		c.addf("key_store.type", ErrInvalid, "%q with [eap]: the MSKs are kept in the bbolt key store (type = %q)", store.Type, KeyStoreBolt)
	}
	return e
}

// radiusAddress parses a RADIUS server's IP:PORT (no zone), IPv4-mapped
// addresses unmapped.
func (c *collector) radiusAddress(key, s string) netip.AddrPort {
	if s == "" {
		c.addf(key, ErrMissing, "required")
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		c.addf(key, ErrInvalid, "%q: want IP:PORT such as 127.0.0.1:1812 or [2001:db8::53]:1812", s)
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// loadEAPSecrets reads the secret file of every [eap] server (LoadSecret:
// mode 0600 or stricter).
func (c *collector) loadEAPSecrets(e *AREAP) map[netip.AddrPort][]byte {
	if e == nil {
		return nil
	}
	out := map[netip.AddrPort][]byte{}
	for i, s := range e.Servers {
		if s.SecretFile == "" {
			continue
		}
		b, err := LoadSecret(s.SecretFile)
		if err != nil {
			c.add(fmt.Sprintf("eap.servers[%d].secret_file", i), err)
			continue
		}
		out[s.Address] = b
	}
	return out
}
