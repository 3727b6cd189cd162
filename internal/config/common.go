package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/send"
)

// MaxFileSize bounds every file the configuration names, and the
// configuration file itself.
const MaxFileSize = 1 << 20

// LogFormat is the log output format.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text" // log/slog TextHandler (logfmt-like)
	LogJSON LogFormat = "json" // log/slog JSONHandler, one object a line
)

// Log is the [log] section.
type Log struct {
	Level  slog.Level // default info
	Format LogFormat  // default text
}

// HTTP is the [http] section: the /metrics and /status endpoint.
type HTTP struct {
	// Listen is the address to serve on; the zero value (the default)
	// means no HTTP server.
	Listen netip.AddrPort
	// AllowNonLoopback permits a Listen address that is not loopback.
	AllowNonLoopback bool
}

// Enabled reports whether the HTTP endpoint is on.
func (h HTTP) Enabled() bool { return h.Listen.IsValid() }

// CheckListen returns an error wrapping ErrInvalid if listen is not a
// loopback address and allowNonLoopback is false. The endpoint has no
// authentication: /status reveals the peers an access router serves.
func CheckListen(listen netip.AddrPort, allowNonLoopback bool) error {
	if !listen.Addr().IsLoopback() && !allowNonLoopback {
		return fmt.Errorf("%w: %s is not a loopback address (set allow_non_loopback = true to serve on it)", ErrInvalid, listen)
	}
	return nil
}

// SEND is the [send] section: the receiver variables of RFC 3971 §10.2
// and the key size bounds of RFC 3971 §5.1.3.
type SEND struct {
	// Timestamp holds TIMESTAMP_DELTA, TIMESTAMP_FUZZ and TIMESTAMP_DRIFT
	// (default 300 s, 1 s, 1 %).
	Timestamp send.TimestampParams
	// MinKeyBits and MaxKeyBits bound the RSA modulus of signers
	// (default 1024 and 4096; RFC 3971 §5.1.3 minbits "SHOULD be 1024").
	MinKeyBits, MaxKeyBits int
}

// KeyStoreType selects the handover key store.
type KeyStoreType string

// Key store types.
const (
	KeyStoreMemory KeyStoreType = "memory" // keystore.Memory: lost on restart
	KeyStoreBolt   KeyStoreType = "bolt"   // keystore.Bolt: a file, kept across restarts
)

// KeyStore is the [key_store] section.
type KeyStore struct {
	Type KeyStoreType // default memory
	Path string       // the bolt file (absolute after loading); bolt only
}

type rawLog struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

type rawHTTP struct {
	Listen           string `toml:"listen"`
	AllowNonLoopback bool   `toml:"allow_non_loopback"`
}

type rawSEND struct {
	TimestampDelta string   `toml:"timestamp_delta"`
	TimestampFuzz  string   `toml:"timestamp_fuzz"`
	TimestampDrift *float64 `toml:"timestamp_drift"`
	MinKeyBits     *int     `toml:"min_key_bits"`
	MaxKeyBits     *int     `toml:"max_key_bits"`
}

type rawKeyStore struct {
	Type string `toml:"type"`
	Path string `toml:"path"`
}

// decode decodes data strictly into raw. A syntax error ends decoding and
// is the only problem returned; unknown keys are recorded in the collector
// and decoding goes on so that validation reports the rest.
func decode(file string, data []byte, raw any) (*collector, error) {
	if len(data) > MaxFileSize {
		return nil, Problems{{File: file, Err: fmt.Errorf("%w: larger than %d octets", ErrFile, MaxFileSize)}}
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Problems{{File: file, Line: pe.Position.Line, Key: pe.LastKey, Err: fmt.Errorf("%w: %s", ErrSyntax, pe.Message)}}
		}
		// Type mismatches (a string where a number belongs): the TOML
		// library's message names the line and the last key.
		return nil, Problems{{File: file, Err: fmt.Errorf("%w: %s", ErrSyntax, strings.TrimPrefix(err.Error(), "toml: "))}}
	}
	c := newCollector(file, data)
	reported := map[string]bool{}
	for _, k := range md.Undecoded() {
		skip := false
		for i := 1; i < len(k); i++ { // a child of an unknown table is not news
			if reported[k[:i].String()] {
				skip = true
			}
		}
		reported[k.String()] = true
		if !skip {
			c.addf(k.String(), ErrUnknownKey, "not a configuration key")
		}
	}
	return c, nil
}

