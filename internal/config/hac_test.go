package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
)

// TestExampleHAC parses the shipped sample and checks every value.
func TestExampleHAC(t *testing.T) {
	cfg, err := ParseHAC("/etc/fhkey/hac.toml", readExample(t, "hac.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &HACConfig{
		File:            "/etc/fhkey/hac.toml",
		Listen:          netip.MustParseAddrPort("[2001:db8:1::10]:7872"),
		CertificateFile: "/etc/fhkey/hac-cert.pem", KeyFile: "/etc/fhkey/hac-key.pem",
		TLSMinVersion: 0x0303, SessionTimeout: 30 * time.Second, HandshakeTimeout: 10 * time.Second,
		Limits:          HACLimits{MaxSessions: 1024, PerSource: Rate{PerSecond: 2, Burst: 10}, MaxTracked: 16384, MaxPerSource: 16},
		SubscribersPath: "/var/lib/fhkey/hac-subscribers.db",
		RADIUS:          []HACRADIUS{{Address: netip.MustParseAddrPort("127.0.0.1:1812"), SecretFile: "/etc/fhkey/radius-hac.secret"}},
		HomeAgent: HACHomeAgent{Address: netip.MustParseAddr("2001:db8:1::1"), Port: 7872, Channel: "[2001:db8:1::1]:7874",
			ServerName: "ha.example.com", CAFile: "/etc/fhkey/ha-ca.pem", CertificateFile: "/etc/fhkey/hac-client-cert.pem", KeyFile: "/etc/fhkey/hac-client-key.pem"},
		SALifetime:   24 * time.Hour,
		CipherSuites: []mip6tls.CipherSuite{mip6tls.CipherSuiteAES128CBCSHA256, mip6tls.CipherSuiteAES128CBCSHA, mip6tls.CipherSuiteNullSHA256},
		DNS:          netip.MustParseAddr("2001:db8:1::53"),
		Log:          Log{Level: slog.LevelInfo, Format: LogText},
		HTTP:         HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9754")},
	}
	cfg.lines = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
}

// TestParseHACLimitDefaults: without the keys, the documented defaults;
// handshake_timeout never exceeds a shorter session_timeout; rate 0 is
// unlimited; max_per_source never exceeds max_sessions, 0 is unlimited.
func TestParseHACLimitDefaults(t *testing.T) {
	base := "listen = \"127.0.0.1:0\"\ncertificate = \"c\"\nkey = \"k\"\n[subscribers]\npath = \"s.db\"\n[home_agent]\naddress = \"2001:db8::1\"\nchannel = \"h:1\"\nserver_name = \"h\"\nca = \"ca\"\ncertificate = \"c\"\nkey = \"k\"\n"
	cfg, err := ParseHAC("/etc/fhkey/hac.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	want := HACLimits{MaxSessions: DefaultHACMaxSessions, PerSource: DefaultHACPerSource, MaxTracked: DefaultHACMaxTracked,
		MaxPerSource: DefaultHACMaxPerSource}
	if cfg.Limits != want || cfg.HandshakeTimeout != DefaultHACHandshakeTimeout {
		t.Fatalf("%+v %v", cfg.Limits, cfg.HandshakeTimeout)
	}
	cfg, err = ParseHAC("/etc/fhkey/hac.toml", []byte("session_timeout = \"4s\"\n"+base+"[limits]\nper_source = { rate = 0.0 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HandshakeTimeout != 4*time.Second || cfg.Limits.PerSource.PerSecond != 0 || cfg.Limits.PerSource.Burst != DefaultHACPerSource.Burst {
		t.Fatalf("%v %+v", cfg.HandshakeTimeout, cfg.Limits.PerSource)
	}
	for _, c := range []struct {
		limits string
		want   int
	}{{"max_sessions = 4", 4}, {"max_per_source = 0", 0}, {"max_sessions = 8\nmax_per_source = 8", 8}} {
		cfg, err = ParseHAC("/etc/fhkey/hac.toml", []byte(base+"[limits]\n"+c.limits+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", c.limits, err)
		}
		if cfg.Limits.MaxPerSource != c.want {
			t.Errorf("%s: max_per_source %d, want %d", c.limits, cfg.Limits.MaxPerSource, c.want)
		}
	}
}

// TestParseHACProblems: each bad key is named.
func TestParseHACProblems(t *testing.T) {
	for _, tc := range []struct {
		name, toml, key string
		want            error
	}{
		{"listen", `listen = "nope"`, "listen", ErrInvalid},
		{"certificate", `listen = "127.0.0.1:0"`, "certificate", ErrMissing},
		{"tls version", `tls_min_version = "1.1"`, "tls_min_version", ErrInvalid},
		{"suite", "[security_associations]\nciphersuites = [\"RC4\"]", "security_associations.ciphersuites[0]", ErrInvalid},
		{"channel", "[home_agent]\nchannel = \"x\"", "home_agent.channel", ErrInvalid},
		{"port", "[home_agent]\nport = 70000", "home_agent.port", ErrInvalid},
		{"handshake timeout above session timeout", "session_timeout = \"5s\"\nhandshake_timeout = \"6s\"", "handshake_timeout", ErrInvalid},
		{"handshake timeout below 1 s", "handshake_timeout = \"500ms\"", "handshake_timeout", ErrInvalid},
		{"max_sessions 0", "[limits]\nmax_sessions = 0", "limits.max_sessions", ErrInvalid},
		{"max_sessions negative", "[limits]\nmax_sessions = -1", "limits.max_sessions", ErrInvalid},
		{"max_sessions too large", "[limits]\nmax_sessions = 2000000", "limits.max_sessions", ErrInvalid},
		{"per_source negative rate", "[limits]\nper_source = { rate = -1.0 }", "limits.per_source.rate", ErrInvalid},
		{"per_source burst 0", "[limits]\nper_source = { rate = 1.0, burst = 0 }", "limits.per_source.burst", ErrInvalid},
		{"per_source unknown key", "[limits]\nper_source = { rate = 1.0, brust = 3 }", "limits.per_source.brust", ErrUnknownKey},
		{"max_tracked 0", "[limits]\nmax_tracked = 0", "limits.max_tracked", ErrInvalid},
		{"max_per_source negative", "[limits]\nmax_per_source = -1", "limits.max_per_source", ErrInvalid},
		{"max_per_source above max_sessions", "[limits]\nmax_sessions = 4\nmax_per_source = 5", "limits.max_per_source", ErrInvalid},
		{"limits unknown key", "[limits]\nmax_conns = 5", "limits.max_conns", ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHAC("hac.toml", []byte(tc.toml))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v", err)
			}
			for _, p := range ps {
				if p.Key == tc.key && errors.Is(p, tc.want) {
					return
				}
			}
			t.Fatalf("no %v problem at %s in %v", tc.want, tc.key, err)
		})
	}
}
