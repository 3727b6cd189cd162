package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
)

// Defaults and bounds of the Home Agent Controller configuration
// (docs/tls.md, "fhkey hac").
const (
	// DefaultHACSALifetime is the SA validity the HAC grants (§5.6.3).
	DefaultHACSALifetime = 24 * time.Hour
	// DefaultHACSessionTimeout bounds one MN's TLS connection.
	DefaultHACSessionTimeout = 30 * time.Second
	// DefaultHACHandshakeTimeout bounds its TLS handshake: two or three
	// round trips, seconds even on a slow access link; a connection that
	// does not finish it holds a session slot no longer than this.
	DefaultHACHandshakeTimeout = 10 * time.Second
	// DefaultHACMaxSessions bounds the open MN connections: one
	// descriptor, one goroutine and a TLS connection (12 KB before the
	// handshake, at most 35 KB after it, measured: docs/tls.md) each, so
	// 1024 descriptors and some 36 MiB at most, while a
	// PSK bootstrap lasts milliseconds and an EAP-TLS one a few hundred:
	// 1024 at once is thousands of bootstraps a second.
	DefaultHACMaxSessions = 1024
	// DefaultHACMaxTracked bounds the per-source buckets (hac.Limits).
	DefaultHACMaxTracked = 16384
	// DefaultHACMaxPerSource bounds the open connections of one source:
	// a bootstrap holds its connection for milliseconds (PSK) to a few
	// hundred (EAP-TLS), so 16 at once from one address or /64 is far
	// beyond what honest MNs behind it do within per_source's rate, while
	// a source that holds connections open (a TLS handshake never
	// finished, a slow exchange) keeps at most 16 of max_sessions' slots
	// instead of 2 × session_timeout + 10.
	DefaultHACMaxPerSource = 16
)

// DefaultHACPerSource is the per-source connection rate: an MN
// bootstraps once per SA lifetime (24 h by default) and retries with a
// back-off, so even hundreds of MNs behind one NAT address or one /64 stay
// far below 2 a second, and a burst of 10 covers a restart of several at
// once; the rate alone would let one source hold 2 x session_timeout + 10
// sessions (70 with the defaults), max_per_source bounds it (16).
var DefaultHACPerSource = Rate{PerSecond: 2, Burst: 10}

// HACLimits is the [limits] section (hac.Limits).
type HACLimits struct {
	// MaxSessions bounds the open MN connections.
	MaxSessions int
	// PerSource bounds new connections per source (an IPv4 address, an
	// IPv6 /64); PerSecond 0: unlimited.
	PerSource Rate
	// MaxTracked bounds the per-source buckets kept.
	MaxTracked int
	// MaxPerSource bounds the open connections of one source (0:
	// unlimited).
	MaxPerSource int
}

// HACRADIUS is a [[radius]] server the HAC relays EAP to (RFC 3579).
type HACRADIUS struct {
	Address    netip.AddrPort
	SecretFile string
}

// HACHomeAgent is the [home_agent] section: what the MN is told (§5.7.1,
// §5.7.2) and the HAC→HA channel (mutual TLS, docs/tls.md).
type HACHomeAgent struct {
	// Address and Port are sent to the MN (port 0: not sent, 7872).
	Address netip.Addr
	Port    uint16
	// Channel is the HA's channel address; ServerName the name in its
	// certificate, CAFile its CAs; CertificateFile and KeyFile the HAC's
	// client certificate.
	Channel                          string
	ServerName                       string
	CAFile, CertificateFile, KeyFile string
}

// HACConfig is the validated configuration of 'fhkey hac'.
type HACConfig struct {
	File string
	// Listen is the TLS (TCP) address MNs connect to.
	Listen netip.AddrPort
	// CertificateFile and KeyFile are the HAC's TLS server certificate
	// (from `fhkey pki` or any PEM) and key (mode 0600).
	CertificateFile, KeyFile string
	// TLSMinVersion is 1.2 or 1.3 (the maximum is 1.3).
	TLSMinVersion uint16
	// SessionTimeout bounds an MN's connection, HandshakeTimeout its TLS
	// handshake (at most SessionTimeout).
	SessionTimeout, HandshakeTimeout time.Duration
	Limits                           HACLimits
	// SubscribersPath is the bbolt file of the subscribers.
	SubscribersPath string
	RADIUS          []HACRADIUS
	HomeAgent       HACHomeAgent
	SALifetime      time.Duration
	CipherSuites    []mip6tls.CipherSuite
	DNS             netip.Addr
	Log             Log
	HTTP            HTTP

	lines map[string]int
}

