package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// TestExampleARMSK parses examples/ar-msk.toml and checks the [eap]
// section and what it changes (no SEND, a plain address).
func TestExampleARMSK(t *testing.T) {
	cfg, err := ParseAR("/etc/fhkey/ar-msk.toml", readExample(t, "ar-msk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &AREAP{
		Interfaces: []string{"eth1"},
		Servers: []RADIUSServer{
			{Address: netip.MustParseAddrPort("[2001:db8:53::1]:1812"), SecretFile: "/etc/fhkey/radius-eap.secret"},
			{Address: netip.MustParseAddrPort("[2001:db8:53::2]:1812"), SecretFile: "/etc/fhkey/radius-eap2.secret"},
		},
		Timeout: time.Second, Tries: 3, MaxPending: 256, NASIdentifier: "par.example.com",
		MaxSessions: 1024, RetransmitInterval: 3 * time.Second, MaxRetransmissions: 4, SessionTimeout: 60 * time.Second,
		MSKLifetime: time.Hour, Reauth: true, ReauthFraction: 0.8, MinReauthPeriod: time.Minute, QuietPeriod: time.Minute,
		Algorithms: []hokey.AlgorithmType{hokey.HMACSHA256Trunc128},
	}
	if !reflect.DeepEqual(cfg.EAP, want) {
		t.Errorf("[eap]\ngot  %+v\nwant %+v", cfg.EAP, want)
	}
	if cfg.SENDEnabled() || cfg.AAA != nil || cfg.Address != netip.MustParseAddr("2001:db8:1::1") ||
		cfg.KeyStore != (KeyStore{Type: KeyStoreBolt, Path: "/var/lib/fhkey/ar-keys.db"}) {
		t.Errorf("config %+v", cfg)
	}
}

// TestAREAPDefaults: [eap] with one server takes the pae defaults and the
// router's interface.
func TestAREAPDefaults(t *testing.T) {
	cfg, err := ParseAR("/etc/fhkey/ar.toml", []byte(minimalAREAP))
	if err != nil {
		t.Fatal(err)
	}
	want := &AREAP{Interfaces: []string{"eth1"}, Servers: []RADIUSServer{{Address: netip.MustParseAddrPort("127.0.0.1:1812"), SecretFile: "/etc/fhkey/s"}},
		Timeout: DefaultRADIUSTimeout, Tries: DefaultRADIUSTries, MaxPending: RADIUSIdentifiers,
		MaxSessions: DefaultEAPMaxSessions, RetransmitInterval: DefaultEAPRetransmitInterval, MaxRetransmissions: DefaultEAPMaxRetransmissions,
		SessionTimeout: DefaultEAPSessionTimeout, MSKLifetime: DefaultEAPMSKLifetime,
		Reauth: true, ReauthFraction: DefaultEAPReauthFraction, MinReauthPeriod: DefaultEAPMinReauthPeriod, QuietPeriod: DefaultEAPQuietPeriod,
		Algorithms: []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}}
	if !reflect.DeepEqual(cfg.EAP, want) {
		t.Errorf("[eap]\ngot  %+v\nwant %+v", cfg.EAP, want)
	}
}