// readConfigFile reads a configuration file (size-bounded).
func readConfigFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, Problems{{File: file, Err: fmt.Errorf("%w: %w", ErrFile, err)}}
	}
	defer f.Close()
	data, err := readLimited(f, file)
	if err != nil {
		return nil, Problems{{File: file, Err: err}}
	}
	return data, nil
}

func (c *collector) logSection(r rawLog) Log {
	l := Log{Level: slog.LevelInfo, Format: LogText}
	if r.Level != "" {
		if err := l.Level.UnmarshalText([]byte(r.Level)); err != nil {
			c.addf("log.level", ErrInvalid, "%q: want debug, info, warn or error", r.Level)
		}
	}
	switch LogFormat(r.Format) {
	case "", LogText:
	case LogJSON:
		l.Format = LogJSON
	default:
		c.addf("log.format", ErrInvalid, "%q: want \"text\" or \"json\"", r.Format)
	}
	return l
}

func (c *collector) httpSection(r rawHTTP) HTTP {
	h := HTTP{AllowNonLoopback: r.AllowNonLoopback}
	if r.Listen == "" {
		return h
	}
	ap, err := netip.ParseAddrPort(r.Listen)
	if err != nil {
		c.addf("http.listen", ErrInvalid, "%q: want IP:PORT such as 127.0.0.1:9750 or [::1]:9750", r.Listen)
		return h
	}
	if err := CheckListen(ap, r.AllowNonLoopback); err != nil {
		c.add("http.listen", err)
		return h
	}
	h.Listen = ap
	return h
}

func (c *collector) sendSection(r rawSEND) SEND {
	s := SEND{Timestamp: send.DefaultTimestampParams, MinKeyBits: send.DefaultMinBits, MaxKeyBits: send.DefaultMaxBits}
	s.Timestamp.Delta = c.duration("send.timestamp_delta", r.TimestampDelta, s.Timestamp.Delta, time.Second, 24*time.Hour)
	s.Timestamp.Fuzz = c.duration("send.timestamp_fuzz", r.TimestampFuzz, s.Timestamp.Fuzz, 0, s.Timestamp.Delta)
	if r.TimestampDrift != nil {
		if d := *r.TimestampDrift; d < 0 || d >= 1 || math.IsNaN(d) {
			c.addf("send.timestamp_drift", ErrInvalid, "%v: want a fraction in [0, 1), e.g. 0.01 for 1 %%", d)
		} else {
			s.Timestamp.Drift = d
		}
	}
	s.MinKeyBits = c.intRange("send.min_key_bits", r.MinKeyBits, s.MinKeyBits, 384, 4096)
	s.MaxKeyBits = c.intRange("send.max_key_bits", r.MaxKeyBits, s.MaxKeyBits, 1024, 16384)
	if s.MinKeyBits > s.MaxKeyBits {
		c.addf("send.min_key_bits", ErrInvalid, "%d is above max_key_bits %d", s.MinKeyBits, s.MaxKeyBits)
	}
	return s
}

func (c *collector) keyStoreSection(r rawKeyStore, dir string) KeyStore {
	k := KeyStore{Type: KeyStoreMemory}
	switch KeyStoreType(r.Type) {
	case "", KeyStoreMemory:
		if r.Path != "" {
			c.addf("key_store.path", ErrInvalid, "set, but type is %q: a memory store has no file", KeyStoreMemory)
		}
	case KeyStoreBolt:
		k.Type = KeyStoreBolt
		if r.Path == "" {
			c.addf("key_store.path", ErrMissing, "required when type = %q", KeyStoreBolt)
		}
		k.Path = resolve(dir, r.Path)
	default:
		c.addf("key_store.type", ErrInvalid, "%q: want \"memory\" or \"bolt\"", r.Type)
	}
	return k
}