type rawHAC struct {
	Listen         string `toml:"listen"`
	Certificate    string `toml:"certificate"`
	Key            string `toml:"key"`
	TLSMinVersion  string `toml:"tls_min_version"`
	SessionTimeout string `toml:"session_timeout"`
	Handshake      string `toml:"handshake_timeout"`
	Limits         struct {
		MaxSessions  *int     `toml:"max_sessions"`
		PerSource    *rawRate `toml:"per_source"`
		MaxTracked   *int     `toml:"max_tracked"`
		MaxPerSource *int     `toml:"max_per_source"`
	} `toml:"limits"`
	Subscribers struct {
		Path string `toml:"path"`
	} `toml:"subscribers"`
	RADIUS []struct {
		Address    string `toml:"address"`
		SecretFile string `toml:"secret_file"`
	} `toml:"radius"`
	HomeAgent struct {
		Address     string `toml:"address"`
		Port        int    `toml:"port"`
		Channel     string `toml:"channel"`
		ServerName  string `toml:"server_name"`
		CA          string `toml:"ca"`
		Certificate string `toml:"certificate"`
		Key         string `toml:"key"`
	} `toml:"home_agent"`
	SA struct {
		Lifetime     string   `toml:"lifetime"`
		CipherSuites []string `toml:"ciphersuites"`
		DNS          string   `toml:"dns"`
	} `toml:"security_associations"`
	Log  rawLog  `toml:"log"`
	HTTP rawHTTP `toml:"http"`
}

// LoadHAC reads and validates a Home Agent Controller configuration.
func LoadHAC(file string) (*HACConfig, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseHAC(file, data)
}

