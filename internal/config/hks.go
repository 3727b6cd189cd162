package config

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// Defaults and bounds of the Handover Key Server configuration.
const (
	// DefaultHKSListen is the RADIUS authentication port on loopback.
	DefaultHKSListen = "127.0.0.1:1812"
	// DefaultHKSKeyLifetime is the HK lifetime the HKS grants.
	DefaultHKSKeyLifetime = time.Hour
	// MaxHKSKeyLifetime is the HKResp's 16-bit Lifetime in seconds
	// (draft-vidya-mipshop-handover-keys-aaa-04 §5.1.2).
	MaxHKSKeyLifetime = 65535 * time.Second
	// DefaultTimestampWindow is the draft's 7 seconds (§5.2.3).
	DefaultTimestampWindow = 7 * time.Second
	// MaxSecretLen bounds a RADIUS shared secret or DSN file's content.
	MaxSecretLen = 4096
)

// SubscriberStoreType selects the HKS subscriber store.
type SubscriberStoreType string

// Subscriber store types.
const (
	SubscriberStoreBolt     SubscriberStoreType = "bolt"     // one bbolt file (the default)
	SubscriberStorePostgres SubscriberStoreType = "postgres" // PostgreSQL, shared by several HKSs
)

// SubscriberStore is the [subscribers] section.
type SubscriberStore struct {
	Type SubscriberStoreType
	// Path is the bbolt file (bolt).
	Path string
	// DSNFile holds the PostgreSQL connection string (postgres), mode
	// 0600: it may hold a password.
	DSNFile string
}

// HKSClient is a [[client]]: an access router (a RADIUS client) allowed
// to ask for keys, by source address or prefix, with its shared secret.
type HKSClient struct {
	Prefix     netip.Prefix
	SecretFile string
}

// HKSConfig is the validated configuration of 'fhkey hks'.
type HKSConfig struct {
	File string
	// Listen is the RADIUS (UDP) address; port 0 means any free port.
	Listen      netip.AddrPort
	Clients     []HKSClient
	Subscribers SubscriberStore
	// KeyLifetime is the HK lifetime granted; TimestampWindow the largest
	// accepted Timestamp deviation.
	KeyLifetime, TimestampWindow time.Duration
	// PRFs and MACs are the accepted algorithms, preferred first.
	PRFs []hokey.PRF
	MACs []hokey.MACAlgorithm
	Log  Log
	HTTP HTTP

	lines map[string]int
}

type rawHKS struct {
	Listen  string `toml:"listen"`
	Clients []struct {
		Address    string `toml:"address"`
		SecretFile string `toml:"secret_file"`
	} `toml:"client"`
	Subscribers struct {
		Store   string `toml:"store"`
		Path    string `toml:"path"`
		DSNFile string `toml:"dsn_file"`
	} `toml:"subscribers"`
	HandoverKeys struct {
		Lifetime        string   `toml:"lifetime"`
		TimestampWindow string   `toml:"timestamp_window"`
		PRFs            []string `toml:"prfs"`
		MACs            []string `toml:"macs"`
	} `toml:"handover_keys"`
	Log  rawLog  `toml:"log"`
	HTTP rawHTTP `toml:"http"`
}

// LoadHKS reads and validates a Handover Key Server configuration file.
func LoadHKS(file string) (*HKSConfig, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseHKS(file, data)
}

