package config

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// TestExampleARAAA parses examples/ar-aaa.toml, an AAA-only router, and
// checks every value.
func TestExampleARAAA(t *testing.T) {
	cfg, err := ParseAR("/etc/fhkey/ar-aaa.toml", readExample(t, "ar-aaa.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p := []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")}
	proxy := RADIUSServer{Address: netip.MustParseAddrPort("127.0.0.1:1812"), SecretFile: "/etc/fhkey/radius-proxy.secret"}
	want := &ARConfig{
		File:        "/etc/fhkey/ar-aaa.toml",
		Interface:   "eth1",
		Address:     netip.MustParseAddr("2001:db8:1::1"),
		Prefixes:    p,
		Algorithms:  []hokey.AlgorithmType{hokey.HMACSHA256Trunc128, hokey.HMACSHA1Trunc96},
		KeyLifetime: 12 * time.Hour,
		Forwarding:  Forwarding{Lifetime: 10 * time.Second, Enabled: true, TUN: "fhkfw0"},
		Limits:      DefaultLimits,
		SEND:        (&collector{}).sendSection(rawSEND{}),
		MaxCPARate:  DefaultMaxCPARate,
		KeyStore:    KeyStore{Type: KeyStoreBolt, Path: "/var/lib/fhkey/ar-keys.db"},
		AAA: &ARAAA{
			Realms: []AAARealm{
				{Name: "example.com", Servers: []RADIUSServer{proxy,
					{Address: netip.MustParseAddrPort("[2001:db8:53::2]:1812"), SecretFile: "/etc/fhkey/radius-hks2.secret"}}},
				{Name: "*", Servers: []RADIUSServer{proxy}},
			},
			Timeout: time.Second, Tries: 3, MaxPending: 256, HKSTimeout: 10 * time.Second, Prefixes: p,
		},
		Log:  Log{Level: slog.LevelInfo, Format: LogText},
		HTTP: HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9750")},
	}
	want.lines = cfg.lines
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("examples/ar-aaa.toml:\ngot  %+v\n     %+v\nwant %+v\n     %+v", cfg, cfg.AAA, want, want.AAA)
	}
	if cfg.SENDEnabled() || cfg.RouterAddress(nil) != want.Address || len(cfg.AAA.Servers()) != 2 {
		t.Errorf("SENDEnabled %v, RouterAddress %v, servers %v", cfg.SENDEnabled(), cfg.RouterAddress(nil), cfg.AAA.Servers())
	}
}

// TestExampleMNAAA parses examples/mn-aaa.toml and checks every value.
func TestExampleMNAAA(t *testing.T) {
	cfg, err := ParseMN("/etc/fhkey/mn-aaa.toml", readExample(t, "mn-aaa.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ar1, ar2 := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1")
	want := &MNConfig{
		File:               "/etc/fhkey/mn-aaa.toml",
		Interface:          "wlan0",
		CareOf:             netip.MustParseAddr("2001:db8:1::100"),
		PreferredAlgorithm: hokey.HMACSHA256Trunc128,
		Algorithms:         []hokey.AlgorithmType{hokey.HMACSHA256Trunc128},
		HKEPKLifetime:      DefaultHKEPKLifetime,
		HKEPKHandovers:     DefaultHKEPKHandovers,
		RefreshBefore:      DefaultRefreshBefore,
		Decapsulation:      Decapsulation{Enabled: true, TUN: "fhkdc0", Allowed: []netip.Addr{ar1, ar2}},
		Handover:           Handover{NewInterface: "wlan1", NewCareOf: netip.MustParseAddr("2001:db8:2::100")},
		SEND:               (&collector{}).sendSection(rawSEND{}),
		KeyStore:           KeyStore{Type: KeyStoreMemory},
		AAA: &MNAAA{NAI: "mn@example.com", HMKFile: "/etc/fhkey/mn.hmk", PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256,
			Routers: []netip.Addr{ar1}, NewRouters: []netip.Addr{ar2}},
		Log:  Log{Level: slog.LevelInfo, Format: LogText},
		HTTP: HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9751")},
	}
	want.lines = cfg.lines
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("examples/mn-aaa.toml:\ngot  %+v\n     %+v\nwant %+v\n     %+v", cfg, cfg.AAA, want, want.AAA)
	}
	if cfg.SENDEnabled() || !cfg.Handover.Enabled() {
		t.Errorf("SENDEnabled %v, handover %v", cfg.SENDEnabled(), cfg.Handover.Enabled())
	}
}