// ParseHAC validates data as a Home Agent Controller configuration read
// from file. The error, if any, is Problems with every problem found.
func ParseHAC(file string, data []byte) (*HACConfig, error) {
	var raw rawHAC
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &HACConfig{File: file, lines: c.lines}
	if ap, err := netip.ParseAddrPort(raw.Listen); err != nil || ap.Addr().Zone() != "" {
		c.addf("listen", ErrInvalid, "%q: want IP:PORT such as [2001:db8::10]:7872 (port 0: any free port)", raw.Listen)
	} else {
		cfg.Listen = ap
	}
	c.required("certificate", raw.Certificate)
	c.required("key", raw.Key)
	cfg.CertificateFile, cfg.KeyFile = resolve(dir, raw.Certificate), resolve(dir, raw.Key)
	cfg.TLSMinVersion = c.tlsVersion("tls_min_version", raw.TLSMinVersion, tls.VersionTLS12)
	cfg.SessionTimeout = c.duration("session_timeout", raw.SessionTimeout, DefaultHACSessionTimeout, time.Second, 10*time.Minute)
	cfg.HandshakeTimeout = c.duration("handshake_timeout", raw.Handshake, min(DefaultHACHandshakeTimeout, cfg.SessionTimeout), time.Second, 10*time.Minute)
	if cfg.HandshakeTimeout > cfg.SessionTimeout {
		c.addf("handshake_timeout", ErrInvalid, "%v: at most session_timeout (%v), which bounds the whole connection", cfg.HandshakeTimeout, cfg.SessionTimeout)
	}
	l := raw.Limits
	cfg.Limits = HACLimits{
		MaxSessions: c.intRange("limits.max_sessions", l.MaxSessions, DefaultHACMaxSessions, 1, 1<<20),
		PerSource:   c.rate("limits.per_source", l.PerSource, DefaultHACPerSource),
		MaxTracked:  c.intRange("limits.max_tracked", l.MaxTracked, DefaultHACMaxTracked, 1, 1<<24),
	}
	cfg.Limits.MaxPerSource = c.intRange("limits.max_per_source", l.MaxPerSource, min(DefaultHACMaxPerSource, cfg.Limits.MaxSessions), 0, cfg.Limits.MaxSessions)
	c.required("subscribers.path", raw.Subscribers.Path)
	cfg.SubscribersPath = resolve(dir, raw.Subscribers.Path)
	for i, r := range raw.RADIUS {
		k := fmt.Sprintf("radius[%d]", i)
		var s HACRADIUS
		if ap, err := netip.ParseAddrPort(r.Address); err != nil {
			c.addf(k+".address", ErrInvalid, "%q: want IP:PORT such as 127.0.0.1:1812", r.Address)
		} else {
			s.Address = ap
		}
		c.required(k+".secret_file", r.SecretFile)
		s.SecretFile = resolve(dir, r.SecretFile)
		cfg.RADIUS = append(cfg.RADIUS, s)
	}
	ha := raw.HomeAgent
	cfg.HomeAgent = HACHomeAgent{Address: c.unicast("home_agent.address", ha.Address), Channel: ha.Channel, ServerName: ha.ServerName}
	if ha.Port < 0 || ha.Port > 65535 {
		c.addf("home_agent.port", ErrInvalid, "%d: 1..65535, or 0 for the default 7872 (RFC 6618 §5.7.2)", ha.Port)
	} else {
		cfg.HomeAgent.Port = uint16(ha.Port)
	}
	if _, _, err := net.SplitHostPort(ha.Channel); err != nil || ha.Channel == "" {
		c.addf("home_agent.channel", ErrInvalid, "%q: want HOST:PORT of the HA's channel", ha.Channel)
	}
	c.required("home_agent.server_name", ha.ServerName)
	for _, f := range []struct {
		key, v string
		to     *string
	}{{"home_agent.ca", ha.CA, &cfg.HomeAgent.CAFile}, {"home_agent.certificate", ha.Certificate, &cfg.HomeAgent.CertificateFile}, {"home_agent.key", ha.Key, &cfg.HomeAgent.KeyFile}} {
		c.required(f.key, f.v)
		*f.to = resolve(dir, f.v)
	}
	sa := raw.SA
	cfg.SALifetime = c.duration("security_associations.lifetime", sa.Lifetime, DefaultHACSALifetime, time.Minute, 365*24*time.Hour)
	cfg.CipherSuites = c.cipherSuites("security_associations.ciphersuites", sa.CipherSuites)
	if sa.DNS != "" {
		cfg.DNS = c.unicast("security_associations.dns", sa.DNS)
	}
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// cipherSuites parses the HAC's preference: the §5.6.5 names
// ("AES_128_CBC_SHA256") or their values ("{00,3C}"); nil: the default.
func (c *collector) cipherSuites(key string, names []string) []mip6tls.CipherSuite {
	if names == nil {
		return nil
	}
	if len(names) == 0 {
		c.addf(key, ErrMissing, "at least one ciphersuite")
	}
	all := []mip6tls.CipherSuite{mip6tls.CipherSuiteAES128CBCSHA256, mip6tls.CipherSuiteAES128CBCSHA,
		mip6tls.CipherSuite3DESEDECBCSHA, mip6tls.CipherSuiteNullSHA256, mip6tls.CipherSuiteNullSHA}
	var out []mip6tls.CipherSuite
	for i, n := range names {
		k := fmt.Sprintf("%s[%d]", key, i)
		j := slices.IndexFunc(all, func(s mip6tls.CipherSuite) bool {
			return strings.EqualFold(n, s.String()) || strings.EqualFold(n, fmt.Sprintf("{%02X,%02X}", uint8(s>>8), uint8(s)))
		})
		switch {
		case j < 0:
			c.addf(k, ErrInvalid, "%q: want one of AES_128_CBC_SHA256, AES_128_CBC_SHA, 3DES_EDE_CBC_SHA, NULL_SHA256, NULL_SHA (RFC 6618 §5.6.5)", n)
		case slices.Contains(out, all[j]):
			c.addf(k, ErrInvalid, "%s listed twice", all[j])
		default:
			out = append(out, all[j])
		}
	}
	return out
}

// HACCredentials are the files of a HACConfig, loaded.
type HACCredentials struct {
	// Server is the HAC's TLS certificate; Channel its client
	// certificate for the HA channel, ChannelRoots the HA's CAs.
	Server, Channel tls.Certificate
	ChannelRoots    *x509.CertPool
	// RADIUSSecrets are the shared secrets, in RADIUS order.
	RADIUSSecrets [][]byte
}

// Open loads the certificates, keys (mode 0600) and secrets. Every
// problem is reported.
func (cfg *HACConfig) Open() (*HACCredentials, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	cr := &HACCredentials{}
	if kp, ok := c.keyPair("certificate", "key", cfg.CertificateFile, cfg.KeyFile); ok {
		cr.Server = kp
	}
	ha := cfg.HomeAgent
	if kp, ok := c.keyPair("home_agent.certificate", "home_agent.key", ha.CertificateFile, ha.KeyFile); ok {
		cr.Channel = kp
	}
	cr.ChannelRoots, _ = c.certPool("home_agent.ca", ha.CAFile)
	for i, r := range cfg.RADIUS {
		b, err := LoadSecret(r.SecretFile)
		if err != nil {
			c.add(fmt.Sprintf("radius[%d].secret_file", i), err)
		}
		cr.RADIUSSecrets = append(cr.RADIUSSecrets, b)
	}
	if err := c.ps.err(); err != nil {
		for _, s := range cr.RADIUSSecrets {
			clear(s)
		}
		return nil, err
	}
	return cr, nil
}

// CheckHAC validates file and the files it names (--check).
func CheckHAC(file string) error {
	cfg, err := LoadHAC(file)
	if err != nil {
		return err
	}
	cr, err := cfg.Open()
	if cr != nil {
		for _, s := range cr.RADIUSSecrets {
			clear(s)
		}
	}
	return err
}
