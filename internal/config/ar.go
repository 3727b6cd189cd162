package config

import (
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/hokey"
)

// Defaults and bounds of the access router configuration.
const (
	// DefaultKeyLifetime is HK-LIFETIME (RFC 5269 §3.7: 12 hours).
	DefaultKeyLifetime = 12 * time.Hour
	// MaxKeyLifetime is the largest Key Lifetime field value, 65535 s
	// (RFC 5269 §4.2: 16 bits, in seconds).
	MaxKeyLifetime = 65535 * time.Second
	// DefaultForwardingLifetime is how long the PAR forwards for a
	// previous CoA after an FBU; RFC 5568 leaves it to the implementation
	// and internal/ar uses 10 s.
	DefaultForwardingLifetime = 10 * time.Second
	// DefaultMaxCPARate is MAX_CPA_RATE (RFC 3971 §10.1).
	DefaultMaxCPARate = 10
)

// Rate is a token bucket: PerSecond tokens a second up to Burst. A zero
// PerSecond means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Limits bound the SEND work of the access router (RFC 5269 §5, RFC 3971
// §11.2); they map one to one onto ar.Limits.
type Limits struct {
	PerSource        Rate // per IPv6 source address
	PerKey           Rate // per CGA public key
	Total            Rate // all RSA work of the router
	UnsecuredReplies Rate // answers without a key to failed solicitations
	MaxTracked       int  // per-source and per-key buckets kept
}

// DefaultLimits are the limits used for keys left out; the same values as
// ar.DefaultLimits.
var DefaultLimits = Limits{
	PerSource:        Rate{PerSecond: 2, Burst: 5},
	PerKey:           Rate{PerSecond: 2, Burst: 5},
	Total:            Rate{PerSecond: 500, Burst: 100},
	UnsecuredReplies: Rate{PerSecond: 10, Burst: 10},
	MaxTracked:       4096,
}

// Forwarding is the [forwarding] section: the PAR's PCoA → NCoA tunnel
// (RFC 5568 §4, §6.2.2; internal/forward).
type Forwarding struct {
	// Lifetime is the forwarding lifetime granted in FBacks.
	Lifetime time.Duration
	// Enabled turns on the user-space tunnel (a TUN device); off, bindings
	// are only recorded.
	Enabled bool
	// TUN is the TUN device name ("" lets the kernel number "fhkfw%d").
	TUN string
	// MTU of the TUN device (0: the forward package's default).
	MTU int
	// HopLimit of the tunnel header (0: the forward package's default).
	HopLimit uint8
	// Source is the tunnel header's source, the PAR's global address on
	// the MN's link (RFC 5568 §4); invalid means the router's CGA.
	Source netip.Addr
}

// Neighbor is a neighboring access router advertised in PrRtAdvs (RFC
// 5568 §6.1.2): the access point it serves, its link-layer address, IP
// address and prefix.
type Neighbor struct {
	AccessPoint      []byte
	LinkLayerAddress []byte
	Address          netip.Addr
	Prefix           netip.Prefix
}

// ARConfig is the validated configuration of 'fhkey ar'.
type ARConfig struct {
	// File is the configuration file it was read from.
	File string
	// Interface is the access link the router serves (RtSolPr in, PrRtAdv
	// out, FBUs in).
	Interface string
	// KeyFile is the router's RSA private key (PEM); CGAFile the output of
	// 'fhkey cga gen --json' for it: the router's CGA on the link and its
	// CGA Parameters (RFC 3972 §3).
	KeyFile, CGAFile string
	// CertificateFile holds the router's certification path in PEM, the
	// router certificate first, then the CA certificates towards the trust
	// anchor (the order of TLS chain files); the anchor may be left out.
	CertificateFile string
	// TrustAnchorFiles hold the trust anchors the path chains to (RFC 3971
	// §6.5), used to check the path and to answer CPS (§6.4).
	TrustAnchorFiles []string
	// Address is the router's global address on the access link when it
	// has no SEND credentials (an AAA-only router): the AR ID of its
	// handover keys, where MNs send HKReqs and FBUs. With SEND it is the
	// CGA's address (CGAFile) and this is the zero Addr.
	Address netip.Addr
	// Prefixes are the prefixes the router serves; its certificate must
	// authorize each one (RFC 3971 §6.3.1).
	Prefixes []netip.Prefix
	// Algorithms are the supported ATs in preference order (RFC 5269
	// §3.2); default all of hokey.Supported(), strongest first.
	Algorithms []hokey.AlgorithmType
	// KeyLifetime is HK-LIFETIME (RFC 5269 §3.7).
	KeyLifetime time.Duration
	Forwarding  Forwarding
	Limits      Limits
	Neighbors   []Neighbor
	SEND        SEND
	// MaxCPARate is MAX_CPA_RATE (RFC 3971 §10.1), CPAs a second.
	MaxCPARate int
	KeyStore   KeyStore
	// AAA is the [aaa] section: the shared-key mode beside (or, without
	// SEND credentials, instead of) SEND; nil when absent.
	AAA *ARAAA
	// EAP is the [eap] section: the router is the 802.1X authenticator of
	// its access link, for the MSK mode (docs/msk.md); nil when absent.
	EAP  *AREAP
	Log  Log
	HTTP HTTP

	lines map[string]int
}

