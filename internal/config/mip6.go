package config

import (
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Defaults of the RFC 6618 mobile node configuration (fhkey mip6).
const (
	// DefaultMIP6Lifetime is the binding lifetime asked of the home agent
	// (mip6mn.DefaultLifetime).
	DefaultMIP6Lifetime = 600 * time.Second
	// DefaultMIP6RebootstrapMargin is how long before
	// mip6-sa-validity-end a new SA is asked for
	// (mip6mn.DefaultRebootstrapMargin).
	DefaultMIP6RebootstrapMargin = 5 * time.Minute
	// DefaultMIP6TUNMTU is the MTU of the home-address TUN: the home
	// agent's default (DefaultHAMTU), so that a full-sized packet from
	// the home address, sealed (RFC 6618 §6.4: UDP header, 8-octet
	// header, IV, padding, trailer, ICV: at most 101 octets with IPv6),
	// still fits a 1500-octet path unfragmented.
	DefaultMIP6TUNMTU = DefaultHAMTU
)

// MIP6Method is the MN-HAC authentication method of RFC 6618 §5.5.2.
type MIP6Method string

// The two methods.
const (
	MIP6MethodPSK MIP6Method = "psk" // §5.8, a pre-shared key file
	MIP6MethodEAP MIP6Method = "eap" // §5.9, EAP-TLS credentials
)

// MIP6TLS is the [mip6tls] section: how the node bootstraps its SA with
// the Home Agent Controller (RFC 6618 §5).
type MIP6TLS struct {
	// HAC is the controller's host:port (TLS over TCP).
	HAC string
	// ServerName is the name the HAC's certificate must carry; CAFile
	// the CAs it must chain to.
	ServerName, CAFile string
	// Identity is the MN's NAI (mip6-mn-id, §5.5.1).
	Identity string
	Method   MIP6Method
	// PSKFile holds the pre-shared key (psk; mode 0600).
	PSKFile string
	// CertificateFile and KeyFile are the EAP-TLS client credentials
	// (eap; the key mode 0600).
	CertificateFile, KeyFile string
	// KeyLogFile, if set, receives the TLS secrets (SSLKEYLOGFILE).
	KeyLogFile string
}

// MIP6Config is the validated configuration of 'fhkey mip6'.
type MIP6Config struct {
	File string
	// Interface is the link whose global address is the care-of address
	// (watched for changes); CareOf, if set, is used instead.
	Interface string
	// Interfaces, instead of Interface, are the links the node may be
	// attached to: the care-of address is the global address of the
	// first that is up and running (a move from one to another is a new
	// care-of address).
	Interfaces []string
	CareOf     netip.Addr
	// TUN names the TUN device carrying the home address ("" = none);
	// TUNMTU is its MTU (1280..65535, RFC 8200 §5's minimum link MTU).
	TUN    string
	TUNMTU int
	// HomeAddress and HomeAgent, if set, are used when the HAC gives
	// none (mip6-ip6-hoa, mip6-haa-ip6 / mip6-port).
	HomeAddress netip.Addr
	HomeAgent   netip.AddrPort
	// Lifetime is the binding lifetime to request; RebootstrapMargin the
	// time before the SA's end at which a new one is asked for.
	Lifetime, RebootstrapMargin time.Duration
	// AllowPlaintextData lets user data travel in the clear when the SA
	// scope (mip6-sas 0) does not cover it.
	AllowPlaintextData bool
	MIP6TLS            MIP6TLS
	Log                Log
	HTTP               HTTP

	lines map[string]int
}

type rawMIP6 struct {
	Interface          string   `toml:"interface"`
	Interfaces         []string `toml:"interfaces"`
	CareOf             string   `toml:"care_of"`
	TUN                string   `toml:"tun"`
	TUNMTU             *int     `toml:"tun_mtu"`
	HomeAddress        string   `toml:"home_address"`
	HomeAgent          string   `toml:"home_agent"`
	Lifetime           string   `toml:"lifetime"`
	RebootstrapMargin  string   `toml:"rebootstrap_margin"`
	AllowPlaintextData bool     `toml:"allow_plaintext_data"`
	MIP6TLS            struct {
		HAC         string `toml:"hac"`
		ServerName  string `toml:"server_name"`
		CA          string `toml:"ca"`
		Identity    string `toml:"identity"`
		Method      string `toml:"method"`
		PSKFile     string `toml:"psk_file"`
		Certificate string `toml:"certificate"`
		Key         string `toml:"key"`
		KeyLog      string `toml:"keylog"`
	} `toml:"mip6tls"`
	Log  rawLog  `toml:"log"`
	HTTP rawHTTP `toml:"http"`
}

// LoadMIP6 reads and validates an RFC 6618 mobile node configuration.
func LoadMIP6(file string) (*MIP6Config, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	return ParseMIP6(file, data)
}

// ParseMIP6 validates data as the configuration of 'fhkey mip6' read from
// file. The error, if any, is Problems with every problem found.
func ParseMIP6(file string, data []byte) (*MIP6Config, error) {
	var raw rawMIP6
	c, err := decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	dir := configDir(file)
	cfg := &MIP6Config{File: file, lines: c.lines, AllowPlaintextData: raw.AllowPlaintextData}
	if raw.CareOf != "" {
		cfg.CareOf = c.unicast("care_of", raw.CareOf)
	}
	switch {
	case len(raw.Interfaces) > 0 && raw.Interface != "":
		c.addf("interfaces", ErrInvalid, "either interface or interfaces, not both")
	case len(raw.Interfaces) > 0:
		for _, name := range raw.Interfaces {
			cfg.Interfaces = append(cfg.Interfaces, c.interfaceName("interfaces", name))
		}
	case raw.Interface != "" || raw.CareOf == "":
		cfg.Interface = c.interfaceName("interface", raw.Interface)
	}
	if raw.TUN != "" {
		cfg.TUN = c.interfaceName("tun", raw.TUN)
	}
	cfg.TUNMTU = c.intRange("tun_mtu", raw.TUNMTU, DefaultMIP6TUNMTU, 1280, 65535)
	if raw.HomeAddress != "" {
		cfg.HomeAddress = c.unicast("home_address", raw.HomeAddress)
	}
	if raw.HomeAgent != "" {
		ap, err := netip.ParseAddrPort(raw.HomeAgent)
		if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			c.addf("home_agent", ErrInvalid, "%q: want [IPv6]:PORT such as [2001:db8:1::1]:7872", raw.HomeAgent)
		}
		cfg.HomeAgent = ap
	}
	cfg.Lifetime = c.duration("lifetime", raw.Lifetime, DefaultMIP6Lifetime, 4*time.Second, 0xffff*4*time.Second)
	if cfg.Lifetime%(4*time.Second) != 0 {
		c.addf("lifetime", ErrInvalid, "%v: a multiple of 4 s (RFC 6275 §6.1.7)", cfg.Lifetime)
	}
	cfg.RebootstrapMargin = c.duration("rebootstrap_margin", raw.RebootstrapMargin, DefaultMIP6RebootstrapMargin, time.Second, 7*24*time.Hour)
	t := raw.MIP6TLS
	m := MIP6TLS{HAC: t.HAC, ServerName: t.ServerName, Identity: t.Identity, Method: MIP6Method(t.Method)}
	if _, port, err := net.SplitHostPort(t.HAC); t.HAC == "" {
		c.addf("mip6tls.hac", ErrMissing, "required: the HAC's host:port")
	} else if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		c.addf("mip6tls.hac", ErrInvalid, "%q: want host:port such as hac.example.com:443", t.HAC)
	}
	c.required("mip6tls.server_name", t.ServerName)
	c.required("mip6tls.ca", t.CA)
	m.CAFile = resolve(dir, t.CA)
	if t.Identity == "" || len(t.Identity) > 253 {
		// §5.5.1: mip6-mn-id is an NAI (RFC 4282: at most 253 octets).
		c.addf("mip6tls.identity", ErrInvalid, "%q: the MN's NAI, 1 to 253 octets, required", t.Identity)
	}
	switch m.Method {
	case "", MIP6MethodPSK:
		m.Method = MIP6MethodPSK
		c.required("mip6tls.psk_file", t.PSKFile)
		m.PSKFile = resolve(dir, t.PSKFile)
	case MIP6MethodEAP:
		c.required("mip6tls.certificate", t.Certificate)
		c.required("mip6tls.key", t.Key)
		m.CertificateFile, m.KeyFile = resolve(dir, t.Certificate), resolve(dir, t.Key)
	default:
		c.addf("mip6tls.method", ErrInvalid, "%q: want \"psk\" or \"eap\"", t.Method)
	}
	if t.KeyLog != "" {
		m.KeyLogFile = resolve(dir, t.KeyLog)
	}
	cfg.MIP6TLS = m
	cfg.Log = c.logSection(raw.Log)
	cfg.HTTP = c.httpSection(raw.HTTP)
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// MIP6Secrets are the files of a MIP6Config, read and checked.
type MIP6Secrets struct {
	// PSK is the pre-shared key (psk method); the caller clears it.
	PSK []byte
	// CAs are the HAC's trust anchors (DER certificates).
	CAs [][]byte
}

// Open reads the files the configuration names: the PSK file (mode 0600
// or stricter, LoadSecret) and the CA file. The EAP-TLS credentials are
// read by the bootstrap client.
func (cfg *MIP6Config) Open() (*MIP6Secrets, error) {
	c := &collector{file: cfg.File, lines: cfg.lines}
	s := &MIP6Secrets{}
	var err error
	if cfg.MIP6TLS.Method == MIP6MethodPSK {
		if s.PSK, err = LoadSecret(cfg.MIP6TLS.PSKFile); err != nil {
			c.add("mip6tls.psk_file", err)
		}
	}
	if s.CAs, err = LoadCertificates(cfg.MIP6TLS.CAFile); err != nil {
		c.add("mip6tls.ca", err)
	}
	if err := c.ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckMIP6 validates file and the files it names (--check).
func CheckMIP6(file string) error {
	cfg, err := LoadMIP6(file)
	if err != nil {
		return err
	}
	_, err = cfg.Open()
	return err
}
