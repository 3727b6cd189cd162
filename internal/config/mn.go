package config

import (
	"crypto/rsa"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/hokey"
)

// Defaults of the mobile node configuration.
const (
	// DefaultHKEPKLifetime is HKEPK-LIFETIME (RFC 5269 §3.7: 12 hours).
	DefaultHKEPKLifetime = 12 * time.Hour
	// DefaultHKEPKHandovers is HKEPK-HANDOVERS (RFC 5269 §3.7: 10).
	DefaultHKEPKHandovers = 10
	// DefaultRefreshBefore: a key expiring within it is requested again
	// (RFC 5269 §3.3: "Prior to HK-LIFETIME expiring, the MN MUST request
	// a new key").
	DefaultRefreshBefore = 10 * time.Minute
)

// AllRouters is ff02::2, where the node sends RtSolPr when no access
// router is configured.
var AllRouters = netip.MustParseAddr("ff02::2")

// Decapsulation is the [decapsulation] section: the mobile node's end of
// the PAR's tunnel (internal/forward Decapsulator).
type Decapsulation struct {
	Enabled bool
	// TUN is the device the decapsulated packets are written to ("": the
	// kernel numbers "fhkdc%d").
	TUN string
	MTU int // 0: the forward package's default
	// Allowed are the tunnel entry points (the PARs' addresses) accepted;
	// required when Enabled.
	Allowed []netip.Addr
}

// MNConfig is the validated configuration of 'fhkey mn'.
// Handover is the [handover] section: the new link the node moves to and
// its care-of CGA there. When NewCGA's address is configured on
// NewInterface and that interface is up (and, with two interfaces,
// Interface is down), the daemon sends the FBU to the previous access
// router (RFC 5568 §6.2.3, RFC 5269 §3.4).
type Handover struct {
	// NewInterface is the interface on the new link; default: Interface
	// (one radio changing links).
	NewInterface string
	// NewCGAFile is the `fhkey cga gen --json` output for the new care-of
	// CGA (same key, RFC 3972 §4); empty: no handover is performed.
	NewCGAFile string
	// AccessRouters are the routers of the new link asked for handover
	// keys for the new CGA once the node is there, so that it can hand
	// over again (back to the first link); empty means All-Routers.
	AccessRouters []netip.Addr
	// NewCareOf is the care-of address on the new link of a node without
	// SEND credentials (handover.new_care_of), instead of NewCGAFile.
	NewCareOf netip.Addr
}

// Enabled reports whether the node hands over to a new link.
func (h Handover) Enabled() bool { return h.NewCGAFile != "" || h.NewCareOf.IsValid() }

type MNConfig struct {
	File      string
	Interface string
	// KeyFile is the node's RSA private key (PEM), used for its CGAs and
	// SEND signatures; the handover key encryption key pair is generated
	// with the same algorithm and size (RFC 5269 §3.1). CGAFile is the
	// output of 'fhkey cga gen --json' for it: the care-of CGA on the
	// current link, whose modifier is reused on other links.
	KeyFile, CGAFile string
	// TrustAnchorFiles: "mobile nodes MUST be configured with one or more
	// SEND trust anchors" (RFC 5269 §3.2).
	TrustAnchorFiles []string
	// AccessRouters are the routers asked for handover keys; empty means
	// All-Routers (ff02::2) on the link, and every router that answers.
	AccessRouters []netip.Addr
	// CareOf is the care-of address on Interface of a node without SEND
	// credentials (the shared-key mode only); with SEND it is the CGA's
	// address and this is the zero Addr.
	CareOf netip.Addr
	// PreferredAlgorithm is the AT requested (RFC 5269 §3.1); Algorithms
	// the ATs accepted in replies. Never weaker than the first request
	// (§3.3), so every accepted AT is at least as strong as the preferred.
	PreferredAlgorithm hokey.AlgorithmType
	Algorithms         []hokey.AlgorithmType
	// HKEPKLifetime and HKEPKHandovers bound the handover key encryption
	// key pair (RFC 5269 §3.1, §3.7).
	HKEPKLifetime  time.Duration
	HKEPKHandovers int
	RefreshBefore  time.Duration
	Decapsulation  Decapsulation
	Handover       Handover
	SEND           SEND
	KeyStore       KeyStore
	// AAA is the [aaa] section: the shared-key mode, instead of SEND
	// (docs/aaa.md, The mobile node); nil when absent.
	AAA *MNAAA
	// EAP is the [eap] section: the MSK mode (docs/msk.md), instead of
	// SEND; nil when absent.
	EAP  *MNEAP
	Log  Log
	HTTP HTTP

	lines map[string]int
}

