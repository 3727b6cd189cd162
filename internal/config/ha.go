package config

import (
	"net/netip"
	"time"
)

// Defaults of the home agent configuration (`fhkey ha`, docs/ha.md).
const (
	// DefaultHAListen is the Mobile IPv6 service port on every address
	// (RFC 6618 §6.1, §8.3: mipv6tls 7872).
	DefaultHAListen = "[::]:7872"
	// DefaultHATUN names the home link's TUN device.
	DefaultHATUN = "fhkha0"
	// DefaultHAMTU leaves room for IPv6 + UDP + the largest §6 overhead
	// (8 header, 16 IV, 15 padding, 2 trailer, 12 ICV) in a 1500 path.
	DefaultHAMTU = 1400
	// DefaultHAMaxLifetime caps a binding's lifetime.
	DefaultHAMaxLifetime = time.Hour
	// DefaultHASAGrace keeps an expired SA to answer BUs with 176.
	DefaultHASAGrace = 5 * time.Minute
	// MaxHAMaxLifetime is the BA's 16-bit Lifetime in 4-second units
	// (RFC 6275 §6.1.8).
	MaxHAMaxLifetime = 65535 * 4 * time.Second
)

// HAChannel is the [hac_channel] section: the mutual-TLS listener on
// which the Home Agent Controller hands over each SA it creates
// (docs/tls.md, "The HAC→HA channel").
type HAChannel struct {
	Listen netip.AddrPort
	// CertificateFile and KeyFile are the HA's TLS server certificate and
	// key (PEM, key mode 0600); ClientCAFile the CAs the HAC's client
	// certificate must chain to.
	CertificateFile, KeyFile, ClientCAFile string
}

// HAConfig is the validated configuration of `fhkey ha`.
type HAConfig struct {
	File string
	// Listen is the UDP address of the Mobile IPv6 service port (port 0:
	// any free port, shown in /status).
	Listen netip.AddrPort
	// HomePrefix is the home link's prefix; TUN and MTU the device that
	// carries the home addresses' traffic.
	HomePrefix netip.Prefix
	// Address is the HA's own address, for the BA checksum's
	// pseudo-header when an SA's bootstrapping data names none (optional).
	Address netip.Addr
	TUN     string
	MTU     int
	// MaxLifetime caps bindings; SAGrace keeps expired SAs to answer
	// BUs with REINIT_SA_WITH_HAC.
	MaxLifetime, SAGrace time.Duration
	// StateFile is the bbolt file of SAs and bindings (mode 0600).
	StateFile string
	Channel   HAChannel
	Log       Log
	HTTP      HTTP

	lines map[string]int
}

type rawHA struct {
	Listen   string `toml:"listen"`
	HomeLink struct {
		Prefix  string `toml:"prefix"`
		Address string `toml:"address"`
		TUN     string `toml:"tun"`
		MTU     *int   `toml:"mtu"`
	} `toml:"home_link"`
	Bindings struct {
		MaxLifetime string `toml:"max_lifetime"`
		SAGrace     string `toml:"sa_grace"`
	} `toml:"bindings"`
	State struct {
		Path string `toml:"path"`
	} `toml:"state"`
	Channel struct {
		Listen      string `toml:"listen"`
		Certificate string `toml:"certificate"`
		Key         string `toml:"key"`
		ClientCA    string `toml:"client_ca"`
	} `toml:"hac_channel"`
	Log  rawLog  `toml:"log"`
	HTTP rawHTTP `toml:"http"`
}

// LoadHA reads and validates a home agent configuration file.
func LoadHA(file string) (*HAConfig, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseHA(file, data)
}

// ParseHA validates data as a home agent configuration read from file.
// The error, if any, is Problems with every problem found.
func ParseHA(file string, data []byte) (*HAConfig, error) {
	var raw rawHA
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &HAConfig{File: file, lines: c.lines}
	cfg.Listen = c.addrPort("listen", raw.Listen, DefaultHAListen)
	c.required("home_link.prefix", raw.HomeLink.Prefix)
	if raw.HomeLink.Prefix != "" {
		cfg.HomePrefix = c.prefix("home_link.prefix", raw.HomeLink.Prefix)
	}
	if raw.HomeLink.Address != "" {
		cfg.Address = c.unicast("home_link.address", raw.HomeLink.Address)
	}
	tun := raw.HomeLink.TUN
	if tun == "" {
		tun = DefaultHATUN
	}
	cfg.TUN = c.interfaceName("home_link.tun", tun)
	cfg.MTU = c.intRange("home_link.mtu", raw.HomeLink.MTU, DefaultHAMTU, 1280, 65535)
	cfg.MaxLifetime = c.duration("bindings.max_lifetime", raw.Bindings.MaxLifetime, DefaultHAMaxLifetime, 4*time.Second, MaxHAMaxLifetime)
	cfg.SAGrace = c.duration("bindings.sa_grace", raw.Bindings.SAGrace, DefaultHASAGrace, 0, 24*time.Hour)
	c.required("state.path", raw.State.Path)
	if raw.State.Path != "" {
		cfg.StateFile = resolve(dir, raw.State.Path)
	}
	ch := raw.Channel
	c.required("hac_channel.listen", ch.Listen)
	if ch.Listen != "" {
		cfg.Channel.Listen = c.addrPort("hac_channel.listen", ch.Listen, "")
	}
	for _, f := range []struct{ key, v string }{{"hac_channel.certificate", ch.Certificate}, {"hac_channel.key", ch.Key}, {"hac_channel.client_ca", ch.ClientCA}} {
		c.required(f.key, f.v)
	}
	cfg.Channel.CertificateFile, cfg.Channel.KeyFile, cfg.Channel.ClientCAFile = resolve(dir, ch.Certificate), resolve(dir, ch.Key), resolve(dir, ch.ClientCA)
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// addrPort parses IP:PORT (def when s is empty); port 0 means any.
func (c *collector) addrPort(key, s, def string) netip.AddrPort {
	if s == "" {
		s = def
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Addr().Zone() != "" {
		c.addf(key, ErrInvalid, "%q: want IP:PORT such as [::]:7872 or 127.0.0.1:7873", s)
		return netip.AddrPort{}
	}
	return ap
}

// OpenChannel loads the [hac_channel] certificate, key (mode 0600) and
// client CAs. Every problem is reported.
func (cfg *HAConfig) OpenChannel() (*EAPCredentials, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	roots, okRoots := c.certPool("hac_channel.client_ca", cfg.Channel.ClientCAFile)
	kp, okPair := c.keyPair("hac_channel.certificate", "hac_channel.key", cfg.Channel.CertificateFile, cfg.Channel.KeyFile)
	cr := &EAPCredentials{Certificate: kp, Roots: roots}
	if !okRoots || !okPair {
		cr = nil
	}
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cr, nil
}

// CheckHA validates the file and the TLS files it names (`fhkey ha
// --check`).
func CheckHA(file string) error {
	cfg, err := LoadHA(file)
	if err != nil {
		return err
	}
	if _, err := cfg.OpenChannel(); err != nil {
		return err
	}
	return nil
}