// SENDEnabled reports whether the router has SEND credentials and serves
// RtSolPr/PrRtAdv provisioning and CPS; false only for a router of the
// AAA or MSK mode without them.
func (cfg *ARConfig) SENDEnabled() bool {
	return cfg.KeyFile != "" || (cfg.AAA == nil && cfg.EAP == nil)
}

// RouterAddress is the router's address on the access link, the AR ID:
// Address, or the CGA's for a SEND router (cr from Open).
func (cfg *ARConfig) RouterAddress(cr *ARCredentials) netip.Addr {
	if cr != nil && cr.CGA != nil {
		return cr.CGA.Address
	}
	return cfg.Address
}

type rawRate struct {
	Rate  *float64 `toml:"rate"`
	Burst *int     `toml:"burst"`
}

type rawAR struct {
	Interface    string   `toml:"interface"`
	Address      string   `toml:"address"`
	Key          string   `toml:"key"`
	CGA          string   `toml:"cga"`
	Certificates string   `toml:"certificates"`
	TrustAnchors []string `toml:"trust_anchors"`
	Prefixes     []string `toml:"prefixes"`

	HandoverKeys struct {
		Algorithms []string `toml:"algorithms"`
		Lifetime   string   `toml:"lifetime"`
	} `toml:"handover_keys"`
	Forwarding struct {
		Lifetime string `toml:"lifetime"`
		Enabled  bool   `toml:"enabled"`
		TUN      string `toml:"tun"`
		MTU      *int   `toml:"mtu"`
		HopLimit *int   `toml:"hop_limit"`
		Source   string `toml:"source"`
	} `toml:"forwarding"`
	RateLimit struct {
		PerSource        *rawRate `toml:"per_source"`
		PerKey           *rawRate `toml:"per_key"`
		Total            *rawRate `toml:"total"`
		UnsecuredReplies *rawRate `toml:"unsecured_replies"`
		MaxTracked       *int     `toml:"max_tracked"`
	} `toml:"rate_limit"`
	Neighbors []struct {
		AccessPoint      string `toml:"access_point"`
		LinkLayerAddress string `toml:"link_layer_address"`
		Address          string `toml:"address"`
		Prefix           string `toml:"prefix"`
	} `toml:"neighbor"`
	SEND struct {
		rawSEND
		MaxCPARate *int `toml:"max_cpa_rate"`
	} `toml:"send"`
	KeyStore rawKeyStore `toml:"key_store"`
	AAA      *rawARAAA   `toml:"aaa"`
	EAP      *rawAREAP   `toml:"eap"`
	Log      rawLog      `toml:"log"`
	HTTP     rawHTTP     `toml:"http"`
}

// LoadAR reads and validates the access router configuration file. It does
// not open the files the configuration names; Open does.
func LoadAR(file string) (*ARConfig, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseAR(file, data)
}