// SENDEnabled reports whether the node provisions its keys with SEND
// (RtSolPr/PrRtAdv); false in the shared-key mode.
func (cfg *MNConfig) SENDEnabled() bool { return cfg.AAA == nil && cfg.EAP == nil }

type rawMN struct {
	Interface     string   `toml:"interface"`
	CareOf        string   `toml:"care_of"`
	Key           string   `toml:"key"`
	CGA           string   `toml:"cga"`
	TrustAnchors  []string `toml:"trust_anchors"`
	AccessRouters []string `toml:"access_routers"`

	HandoverKeys struct {
		PreferredAlgorithm string   `toml:"preferred_algorithm"`
		Algorithms         []string `toml:"algorithms"`
		HKEPKLifetime      string   `toml:"hkepk_lifetime"`
		HKEPKHandovers     *int     `toml:"hkepk_handovers"`
		RefreshBefore      string   `toml:"refresh_before"`
	} `toml:"handover_keys"`
	Handover struct {
		NewInterface  string   `toml:"new_interface"`
		NewCGA        string   `toml:"new_cga"`
		NewCareOf     string   `toml:"new_care_of"`
		AccessRouters []string `toml:"access_routers"`
	} `toml:"handover"`
	Decapsulation struct {
		Enabled bool     `toml:"enabled"`
		TUN     string   `toml:"tun"`
		MTU     *int     `toml:"mtu"`
		Allowed []string `toml:"allowed"`
	} `toml:"decapsulation"`
	SEND     rawSEND     `toml:"send"`
	KeyStore rawKeyStore `toml:"key_store"`
	AAA      *rawMNAAA   `toml:"aaa"`
	EAP      *rawMNEAP   `toml:"eap"`
	Log      rawLog      `toml:"log"`
	HTTP     rawHTTP     `toml:"http"`
}

// LoadMN reads and validates the mobile node configuration file. It does
// not open the files the configuration names; Open does.
func LoadMN(file string) (*MNConfig, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseMN(file, data)
}