// TestAREAPReauthQuiet: reauth = false, another fraction and minimum,
// and quiet_period = "0s" (no quiet period) are taken as written.
func TestAREAPReauthQuiet(t *testing.T) {
	for _, tc := range []struct {
		keys                 string
		reauth               bool
		fraction             float64
		minPeriod, quietTime time.Duration
	}{
		{"reauth = false\nquiet_period = \"0s\"", false, DefaultEAPReauthFraction, DefaultEAPMinReauthPeriod, 0},
		{"reauth_fraction = 0.5\nmin_reauth_period = \"10s\"\nquiet_period = \"2m\"", true, 0.5, 10 * time.Second, 2 * time.Minute},
		{"reauth = true\nreauth_fraction = 0.99\nmin_reauth_period = \"24h\"\nquiet_period = \"65535s\"", true, 0.99, 24 * time.Hour, 65535 * time.Second},
	} {
		cfg, err := ParseAR("/etc/fhkey/ar.toml", []byte(strings.Replace(minimalAREAP, "[eap]\n", "[eap]\n"+tc.keys+"\n", 1)))
		if err != nil {
			t.Fatalf("%q: %v", tc.keys, err)
		}
		e := cfg.EAP
		if e.Reauth != tc.reauth || e.ReauthFraction != tc.fraction || e.MinReauthPeriod != tc.minPeriod || e.QuietPeriod != tc.quietTime {
			t.Errorf("%q: reauth %v, fraction %v, min %v, quiet %v", tc.keys, e.Reauth, e.ReauthFraction, e.MinReauthPeriod, e.QuietPeriod)
		}
	}
}

// minimalAREAP is an MSK-only router (4 lines, 3 of [key_store], then 4
// of [eap]).
const minimalAREAP = `interface = "eth1"
address = "2001:db8:1::1"
prefixes = ["2001:db8:1::/64"]
[key_store]
type = "bolt"
path = "k.db"
[eap]
[[eap.servers]]
address = "127.0.0.1:1812"
secret_file = "s"
`