// ParseAR validates data as an access router configuration read from file
// (used in messages and to resolve relative names). The error, if any, is
// Problems with every problem found.
func ParseAR(file string, data []byte) (*ARConfig, error) {
	var raw rawAR
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &ARConfig{File: file, lines: c.lines}
	cfg.Interface = c.interfaceName("interface", raw.Interface)
	// An AAA-only (docs/aaa.md) or MSK-only (docs/msk.md) router: [aaa]
	// or [eap], and none of the SEND credentials. It has a plain address
	// instead of a CGA.
	aaaOnly := (raw.AAA != nil || raw.EAP != nil) && raw.Key == "" && raw.CGA == "" && raw.Certificates == "" && raw.TrustAnchors == nil
	if aaaOnly {
		if raw.Address == "" {
			c.addf("address", ErrMissing, "required without SEND credentials: the router's global address on the access link (the AR ID)")
		} else if a := c.unicast("address", raw.Address); a.IsValid() {
			if a.IsLinkLocalUnicast() || a.IsLoopback() {
				c.addf("address", ErrInvalid, "%s: want a global address: the FBU comes from another link (AR ID, §6.1.2)", a)
			} else {
				cfg.Address = a
			}
		}
		for _, k := range []string{"send", "neighbor"} {
			if c.hasTable(k) {
				c.addf(k, ErrInvalid, "set, but the router has no SEND credentials (key, cga, certificates, trust_anchors): it sends no PrRtAdv")
			}
		}
	} else {
		if raw.Address != "" {
			c.addf("address", ErrInvalid, "set, but the router's address is its CGA (cga); address is for routers without SEND credentials")
		}
		c.required("key", raw.Key)
		c.required("cga", raw.CGA)
		c.required("certificates", raw.Certificates)
		cfg.KeyFile = resolve(dir, raw.Key)
		cfg.CGAFile = resolve(dir, raw.CGA)
		cfg.CertificateFile = resolve(dir, raw.Certificates)
		cfg.TrustAnchorFiles = c.files("trust_anchors", raw.TrustAnchors, dir, 1)
	}

	if len(raw.Prefixes) == 0 {
		c.addf("prefixes", ErrMissing, "at least one prefix required")
	}
	for i, s := range raw.Prefixes {
		k := fmt.Sprintf("prefixes[%d]", i)
		p := c.prefix(k, s)
		if !p.IsValid() {
			continue
		}
		if slices.Contains(cfg.Prefixes, p) {
			c.addf(k, ErrInvalid, "%s listed twice", p)
		}
		cfg.Prefixes = append(cfg.Prefixes, p)
	}
	if cfg.Address.IsValid() && len(cfg.Prefixes) > 0 && !slices.ContainsFunc(cfg.Prefixes, func(p netip.Prefix) bool { return p.Contains(cfg.Address) }) {
		c.addf("address", ErrInvalid, "%s is in none of prefixes: it must be the router's address on the access link", cfg.Address)
	}

	hk := raw.HandoverKeys
	if hk.Algorithms == nil {
		cfg.Algorithms = slices.Clone(hokey.Supported())
		slices.Reverse(cfg.Algorithms) // strongest first
	} else {
		if len(hk.Algorithms) == 0 {
			c.addf("handover_keys.algorithms", ErrMissing, "at least one algorithm type required")
		}
		cfg.Algorithms = c.algorithms("handover_keys.algorithms", hk.Algorithms)
	}
	cfg.KeyLifetime = c.duration("handover_keys.lifetime", hk.Lifetime, DefaultKeyLifetime, time.Second, MaxKeyLifetime)

	fw := raw.Forwarding
	cfg.Forwarding.Lifetime = c.duration("forwarding.lifetime", fw.Lifetime, DefaultForwardingLifetime, time.Second, MaxKeyLifetime)
	cfg.Forwarding.Enabled = fw.Enabled
	if fw.TUN != "" {
		cfg.Forwarding.TUN = c.interfaceName("forwarding.tun", fw.TUN)
	}
	if fw.MTU != nil {
		cfg.Forwarding.MTU = c.intRange("forwarding.mtu", fw.MTU, 0, 1280, 65535)
	}
	cfg.Forwarding.HopLimit = uint8(c.intRange("forwarding.hop_limit", fw.HopLimit, 0, 1, 255))
	if fw.Source != "" {
		cfg.Forwarding.Source = c.unicast("forwarding.source", fw.Source)
	}

	rl := raw.RateLimit
	cfg.Limits.PerSource = c.rate("rate_limit.per_source", rl.PerSource, DefaultLimits.PerSource)
	cfg.Limits.PerKey = c.rate("rate_limit.per_key", rl.PerKey, DefaultLimits.PerKey)
	cfg.Limits.Total = c.rate("rate_limit.total", rl.Total, DefaultLimits.Total)
	cfg.Limits.UnsecuredReplies = c.rate("rate_limit.unsecured_replies", rl.UnsecuredReplies, DefaultLimits.UnsecuredReplies)
	cfg.Limits.MaxTracked = c.intRange("rate_limit.max_tracked", rl.MaxTracked, DefaultLimits.MaxTracked, 1, 1<<24)

	for i, n := range raw.Neighbors {
		k := fmt.Sprintf("neighbor[%d]", i)
		var nb Neighbor
		if n.AccessPoint == "" {
			c.addf(k+".access_point", ErrMissing, "required")
		} else if ap, err := parseLinkLayer(n.AccessPoint); err != nil {
			c.addf(k+".access_point", ErrInvalid, "%q: want hex octets such as 02:00:00:00:00:01", n.AccessPoint)
		} else {
			nb.AccessPoint = ap
		}
		if n.LinkLayerAddress != "" {
			if lla, err := parseLinkLayer(n.LinkLayerAddress); err != nil {
				c.addf(k+".link_layer_address", ErrInvalid, "%q: want hex octets such as 02:00:00:00:00:02", n.LinkLayerAddress)
			} else {
				nb.LinkLayerAddress = lla
			}
		}
		if n.Address == "" {
			c.addf(k+".address", ErrMissing, "required")
		} else {
			nb.Address = c.unicast(k+".address", n.Address)
		}
		if n.Prefix != "" {
			nb.Prefix = c.prefix(k+".prefix", n.Prefix)
		}
		cfg.Neighbors = append(cfg.Neighbors, nb)
	}

	cfg.SEND = c.sendSection(raw.SEND.rawSEND)
	cfg.MaxCPARate = c.intRange("send.max_cpa_rate", raw.SEND.MaxCPARate, DefaultMaxCPARate, 1, 65536)
	cfg.KeyStore = c.keyStoreSection(raw.KeyStore, dir)
	cfg.AAA = c.arAAASection(raw.AAA, dir, cfg.Prefixes)
	cfg.EAP = c.arEAPSection(raw.EAP, dir, cfg.Interface, cfg.KeyStore)
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// rate validates a { rate = R, burst = B } table; nil means def.
func (c *collector) rate(key string, r *rawRate, def Rate) Rate {
	if r == nil {
		return def
	}
	out := def
	if r.Rate != nil {
		if x := *r.Rate; x < 0 || x > 1e9 || math.IsNaN(x) {
			c.addf(key+".rate", ErrInvalid, "%v: want 0 (unlimited) to 1e9 per second", x)
		} else {
			out.PerSecond = x
		}
	}
	if r.Burst != nil {
		if b := *r.Burst; b < 1 || b > 1<<24 {
			c.addf(key+".burst", ErrInvalid, "%d: want 1 to %d", b, 1<<24)
		} else {
			out.Burst = b
		}
	}
	return out
}

// parseLinkLayer parses hex octets, with or without ':' or '-' separators.
func parseLinkLayer(s string) ([]byte, error) {
	if hw, err := net.ParseMAC(s); err == nil {
		return hw, nil
	}
	b, err := hex.DecodeString(strings.NewReplacer(":", "", "-", "").Replace(s))
	if err == nil && (len(b) == 0 || len(b) > 255) {
		err = fmt.Errorf("%d octets", len(b))
	}
	return b, err
}

// ARCredentials are the files of an ARConfig, loaded and checked.
type ARCredentials struct {
	Key *rsa.PrivateKey
	CGA *CGA
	// Path is the certification path in CPA order (RFC 3971 §6.4.2): the
	// certificate issued by the trust anchor first, the router's last.
	Path    [][]byte
	Anchors []*certpath.TrustAnchor
	// Authorization is the verified path: the router's certificate
	// certifies Key and authorizes every configured prefix.
	Authorization *certpath.Authorization
	// RADIUSSecrets are the secrets of the [aaa] home servers, by
	// address. The caller clears them once the RADIUS client has them.
	RADIUSSecrets map[netip.AddrPort][]byte
	// EAPSecrets are the secrets of the [eap] RADIUS servers, by address;
	// cleared by ClearSecrets too.
	EAPSecrets map[netip.AddrPort][]byte
}

// Open loads the key, CGA, certificate and trust anchor files and checks
// them at time now: permissions (see LoadPrivateKey), the CGA is the key's,
// the certification path verifies to a trust anchor (RFC 3971 §6.3.1 as
// updated by RFC 6494 §9), authorizes every prefix and certifies the
// router's key — the PrRtAdv must be signed with "the router's certified
// public key" (RFC 5269 §3.3). Every problem is reported.
func (cfg *ARConfig) Open(now time.Time) (*ARCredentials, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	cr := &ARCredentials{}
	var err error
	if cfg.KeyFile != "" {
		if cr.Key, err = LoadPrivateKey(cfg.KeyFile); err != nil {
			c.add("key", err)
		}
	}
	if cfg.CGAFile != "" {
		if cr.CGA, err = LoadCGA(cfg.CGAFile, cr.Key); err != nil {
			c.add("cga", err)
		}
	}
	cr.Anchors = c.loadAnchors(cfg.TrustAnchorFiles)
	cr.RADIUSSecrets = c.loadRADIUSSecrets(cfg.AAA)
	cr.EAPSecrets = c.loadEAPSecrets(cfg.EAP)
	if cfg.CertificateFile == "" {
		// reported by ParseAR
	} else if chain, err := LoadCertificates(cfg.CertificateFile); err != nil {
		c.add("certificates", err)
	} else {
		cr.Path = slices.Clone(chain)
		slices.Reverse(cr.Path)
		if len(cr.Anchors) > 0 {
			auth, err := certpath.VerifyRouter(cr.Path, cr.Anchors, cfg.Prefixes, now)
			switch {
			case err != nil:
				c.add("certificates", fmt.Errorf("%w: %s: %w", ErrFile, cfg.CertificateFile, err))
			case cr.Key != nil && !cr.Key.PublicKey.Equal(auth.PublicKey):
				c.add("certificates", fmt.Errorf("%w: %s: the router certificate certifies another key than %s", ErrFile, cfg.CertificateFile, cfg.KeyFile))
			default:
				cr.Authorization = auth
			}
		}
	}
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cr, nil
}

// ClearSecrets zeroes the RADIUS secrets.
func (cr *ARCredentials) ClearSecrets() {
	for _, b := range cr.RADIUSSecrets {
		clear(b)
	}
	for _, b := range cr.EAPSecrets {
		clear(b)
	}
}

// loadAnchors loads every trust anchor file, recording problems.
func (c *collector) loadAnchors(files []string) []*certpath.TrustAnchor {
	var all []*certpath.TrustAnchor
	for i, f := range files {
		if f == "" {
			continue // reported by validation
		}
		tas, err := LoadTrustAnchors(f)
		if err != nil {
			c.add(fmt.Sprintf("trust_anchors[%d]", i), err)
			continue
		}
		all = append(all, tas...)
	}
	return all
}

// CheckAR is '--check': it loads, validates and opens the configuration
// file and returns every problem found. A configuration that does not
// validate is still opened as far as its file names allow, so that one run
// shows every problem.
func CheckAR(file string, now time.Time) error {
	data, err := readConfigFile(file)
	if err != nil {
		return err
	}
	cfg, err := ParseAR(file, data)
	if err == nil {
		cr, err := cfg.Open(now)
		if cr != nil {
			cr.ClearSecrets()
		}
		return err
	}
	var raw rawAR
	c, derr := decode(file, data, &raw)
	if derr != nil { // a syntax error: nothing more to check
		return err
	}
	dir := configDir(file)
	partial := &ARConfig{File: file, lines: c.lines, KeyFile: resolve(dir, raw.Key), CGAFile: resolve(dir, raw.CGA),
		CertificateFile: resolve(dir, raw.Certificates)}
	for _, f := range raw.TrustAnchors {
		partial.TrustAnchorFiles = append(partial.TrustAnchorFiles, resolve(dir, f))
	}
	for _, s := range raw.Prefixes {
		if p, perr := netip.ParsePrefix(s); perr == nil {
			partial.Prefixes = append(partial.Prefixes, p)
		}
	}
	// The [aaa] secret files, as far as the section names them (its
	// problems are already in err).
	other := &collector{lines: c.lines}
	partial.AAA = other.arAAASection(raw.AAA, dir, nil)
	partial.EAP = other.arEAPSection(raw.EAP, dir, raw.Interface, KeyStore{Type: KeyStoreBolt})
	return mergeProblems(err, openErr(partial.Open(now)))
}