// ParseMN validates data as a mobile node configuration read from file.
// The error, if any, is Problems with every problem found.
func ParseMN(file string, data []byte) (*MNConfig, error) {
	var raw rawMN
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &MNConfig{File: file, lines: c.lines}
	cfg.Interface = c.interfaceName("interface", raw.Interface)
	// The shared-key and MSK modes replace SEND at the node.
	aaa := raw.AAA != nil || raw.EAP != nil
	mode := "[aaa]"
	if raw.EAP != nil {
		mode = "[eap]"
		if raw.AAA != nil {
			c.addf("eap", ErrInvalid, "set with [aaa]: a node uses one mode, the shared-key mode ([aaa]) or the MSK mode ([eap])")
		}
	}
	if aaa {
		// The shared-key mode replaces SEND at the node: its care-of
		// addresses are plain addresses, no CGA, no trust anchor.
		for _, k := range []struct {
			key string
			set bool
		}{{"key", raw.Key != ""}, {"cga", raw.CGA != ""}, {"trust_anchors", raw.TrustAnchors != nil},
			{"handover.new_cga", raw.Handover.NewCGA != ""}, {"send", c.hasTable("send")},
			{"handover_keys.preferred_algorithm", raw.HandoverKeys.PreferredAlgorithm != ""}, {"handover_keys.algorithms", raw.HandoverKeys.Algorithms != nil},
			{"handover_keys.hkepk_lifetime", raw.HandoverKeys.HKEPKLifetime != ""}, {"handover_keys.hkepk_handovers", raw.HandoverKeys.HKEPKHandovers != nil}} {
			if k.set {
				c.addf(k.key, ErrInvalid, "set, but %s is: a node in the shared-key or MSK mode has no SEND credentials (its care-of addresses are care_of and handover.new_care_of)", mode)
			}
		}
		if raw.CareOf == "" {
			c.addf("care_of", ErrMissing, "required with %s: the node's address on interface (the Key Care of Address, the PCoA)", mode)
		} else {
			cfg.CareOf = c.unicast("care_of", raw.CareOf)
		}
	} else {
		if raw.CareOf != "" {
			c.addf("care_of", ErrInvalid, "set, but the node's care-of address is its CGA (cga); care_of is for the shared-key mode ([aaa])")
		}
		if raw.Handover.NewCareOf != "" {
			c.addf("handover.new_care_of", ErrInvalid, "set, but the node's care-of address on the new link is new_cga; new_care_of is for the shared-key mode ([aaa])")
		}
		c.required("key", raw.Key)
		c.required("cga", raw.CGA)
		cfg.KeyFile = resolve(dir, raw.Key)
		cfg.CGAFile = resolve(dir, raw.CGA)
		cfg.TrustAnchorFiles = c.files("trust_anchors", raw.TrustAnchors, dir, 1)
	}
	cfg.AccessRouters = c.routerList("access_routers", raw.AccessRouters)

	hk := raw.HandoverKeys
	cfg.PreferredAlgorithm = hokey.HMACSHA256Trunc128
	if hk.PreferredAlgorithm != "" {
		if at, ok := parseAlgorithm(hk.PreferredAlgorithm); ok {
			cfg.PreferredAlgorithm = at
		} else {
			c.addf("handover_keys.preferred_algorithm", ErrInvalid, "%q: unknown algorithm type (known: %s)", hk.PreferredAlgorithm, algorithmNames())
		}
	}
	if hk.Algorithms == nil {
		for _, at := range hokey.Supported() {
			if at.AtLeastAsStrong(cfg.PreferredAlgorithm) {
				cfg.Algorithms = append(cfg.Algorithms, at)
			}
		}
	} else {
		cfg.Algorithms = c.algorithms("handover_keys.algorithms", hk.Algorithms)
		if !slices.Contains(cfg.Algorithms, cfg.PreferredAlgorithm) {
			c.addf("handover_keys.algorithms", ErrInvalid, "must include preferred_algorithm %s", cfg.PreferredAlgorithm)
		}
		for i, at := range cfg.Algorithms {
			if !at.AtLeastAsStrong(cfg.PreferredAlgorithm) {
				c.addf(fmt.Sprintf("handover_keys.algorithms[%d]", i), ErrInvalid,
					"%s is weaker than preferred_algorithm %s (RFC 5269 §3.3: no bidding down)", at, cfg.PreferredAlgorithm)
			}
		}
	}
	cfg.HKEPKLifetime = c.duration("handover_keys.hkepk_lifetime", hk.HKEPKLifetime, DefaultHKEPKLifetime, time.Minute, 30*24*time.Hour)
	cfg.HKEPKHandovers = c.intRange("handover_keys.hkepk_handovers", hk.HKEPKHandovers, DefaultHKEPKHandovers, 1, 1000)
	cfg.RefreshBefore = c.duration("handover_keys.refresh_before", hk.RefreshBefore, DefaultRefreshBefore, 0, MaxKeyLifetime)

	d := raw.Decapsulation
	cfg.Decapsulation.Enabled = d.Enabled
	if d.TUN != "" {
		cfg.Decapsulation.TUN = c.interfaceName("decapsulation.tun", d.TUN)
	}
	if d.MTU != nil {
		cfg.Decapsulation.MTU = c.intRange("decapsulation.mtu", d.MTU, 0, 1280, 65535)
	}
	for i, s := range d.Allowed {
		if a := c.unicast(fmt.Sprintf("decapsulation.allowed[%d]", i), s); a.IsValid() {
			cfg.Decapsulation.Allowed = append(cfg.Decapsulation.Allowed, a)
		}
	}
	if d.Enabled && len(d.Allowed) == 0 {
		c.addf("decapsulation.allowed", ErrMissing, "required when enabled: a node never decapsulates from arbitrary sources")
	}

	newCoAKey := "handover.new_cga"
	if aaa {
		newCoAKey = "handover.new_care_of"
	}
	if h := raw.Handover; h.NewCGA != "" || (aaa && h.NewCareOf != "") {
		if aaa {
			if a := c.unicast("handover.new_care_of", h.NewCareOf); a.IsValid() {
				cfg.Handover.NewCareOf = a
				if a == cfg.CareOf {
					c.addf("handover.new_care_of", ErrInvalid, "%s is care_of: the new link's address must differ", a)
				}
			}
		} else {
			cfg.Handover.NewCGAFile = resolve(dir, h.NewCGA)
		}
		cfg.Handover.NewInterface = cfg.Interface
		if h.NewInterface != "" {
			cfg.Handover.NewInterface = c.interfaceName("handover.new_interface", h.NewInterface)
		}
		cfg.Handover.AccessRouters = c.routerList("handover.access_routers", h.AccessRouters)
	} else if h.NewInterface != "" || len(h.AccessRouters) > 0 {
		c.addf(newCoAKey, ErrMissing, "required when handover.new_interface or handover.access_routers is set")
	}
	if d.Enabled && !cfg.Handover.Enabled() {
		c.addf(newCoAKey, ErrMissing, "required when decapsulation is enabled: tunnelled packets arrive at the new care-of address")
	}
	cfg.AAA = c.mnAAASection(raw.AAA, dir, cfg.AccessRouters, cfg.Handover.AccessRouters)
	cfg.EAP = c.mnEAPSection(raw.EAP, dir, cfg.Handover.Enabled())

	cfg.SEND = c.sendSection(raw.SEND)
	cfg.KeyStore = c.keyStoreSection(raw.KeyStore, dir)
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// MNCredentials are the files of an MNConfig, loaded and checked.
type MNCredentials struct {
	Key *rsa.PrivateKey
	CGA *CGA
	// NewCGA is the care-of CGA on the new link (handover.new_cga), nil
	// when not configured.
	NewCGA  *CGA
	Anchors []*certpath.TrustAnchor
	// HMK is the [aaa] Handover Master Key (nil without [aaa]); the
	// caller clears it once the node has a copy.
	HMK []byte
	// EAP are the [eap] certificate, key and CAs (nil without [eap]).
	EAP *EAPCredentials
}

// Open loads the key, CGA and trust anchor files and checks them (see
// ARConfig.Open). Every problem is reported.
func (cfg *MNConfig) Open() (*MNCredentials, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	cr := &MNCredentials{}
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
	if cfg.Handover.NewCGAFile != "" {
		if cr.NewCGA, err = LoadCGA(cfg.Handover.NewCGAFile, cr.Key); err != nil {
			c.add("handover.new_cga", err)
		} else if cr.CGA != nil && cr.NewCGA.Address == cr.CGA.Address {
			c.add("handover.new_cga", fmt.Errorf("%w: %s: the new care-of address %s is the current one", ErrFile, cfg.Handover.NewCGAFile, cr.NewCGA.Address))
		}
	}
	cr.Anchors = c.loadAnchors(cfg.TrustAnchorFiles)
	if cfg.AAA != nil && cfg.AAA.HMKFile != "" {
		if cr.HMK, err = LoadHMK(cfg.AAA.HMKFile); err != nil {
			c.add("aaa.hmk_file", err)
		}
	}
	if cfg.EAP != nil {
		cr.EAP = c.openEAP(cfg.EAP)
	}
	if err := c.ps.err(); err != nil {
		clear(cr.HMK)
		return nil, err
	}
	return cr, nil
}

// CheckMN is '--check' for the mobile node: load, validate, open, and
// return every problem found.
func CheckMN(file string) error {
	data, err := readConfigFile(file)
	if err != nil {
		return err
	}
	cfg, err := ParseMN(file, data)
	if err == nil {
		cr, err := cfg.Open()
		if cr != nil {
			clear(cr.HMK)
		}
		return err
	}
	var raw rawMN
	c, derr := decode(file, data, &raw)
	if derr != nil {
		return err
	}
	dir := configDir(file)
	partial := &MNConfig{File: file, lines: c.lines, KeyFile: resolve(dir, raw.Key), CGAFile: resolve(dir, raw.CGA)}
	if raw.Handover.NewCGA != "" {
		partial.Handover.NewCGAFile = resolve(dir, raw.Handover.NewCGA)
	}
	for _, f := range raw.TrustAnchors {
		partial.TrustAnchorFiles = append(partial.TrustAnchorFiles, resolve(dir, f))
	}
	if raw.AAA != nil && raw.AAA.HMKFile != "" {
		partial.AAA = &MNAAA{HMKFile: resolve(dir, raw.AAA.HMKFile)}
	}
	if e := raw.EAP; e != nil && e.Certificate != "" && e.Key != "" && e.CA != "" {
		partial.EAP = &MNEAP{CertificateFile: resolve(dir, e.Certificate), KeyFile: resolve(dir, e.Key), CAFile: resolve(dir, e.CA)}
	}
	return mergeProblems(err, openErr(partial.Open()))
}

// routerList parses a list of access router addresses (unicast, no
// duplicates).
func (c *collector) routerList(key string, raw []string) []netip.Addr {
	var out []netip.Addr
	for i, s := range raw {
		k := fmt.Sprintf("%s[%d]", key, i)
		if a := c.unicast(k, s); a.IsValid() {
			if slices.Contains(out, a) {
				c.addf(k, ErrInvalid, "%s listed twice", a)
			}
			out = append(out, a)
		}
	}
	return out
}