// ParseHKS validates data as a Handover Key Server configuration read from
// file. The error, if any, is Problems with every problem found.
func ParseHKS(file string, data []byte) (*HKSConfig, error) {
	var raw rawHKS
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &HKSConfig{File: file, lines: c.lines}
	listen := raw.Listen
	if listen == "" {
		listen = DefaultHKSListen
	}
	// Port 0 asks the kernel for a free port (tests, labs); the daemon
	// reports the port it got in /status and its log.
	if ap, err := netip.ParseAddrPort(listen); err != nil || ap.Addr().Zone() != "" {
		c.addf("listen", ErrInvalid, "%q: want IP:PORT such as %s or [::1]:1812", raw.Listen, DefaultHKSListen)
	} else {
		cfg.Listen = ap
	}
	if len(raw.Clients) == 0 {
		c.addf("client", ErrMissing, "at least one [[client]] (an access router) required")
	}
	for i, rc := range raw.Clients {
		k := fmt.Sprintf("client[%d]", i)
		var cl HKSClient
		switch p, err := parseAddrOrPrefix(rc.Address); {
		case rc.Address == "":
			c.addf(k+".address", ErrMissing, "required")
		case err != nil:
			c.addf(k+".address", ErrInvalid, "%q: want an address or prefix such as 2001:db8:1::1 or 192.0.2.0/24", rc.Address)
		default:
			cl.Prefix = p
		}
		c.required(k+".secret_file", rc.SecretFile)
		cl.SecretFile = resolve(dir, rc.SecretFile)
		cfg.Clients = append(cfg.Clients, cl)
	}
	st := raw.Subscribers
	switch SubscriberStoreType(st.Store) {
	case "", SubscriberStoreBolt:
		cfg.Subscribers.Type = SubscriberStoreBolt
		c.required("subscribers.path", st.Path)
		if st.DSNFile != "" {
			c.addf("subscribers.dsn_file", ErrInvalid, "set, but store is %q", SubscriberStoreBolt)
		}
		cfg.Subscribers.Path = resolve(dir, st.Path)
	case SubscriberStorePostgres:
		cfg.Subscribers.Type = SubscriberStorePostgres
		c.required("subscribers.dsn_file", st.DSNFile)
		if st.Path != "" {
			c.addf("subscribers.path", ErrInvalid, "set, but store is %q", SubscriberStorePostgres)
		}
		cfg.Subscribers.DSNFile = resolve(dir, st.DSNFile)
	default:
		c.addf("subscribers.store", ErrInvalid, "%q: want \"bolt\" or \"postgres\"", st.Store)
	}
	hk := raw.HandoverKeys
	cfg.KeyLifetime = c.duration("handover_keys.lifetime", hk.Lifetime, DefaultHKSKeyLifetime, time.Second, MaxHKSKeyLifetime)
	if cfg.KeyLifetime%time.Second != 0 {
		c.addf("handover_keys.lifetime", ErrInvalid, "%v: whole seconds (the HKResp carries seconds)", cfg.KeyLifetime)
	}
	cfg.TimestampWindow = c.duration("handover_keys.timestamp_window", hk.TimestampWindow, DefaultTimestampWindow, time.Second, time.Hour)
	cfg.PRFs = hksAlgorithms(c, "handover_keys.prfs", hk.PRFs, []hokey.PRF{hokey.PRFHMACSHA256, hokey.PRFHMACSHA1})
	cfg.MACs = hksAlgorithms(c, "handover_keys.macs", hk.MACs, []hokey.MACAlgorithm{hokey.MACHMACSHA256, hokey.MACHMACSHA1})
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// hksAlgorithms parses a PRF or MAC list: names such as "HMAC-SHA256"
// (case-insensitive) or the draft's numbers; nil means def.
func hksAlgorithms[T interface {
	~uint8
	Valid() bool
	String() string
}](c *collector, key string, names []string, def []T) []T {
	if names == nil {
		return def
	}
	if len(names) == 0 {
		c.addf(key, ErrMissing, "at least one algorithm required")
	}
	var out []T
	for i, n := range names {
		k := fmt.Sprintf("%s[%d]", key, i)
		var found bool
		for v := T(1); v < 16; v++ {
			if v.Valid() && (strings.EqualFold(n, v.String()) || n == strconv.Itoa(int(v))) {
				if slices.Contains(out, v) {
					c.addf(k, ErrInvalid, "%s listed twice", v)
				}
				out, found = append(out, v), true
				break
			}
		}
		if !found {
			c.addf(k, ErrInvalid, "%q: want \"HMAC-SHA256\" (2) or \"HMAC-SHA1\" (1)", n)
		}
	}
	return out
}

// parseAddrOrPrefix parses an IP prefix or a single address (a /32 or
// /128); host bits must be zero.
func parseAddrOrPrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zone")
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits set")
	}
	return p, nil
}

// HKSSecrets are the files of an HKSConfig, read and checked.
type HKSSecrets struct {
	// ClientSecrets are the RADIUS shared secrets, in Clients order.
	ClientSecrets [][]byte
	// DSN is the PostgreSQL connection string (postgres store).
	DSN string
}

// Open reads the secret files (mode 0600 or stricter, owned by the
// daemon's user or root): each client's shared secret and the PostgreSQL
// DSN. Every problem is reported.
func (cfg *HKSConfig) Open() (*HKSSecrets, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	s := &HKSSecrets{}
	for i, cl := range cfg.Clients {
		b, err := LoadSecret(cl.SecretFile)
		if err != nil {
			c.add(fmt.Sprintf("client[%d].secret_file", i), err)
		}
		s.ClientSecrets = append(s.ClientSecrets, b)
	}
	if cfg.Subscribers.Type == SubscriberStorePostgres {
		b, err := LoadSecret(cfg.Subscribers.DSNFile)
		if err != nil {
			c.add("subscribers.dsn_file", err)
		}
		s.DSN = string(b)
		clear(b)
	}
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckHKS validates file and the secret files it names (--check).
func CheckHKS(file string) error {
	cfg, err := LoadHKS(file)
	if err != nil {
		return err
	}
	_, err = cfg.Open()
	return err
}

// LoadSecret reads a one-line secret (a RADIUS shared secret, a DSN)
// from a file with no permission bit for group or others, owned by the
// running user or root; surrounding white space is removed. The caller
// clears the result.
func LoadSecret(name string) ([]byte, error) {
	data, err := readFile(name, secretFile)
	if err != nil {
		return nil, err
	}
	s := bytes.TrimSpace(data)
	if len(s) == 0 || len(s) > MaxSecretLen {
		clear(data)
		return nil, fmt.Errorf("%w: %s: %d octets of secret (1 to %d)", ErrFile, name, len(s), MaxSecretLen)
	}
	out := bytes.Clone(s)
	clear(data)
	return out, nil
}

// LoadHMK reads a Handover Master Key file with the permissions of
// LoadSecret: hexadecimal digits (white space ignored) or the raw octets,
// at least hokey.MinHMKLen octets either way. The caller clears the
// result.
func LoadHMK(name string) ([]byte, error) {
	data, err := readFile(name, secretFile)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	digits := bytes.Join(bytes.Fields(data), nil)
	defer clear(digits)
	hmk := make([]byte, hex.DecodedLen(len(digits)))
	if _, err := hex.Decode(hmk, digits); err != nil || len(digits)%2 != 0 {
		clear(hmk)
		hmk = bytes.Clone(data) // raw octets
	}
	if len(hmk) < hokey.MinHMKLen {
		clear(hmk)
		return nil, fmt.Errorf("%w: %s: an HMK of %d octets, at least %d required (draft §6.1)", ErrFile, name, len(hmk), hokey.MinHMKLen)
	}
	return hmk, nil
}