// duration parses s (time.ParseDuration syntax: "12h", "90s") within
// [min, max]; empty means def.
func (c *collector) duration(key, s string, def, min, max time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		c.addf(key, ErrInvalid, "%q: want a duration such as \"90s\", \"10m\" or \"12h\"", s)
		return def
	}
	if d < min || d > max {
		c.addf(key, ErrInvalid, "%v: must be between %v and %v", d, min, max)
		return def
	}
	return d
}

// intRange checks an optional integer; nil means def.
func (c *collector) intRange(key string, v *int, def, min, max int) int {
	if v == nil {
		return def
	}
	if *v < min || *v > max {
		c.addf(key, ErrInvalid, "%d: must be between %d and %d", *v, min, max)
		return def
	}
	return *v
}

// required records a missing string.
func (c *collector) required(key, v string) {
	if v == "" {
		c.addf(key, ErrMissing, "required")
	}
}

// interfaceName checks a network interface name (Linux IFNAMSIZ - 1).
func (c *collector) interfaceName(key, s string) string {
	if s == "" {
		c.addf(key, ErrMissing, "required")
		return ""
	}
	if len(s) > 15 || strings.ContainsAny(s, "/ \t\n:") || s == "." || s == ".." {
		c.addf(key, ErrInvalid, "%q: not an interface name (at most 15 octets, no '/', ':' or spaces)", s)
	}
	return s
}

// algorithms parses a list of AT names (hokey registry, case-insensitive)
// or numbers.
func (c *collector) algorithms(key string, names []string) []hokey.AlgorithmType {
	var ats []hokey.AlgorithmType
	for i, n := range names {
		k := fmt.Sprintf("%s[%d]", key, i)
		at, ok := parseAlgorithm(n)
		if !ok {
			c.addf(k, ErrInvalid, "%q: unknown algorithm type (known: %s)", n, algorithmNames())
			continue
		}
		for _, seen := range ats {
			if seen == at {
				c.addf(k, ErrInvalid, "%s listed twice", at)
			}
		}
		ats = append(ats, at)
	}
	return ats
}

// parseAlgorithm returns the registered AT named s.
func parseAlgorithm(s string) (hokey.AlgorithmType, bool) {
	for _, at := range hokey.Supported() {
		if strings.EqualFold(s, at.String()) {
			return at, true
		}
	}
	return 0, false
}

func algorithmNames() string {
	var s []string
	for _, at := range hokey.Supported() {
		s = append(s, at.String())
	}
	return strings.Join(s, ", ")
}

// unicast parses an IPv6 unicast address (not multicast, unspecified or
// IPv4-mapped).
func (c *collector) unicast(key, s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Is4In6() || a.IsMulticast() || a.IsUnspecified() || a.Zone() != "" {
		c.addf(key, ErrInvalid, "%q: want an IPv6 unicast address without zone", s)
		return netip.Addr{}
	}
	return a
}

// prefix parses an IPv6 prefix; host bits must be zero.
func (c *collector) prefix(key, s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		c.addf(key, ErrInvalid, "%q: want an IPv6 prefix such as 2001:db8:1::/64", s)
		return netip.Prefix{}
	}
	if p.Masked() != p {
		c.addf(key, ErrInvalid, "%s has host bits set (did you mean %s?)", s, p.Masked())
		return netip.Prefix{}
	}
	return p
}

// files checks a list of file names, resolving them against dir.
func (c *collector) files(key string, names []string, dir string, min int) []string {
	if len(names) < min {
		c.addf(key, ErrMissing, "at least %d file(s) required", min)
	}
	out := make([]string, 0, len(names))
	for i, n := range names {
		if n == "" {
			c.addf(fmt.Sprintf("%s[%d]", key, i), ErrInvalid, "empty file name")
			continue
		}
		out = append(out, resolve(dir, n))
	}
	return out
}

// resolve makes a relative name relative to dir (the configuration file's
// directory); "" stays "".
func resolve(dir, name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

// configDir is the directory relative names in file are resolved against.
func configDir(file string) string {
	if file == "" {
		return "."
	}
	return filepath.Dir(file)
}