func TestParseAREAPProblems(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(minimalAREAP, old, new, 1) }
	eap := func(s string) string { return replace("[eap]\n", "[eap]\n"+s+"\n") }
	parseProblems(t, "ar.toml", "", ParseAR, []problemCase{
		{name: "no server", snippet: strings.Split(minimalAREAP, "[[eap.servers]]")[0], want: ErrMissing, key: "eap.servers", line: 7},
		{name: "no server address", snippet: replace(`address = "127.0.0.1:1812"`, ``), want: ErrMissing, key: "eap.servers[0].address", line: 8},
		{name: "bad server address", snippet: replace(`"127.0.0.1:1812"`, `"127.0.0.1"`), want: ErrInvalid, key: "eap.servers[0].address", line: 9},
		{name: "server twice", snippet: minimalAREAP + "[[eap.servers]]\naddress = \"127.0.0.1:1812\"\nsecret_file = \"t\"\n", want: ErrInvalid, key: "eap.servers[1].address", line: 12},
		{name: "no secret file", snippet: replace(`secret_file = "s"`, ``), want: ErrMissing, key: "eap.servers[0].secret_file", line: 8},
		{name: "empty interfaces", snippet: eap("interfaces = []"), want: ErrMissing, key: "eap.interfaces", line: 8},
		{name: "bad interface", snippet: eap(`interfaces = ["a/b"]`), want: ErrInvalid, key: "eap.interfaces[0]", line: 8},
		{name: "interface twice", snippet: eap(`interfaces = ["a", "a"]`), want: ErrInvalid, key: "eap.interfaces[1]", line: 8},
		{name: "timeout", snippet: eap(`timeout = "1ms"`), want: ErrInvalid, key: "eap.timeout", line: 8},
		{name: "tries", snippet: eap("tries = 0"), want: ErrInvalid, key: "eap.tries", line: 8},
		{name: "max pending", snippet: eap("max_pending = 257"), want: ErrInvalid, key: "eap.max_pending", line: 8},
		{name: "NAS identifier", snippet: eap(`nas_identifier = "` + strings.Repeat("n", 254) + `"`), want: ErrInvalid, key: "eap.nas_identifier", line: 8},
		{name: "framed MTU", snippet: eap("framed_mtu = 10"), want: ErrInvalid, key: "eap.framed_mtu", line: 8},
		{name: "max sessions", snippet: eap("max_sessions = 0"), want: ErrInvalid, key: "eap.max_sessions", line: 8},
		{name: "retransmit interval", snippet: eap(`retransmit_interval = "1ms"`), want: ErrInvalid, key: "eap.retransmit_interval", line: 8},
		{name: "max retransmissions", snippet: eap("max_retransmissions = 0"), want: ErrInvalid, key: "eap.max_retransmissions", line: 8},
		{name: "session timeout", snippet: eap(`session_timeout = "1h"`), want: ErrInvalid, key: "eap.session_timeout", line: 8},
		{name: "MSK lifetime", snippet: eap(`msk_lifetime = "48h"`), want: ErrInvalid, key: "eap.msk_lifetime", line: 8},
		{name: "reauth not a boolean", snippet: eap(`reauth = "no"`), want: ErrSyntax},
		{name: "reauth fraction 0", snippet: eap("reauth_fraction = 0.0"), want: ErrInvalid, key: "eap.reauth_fraction", line: 8},
		{name: "reauth fraction 1", snippet: eap("reauth_fraction = 1.0"), want: ErrInvalid, key: "eap.reauth_fraction", line: 8},
		{name: "reauth fraction negative", snippet: eap("reauth_fraction = -0.5"), want: ErrInvalid, key: "eap.reauth_fraction", line: 8},
		{name: "reauth fraction NaN", snippet: eap("reauth_fraction = nan"), want: ErrInvalid, key: "eap.reauth_fraction", line: 8},
		{name: "reauth fraction not a number", snippet: eap(`reauth_fraction = "80%"`), want: ErrSyntax},
		{name: "min reauth period short", snippet: eap(`min_reauth_period = "500ms"`), want: ErrInvalid, key: "eap.min_reauth_period", line: 8},
		{name: "min reauth period long", snippet: eap(`min_reauth_period = "25h"`), want: ErrInvalid, key: "eap.min_reauth_period", line: 8},
		{name: "min reauth period unparsable", snippet: eap(`min_reauth_period = "soon"`), want: ErrInvalid, key: "eap.min_reauth_period", line: 8},
		{name: "quiet period negative", snippet: eap(`quiet_period = "-1s"`), want: ErrInvalid, key: "eap.quiet_period", line: 8},
		{name: "quiet period long", snippet: eap(`quiet_period = "65536s"`), want: ErrInvalid, key: "eap.quiet_period", line: 8},
		{name: "no algorithms", snippet: eap("algorithms = []"), want: ErrMissing, key: "eap.algorithms", line: 8},
		{name: "algorithm", snippet: eap(`algorithms = ["MD5"]`), want: ErrInvalid, key: "eap.algorithms[0]", line: 8},
		{name: "memory key store", snippet: replace("type = \"bolt\"\npath = \"k.db\"", `type = "memory"`), want: ErrInvalid, key: "key_store.type", line: 5},
		{name: "no address", snippet: replace(`address = "2001:db8:1::1"`+"\n", ``), want: ErrMissing, key: "address"},
		{name: "unknown key", snippet: eap(`password = "x"`), want: ErrUnknownKey, key: "eap.password", line: 8},
	})
}

// TestAREAPOpen: Open reads each server's secret; a secret readable by
// others is a problem named by its key, by --check too; ClearSecrets
// zeroes them.
func TestAREAPOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ar.toml")
	writeFile(t, file, []byte(minimalAREAP), 0o644)
	writeFile(t, filepath.Join(dir, "s"), []byte("radius-secret\n"), 0o600)
	if err := CheckAR(file, time.Now()); err != nil {
		t.Fatalf("CheckAR: %v", err)
	}
	cfg, err := LoadAR(file)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := cfg.Open(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret := cr.EAPSecrets[netip.MustParseAddrPort("127.0.0.1:1812")]
	if string(secret) != "radius-secret" {
		t.Fatalf("secret %q", secret)
	}
	cr.ClearSecrets()
	if string(secret) != strings.Repeat("\x00", len("radius-secret")) {
		t.Errorf("secret not cleared: %q", secret)
	}
	if err := os.Chmod(filepath.Join(dir, "s"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkInsecure(t, CheckAR(file, time.Now()), "eap.servers[0].secret_file")
}