// TestAAAExamplesOpen checks the AAA samples with their secret files:
// mode 0600 required, every problem reported with its key.
func TestAAAExamplesOpen(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"radius-proxy.secret": []byte("proxy-secret\n"),
		"radius-hks2.secret":  []byte("hks2-secret\n"),
		"mn.hmk":              bytes.Repeat([]byte("0123456789abcdef"), 8),
	} {
		writeFile(t, filepath.Join(dir, name), data, 0o600)
	}
	arFile := relocate(t, dir, "ar-aaa.toml")
	if err := CheckAR(arFile, time.Now()); err != nil {
		t.Errorf("CheckAR(ar-aaa.toml): %v", err)
	}
	cfg, err := LoadAR(arFile)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := cfg.Open(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(cr.RADIUSSecrets) != 2 || string(cr.RADIUSSecrets[netip.MustParseAddrPort("127.0.0.1:1812")]) != "proxy-secret" || cr.CGA != nil {
		t.Errorf("credentials %+v", cr)
	}
	mnFile := relocate(t, dir, "mn-aaa.toml")
	if err := CheckMN(mnFile); err != nil {
		t.Errorf("CheckMN(mn-aaa.toml): %v", err)
	}
	mcfg, err := LoadMN(mnFile)
	if err != nil {
		t.Fatal(err)
	}
	mcr, err := mcfg.Open()
	if err != nil || len(mcr.HMK) != 64 || mcr.Key != nil {
		t.Fatalf("MN credentials %+v, %v", mcr, err)
	}

	// Readable by others: refused, named by key.
	if err := os.Chmod(filepath.Join(dir, "radius-hks2.secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "mn.hmk"), 0o640); err != nil {
		t.Fatal(err)
	}
	checkInsecure(t, CheckAR(arFile, time.Now()), "aaa.realms[0].servers[1].secret_file")
	checkInsecure(t, CheckMN(mnFile), "aaa.hmk_file")
}

// minimalARAAA is an AAA-only router (4 lines, then 4 of [aaa]).
const minimalARAAA = `interface = "eth1"
address = "2001:db8:1::1"
prefixes = ["2001:db8:1::/64"]

[aaa]
[[aaa.realms]]
name = "*"
servers = [{ address = "127.0.0.1:1812", secret_file = "s" }]
`

// TestARBothModes: SEND credentials and [aaa] together, the router's
// address its CGA.
func TestARBothModes(t *testing.T) {
	cfg, err := ParseAR("ar.toml", []byte(minimalAR+"\n[aaa]\nmax_pending = 512\n[[aaa.realms]]\nname = \"Example.COM\"\nservers = [{ address = \"127.0.0.1:1812\", secret_file = \"a\" }, { address = \"127.0.0.2:1812\", secret_file = \"b\" }]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SENDEnabled() || cfg.Address.IsValid() || cfg.AAA.MaxPending != 512 || cfg.AAA.Realms[0].Name != "example.com" ||
		!reflect.DeepEqual(cfg.AAA.Prefixes, cfg.Prefixes) {
		t.Errorf("%+v %+v", cfg, cfg.AAA)
	}
}

func TestParseARAAAProblems(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(minimalARAAA, old, new, 1) }
	parseProblems(t, "ar.toml", "", ParseAR, []problemCase{
		{name: "no address", snippet: replace(`address = "2001:db8:1::1"`, ``), replace: true, want: ErrMissing, key: "address"},
		{name: "link-local address", snippet: replace(`"2001:db8:1::1"`, `"fe80::1"`), replace: true, want: ErrInvalid, key: "address", line: 2},
		{name: "address off-link", snippet: replace(`"2001:db8:1::1"`, `"2001:db8:9::1"`), replace: true, want: ErrInvalid, key: "address", line: 2},
		{name: "address with SEND", snippet: minimalAR + "address = \"2001:db8:1::1\"\n[aaa]\n[[aaa.realms]]\nname = \"*\"\nservers = [{ address = \"127.0.0.1:1812\", secret_file = \"s\" }]\n",
			replace: true, want: ErrInvalid, key: "address", line: 7},
		{name: "some SEND credentials", snippet: replace(`interface = "eth1"`, "interface = \"eth1\"\nkey = \"ar.key\""), replace: true, want: ErrMissing, key: "cga"},
		{name: "send without credentials", snippet: minimalARAAA + "[send]\nmax_cpa_rate = 5\n", replace: true, want: ErrInvalid, key: "send", line: 9},
		{name: "neighbor without credentials", snippet: minimalARAAA + "[[neighbor]]\naccess_point = \"02:00:00:00:00:01\"\naddress = \"2001:db8:2::1\"\n", replace: true, want: ErrInvalid, key: "neighbor", line: 9},
		{name: "no realm", snippet: "interface = \"eth1\"\naddress = \"2001:db8:1::1\"\nprefixes = [\"2001:db8:1::/64\"]\n[aaa]\ntries = 2\n", replace: true, want: ErrMissing, key: "aaa.realms", line: 4},
		{name: "realm without name", snippet: replace(`name = "*"`, ``), replace: true, want: ErrMissing, key: "aaa.realms[0].name", line: 6},
		{name: "realm with @", snippet: replace(`"*"`, `"mn@example.com"`), replace: true, want: ErrInvalid, key: "aaa.realms[0].name", line: 7},
		{name: "realm twice", snippet: minimalARAAA + "[[aaa.realms]]\nname = \"*\"\nservers = [{ address = \"127.0.0.1:1812\", secret_file = \"s\" }]\n", replace: true, want: ErrInvalid, key: "aaa.realms[1].name", line: 10},
		{name: "no server", snippet: replace(`servers = [{ address = "127.0.0.1:1812", secret_file = "s" }]`, `servers = []`), replace: true, want: ErrMissing, key: "aaa.realms[0].servers", line: 8},
		{name: "server without port", snippet: replace(`"127.0.0.1:1812"`, `"127.0.0.1"`), replace: true, want: ErrInvalid, key: "aaa.realms[0].servers[0].address", line: 8},
		{name: "server without secret", snippet: replace(`, secret_file = "s"`, ``), replace: true, want: ErrMissing, key: "aaa.realms[0].servers[0].secret_file", line: 8},
		{name: "server with two secrets", snippet: minimalARAAA + "[[aaa.realms]]\nname = \"example.com\"\nservers = [{ address = \"127.0.0.1:1812\", secret_file = \"t\" }]\n", replace: true, want: ErrInvalid, key: "aaa.realms[1].servers[0].secret_file", line: 11},
		{name: "max pending beyond the identifiers", snippet: replace("[aaa]", "[aaa]\nmax_pending = 257"), replace: true, want: ErrInvalid, key: "aaa.max_pending", line: 6},
		{name: "tries", snippet: replace("[aaa]", "[aaa]\ntries = 0"), replace: true, want: ErrInvalid, key: "aaa.tries", line: 6},
		{name: "timeout", snippet: replace("[aaa]", "[aaa]\ntimeout = \"1ms\""), replace: true, want: ErrInvalid, key: "aaa.timeout", line: 6},
		{name: "CoA prefixes empty", snippet: replace("[aaa]", "[aaa]\nprefixes = []"), replace: true, want: ErrMissing, key: "aaa.prefixes", line: 6},
		{name: "CoA prefix", snippet: replace("[aaa]", "[aaa]\nprefixes = [\"2001:db8::1/64\"]"), replace: true, want: ErrInvalid, key: "aaa.prefixes[0]", line: 6},
		{name: "unknown key", snippet: replace("[aaa]", "[aaa]\nsecret = \"x\""), replace: true, want: ErrUnknownKey, key: "aaa.secret", line: 6},
	})
}

// minimalMNAAA is a node in the shared-key mode (6 lines).
const minimalMNAAA = `interface = "wlan0"
care_of = "2001:db8:1::100"
[aaa]
nai = "mn@example.com"
hmk_file = "mn.hmk"
routers = ["2001:db8:1::1"]
`

func TestParseMNAAAProblems(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(minimalMNAAA, old, new, 1) }
	parseProblems(t, "mn.toml", "", ParseMN, []problemCase{
		{name: "no care-of", snippet: replace(`care_of = "2001:db8:1::100"`, ``), replace: true, want: ErrMissing, key: "care_of"},
		{name: "care-of with SEND", snippet: minimalMN + "care_of = \"2001:db8:1::100\"\n", replace: true, want: ErrInvalid, key: "care_of", line: 5},
		{name: "SEND key with AAA", snippet: replace(`interface = "wlan0"`, "interface = \"wlan0\"\nkey = \"mn.key\""), replace: true, want: ErrInvalid, key: "key", line: 2},
		{name: "no NAI", snippet: replace(`nai = "mn@example.com"`, ``), replace: true, want: ErrMissing, key: "aaa.nai", line: 3},
		{name: "long NAI", snippet: replace(`"mn@example.com"`, `"`+strings.Repeat("n", 255)+`"`), replace: true, want: ErrInvalid, key: "aaa.nai", line: 4},
		{name: "no HMK", snippet: replace(`hmk_file = "mn.hmk"`, ``), replace: true, want: ErrMissing, key: "aaa.hmk_file", line: 3},
		{name: "PRF", snippet: minimalMNAAA + "prf = \"MD5\"\n", replace: true, want: ErrInvalid, key: "aaa.prf", line: 7},
		{name: "MAC", snippet: minimalMNAAA + "mac = 3\n", replace: true, want: ErrInvalid, key: "aaa.mac", line: 7},
		{name: "no router", snippet: replace(`routers = ["2001:db8:1::1"]`, ``), replace: true, want: ErrMissing, key: "aaa.routers", line: 3},
		{name: "multicast router", snippet: replace(`"2001:db8:1::1"`, `"ff02::2"`), replace: true, want: ErrInvalid, key: "aaa.routers[0]", line: 6},
		{name: "new CGA with AAA", snippet: minimalMNAAA + "[handover]\nnew_cga = \"n.json\"\n", replace: true, want: ErrInvalid, key: "handover.new_cga", line: 8},
		{name: "new care-of is care-of", snippet: minimalMNAAA + "[handover]\nnew_care_of = \"2001:db8:1::100\"\n", replace: true, want: ErrInvalid, key: "handover.new_care_of", line: 8},
		{name: "new care-of without AAA", snippet: minimalMN + "[handover]\nnew_care_of = \"2001:db8:2::100\"\n", replace: true, want: ErrInvalid, key: "handover.new_care_of", line: 6},
		{name: "decapsulation without new care-of", snippet: minimalMNAAA + "[decapsulation]\nenabled = true\nallowed = [\"2001:db8:1::1\"]\n", replace: true, want: ErrMissing, key: "handover.new_care_of"},
	})
	// access_routers is the default of aaa.routers.
	cfg, err := ParseMN("mn.toml", []byte(strings.Replace(replace(`routers = ["2001:db8:1::1"]`, ``), "[aaa]", "access_routers = [\"2001:db8:1::2\"]\n[aaa]", 1)))
	if err != nil || len(cfg.AAA.Routers) != 1 || cfg.AAA.Routers[0] != netip.MustParseAddr("2001:db8:1::2") {
		t.Errorf("aaa.routers default: %+v, %v", cfg, err)
	}
}
