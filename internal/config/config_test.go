package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/send"
)

// minimalAR is the smallest valid access router configuration.
const minimalAR = `interface = "eth1"
key = "ar.key"
cga = "ar-cga.json"
certificates = "ar-cert.pem"
trust_anchors = ["ta.pem"]
prefixes = ["2001:db8:1::/64"]
`

const minimalMN = `interface = "wlan0"
key = "mn.key"
cga = "mn-cga.json"
trust_anchors = ["ta.pem"]
`

func TestParseARDefaults(t *testing.T) {
	cfg, err := ParseAR("/etc/fhkey/ar.toml", []byte(minimalAR))
	if err != nil {
		t.Fatal(err)
	}
	want := &ARConfig{
		File:             "/etc/fhkey/ar.toml",
		Interface:        "eth1",
		KeyFile:          "/etc/fhkey/ar.key", // relative to the configuration file
		CGAFile:          "/etc/fhkey/ar-cga.json",
		CertificateFile:  "/etc/fhkey/ar-cert.pem",
		TrustAnchorFiles: []string{"/etc/fhkey/ta.pem"},
		Prefixes:         []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")},
		Algorithms:       []hokey.AlgorithmType{hokey.HMACSHA256Trunc128, hokey.HMACSHA1Trunc96},
		KeyLifetime:      12 * time.Hour, // HK-LIFETIME, RFC 5269 §3.7
		Forwarding:       Forwarding{Lifetime: 10 * time.Second},
		Limits:           DefaultLimits,
		SEND:             SEND{Timestamp: send.DefaultTimestampParams, MinKeyBits: 1024, MaxKeyBits: 4096},
		MaxCPARate:       10, // MAX_CPA_RATE, RFC 3971 §10.1
		KeyStore:         KeyStore{Type: KeyStoreMemory},
		Log:              Log{Level: slog.LevelInfo, Format: LogText},
	}
	want.lines = cfg.lines
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if cfg.HTTP.Enabled() {
		t.Error("HTTP endpoint on by default")
	}
}

func TestParseMNDefaults(t *testing.T) {
	cfg, err := ParseMN("mn.toml", []byte(minimalMN))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeyFile != "mn.key" || cfg.PreferredAlgorithm != hokey.HMACSHA256Trunc128 ||
		!reflect.DeepEqual(cfg.Algorithms, []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}) ||
		cfg.HKEPKLifetime != 12*time.Hour || cfg.HKEPKHandovers != 10 || cfg.RefreshBefore != 10*time.Minute ||
		cfg.AccessRouters != nil || cfg.Decapsulation.Enabled || cfg.KeyStore.Type != KeyStoreMemory || cfg.HTTP.Enabled() {
		t.Errorf("defaults: %+v", cfg)
	}
}

// problemCase is one bad configuration: the snippet appended to a minimal
// configuration (or replacing it when replace is set), and the problem
// expected.
type problemCase struct {
	name    string
	snippet string
	replace bool
	want    error
	key     string
	line    int
}

func checkProblems(t *testing.T, tc problemCase, err error) {
	t.Helper()
	if !errors.Is(err, tc.want) {
		t.Fatalf("error %v, want %v", err, tc.want)
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %T is not Problems", err)
	}
	for _, p := range ps {
		if errors.Is(p, tc.want) && p.Key == tc.key && p.Line == tc.line {
			return
		}
	}
	t.Errorf("no problem with key %q at line %d wrapping %v in:\n%v", tc.key, tc.line, tc.want, err)
}

// parseProblems parses each case with parse as file name: the snippet
// appended to base, or the snippet alone when the case sets replace. No
// configuration may come back, and the case's problem must be reported
// (checkProblems).
func parseProblems[C any](t *testing.T, name, base string, parse func(string, []byte) (*C, error), cases []problemCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := base + tc.snippet
			if tc.replace {
				data = tc.snippet
			}
			cfg, err := parse(name, []byte(data))
			if cfg != nil {
				t.Errorf("config returned with error %v", err)
			}
			checkProblems(t, tc, err)
		})
	}
}

// checkInsecure checks that err, from a check of files one of which is
// readable by others, wraps ErrInsecureFile in a problem at key on a line.
func checkInsecure(t *testing.T, err error, key string) {
	t.Helper()
	var ps Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			if errors.Is(p, ErrInsecureFile) && p.Key == key && p.Line > 0 {
				return
			}
		}
	}
	t.Errorf("no problem at %s, on a line, wrapping %v in: %v", key, ErrInsecureFile, err)
}

func TestParseARProblems(t *testing.T) {
	// minimalAR has 6 lines; snippets start on line 7.
	parseProblems(t, "ar.toml", minimalAR, ParseAR, []problemCase{
		{name: "syntax", snippet: "[log]\nlevel = = 1\n", want: ErrSyntax, key: "log.level", line: 8},
		{name: "unknown top-level key", snippet: "colour = \"blue\"\n", want: ErrUnknownKey, key: "colour", line: 7},
		{name: "unknown table key", snippet: "[log]\nlevel = \"info\"\nverbose = true\n", want: ErrUnknownKey, key: "log.verbose", line: 9},
		{name: "unknown table", snippet: "[logging]\nlevel = \"info\"\n", want: ErrUnknownKey, key: "logging", line: 7},
		{name: "unknown inline key", snippet: "[rate_limit]\nper_source = { rate = 1.0, brust = 2 }\n", want: ErrUnknownKey, key: "rate_limit.per_source.brust", line: 8},
		{name: "wrong type", snippet: "[handover_keys]\nlifetime = 12\n", want: ErrSyntax},
		{name: "interface missing", snippet: strings.Replace(minimalAR, `interface = "eth1"`, ``, 1), replace: true, want: ErrMissing, key: "interface"},
		{name: "interface too long", snippet: strings.Replace(minimalAR, `"eth1"`, `"a-very-long-interface"`, 1), replace: true, want: ErrInvalid, key: "interface", line: 1},
		{name: "key missing", snippet: strings.Replace(minimalAR, `key = "ar.key"`, ``, 1), replace: true, want: ErrMissing, key: "key"},
		{name: "no trust anchor", snippet: strings.Replace(minimalAR, `["ta.pem"]`, `[]`, 1), replace: true, want: ErrMissing, key: "trust_anchors", line: 5},
		{name: "no prefix", snippet: strings.Replace(minimalAR, `["2001:db8:1::/64"]`, `[]`, 1), replace: true, want: ErrMissing, key: "prefixes", line: 6},
		{name: "prefix host bits", snippet: strings.Replace(minimalAR, `2001:db8:1::/64`, `2001:db8:1::1/64`, 1), replace: true, want: ErrInvalid, key: "prefixes[0]", line: 6},
		{name: "IPv4 prefix", snippet: strings.Replace(minimalAR, `2001:db8:1::/64`, `192.0.2.0/24`, 1), replace: true, want: ErrInvalid, key: "prefixes[0]", line: 6},
		{name: "unknown AT", snippet: "[handover_keys]\nalgorithms = [\"HMAC-MD5\"]\n", want: ErrInvalid, key: "handover_keys.algorithms[0]", line: 8},
		{name: "AT twice", snippet: "[handover_keys]\nalgorithms = [\"HMAC-SHA1-96\", \"hmac-sha1-96\"]\n", want: ErrInvalid, key: "handover_keys.algorithms[1]", line: 8},
		{name: "no AT", snippet: "[handover_keys]\nalgorithms = []\n", want: ErrMissing, key: "handover_keys.algorithms", line: 8},
		{name: "bad duration", snippet: "[handover_keys]\nlifetime = \"12 hours\"\n", want: ErrInvalid, key: "handover_keys.lifetime", line: 8},
		{name: "lifetime beyond field", snippet: "[handover_keys]\nlifetime = \"19h\"\n", want: ErrInvalid, key: "handover_keys.lifetime", line: 8},
		{name: "zero forwarding lifetime", snippet: "[forwarding]\nlifetime = \"0s\"\n", want: ErrInvalid, key: "forwarding.lifetime", line: 8},
		{name: "small MTU", snippet: "[forwarding]\nmtu = 1000\n", want: ErrInvalid, key: "forwarding.mtu", line: 8},
		{name: "multicast source", snippet: "[forwarding]\nsource = \"ff02::1\"\n", want: ErrInvalid, key: "forwarding.source", line: 8},
		{name: "negative rate", snippet: "[rate_limit]\ntotal = { rate = -1.0 }\n", want: ErrInvalid, key: "rate_limit.total.rate", line: 8},
		{name: "zero burst", snippet: "[rate_limit]\n\nper_key = { burst = 0 }\n", want: ErrInvalid, key: "rate_limit.per_key.burst", line: 9},
		{name: "neighbor address", snippet: "[[neighbor]]\naccess_point = \"02:00:00:00:00:01\"\naddress = \"2001:db8:2::1\"\n[[neighbor]]\naccess_point = \"02:00:00:00:00:02\"\naddress = \"fe80::1%eth0\"\n", want: ErrInvalid, key: "neighbor[1].address", line: 12},
		{name: "neighbor without address", snippet: "[[neighbor]]\naccess_point = \"02:00:00:00:00:01\"\n", want: ErrMissing, key: "neighbor[0].address", line: 7},
		{name: "neighbor access point", snippet: "[[neighbor]]\naccess_point = \"zz\"\naddress = \"2001:db8:2::1\"\n", want: ErrInvalid, key: "neighbor[0].access_point", line: 8},
		{name: "timestamp delta", snippet: "[send]\ntimestamp_delta = \"0s\"\n", want: ErrInvalid, key: "send.timestamp_delta", line: 8},
		{name: "timestamp drift", snippet: "[send]\ntimestamp_drift = 1.5\n", want: ErrInvalid, key: "send.timestamp_drift", line: 8},
		{name: "key bits", snippet: "[send]\nmin_key_bits = 4096\nmax_key_bits = 2048\n", want: ErrInvalid, key: "send.min_key_bits", line: 8},
		{name: "CPA rate", snippet: "[send]\nmax_cpa_rate = 0\n", want: ErrInvalid, key: "send.max_cpa_rate", line: 8},
		{name: "key store type", snippet: "[key_store]\ntype = \"sqlite\"\n", want: ErrInvalid, key: "key_store.type", line: 8},
		{name: "bolt without path", snippet: "[key_store]\ntype = \"bolt\"\n", want: ErrMissing, key: "key_store.path", line: 7},
		{name: "memory with path", snippet: "[key_store]\npath = \"/x.db\"\n", want: ErrInvalid, key: "key_store.path", line: 8},
		{name: "log level", snippet: "[log]\nlevel = \"loud\"\n", want: ErrInvalid, key: "log.level", line: 8},
		{name: "log format", snippet: "[log]\nformat = \"xml\"\n", want: ErrInvalid, key: "log.format", line: 8},
		{name: "listen syntax", snippet: "[http]\nlisten = \"localhost:9750\"\n", want: ErrInvalid, key: "http.listen", line: 8},
		{name: "listen non-loopback", snippet: "[http]\nlisten = \"[::]:9750\"\n", want: ErrInvalid, key: "http.listen", line: 8},
		{name: "listen public", snippet: "[http]\nlisten = \"192.0.2.1:9750\"\n", want: ErrInvalid, key: "http.listen", line: 8},
	})
}

func TestParseMNProblems(t *testing.T) {
	// minimalMN has 4 lines; snippets start on line 5.
	parseProblems(t, "mn.toml", minimalMN, ParseMN, []problemCase{
		{name: "unknown key", snippet: "routers = []\n", want: ErrUnknownKey, key: "routers", line: 5},
		{name: "AR-only key", snippet: "prefixes = [\"2001:db8::/64\"]\n", want: ErrUnknownKey, key: "prefixes", line: 5},
		{name: "AR-only send key", snippet: "[send]\nmax_cpa_rate = 10\n", want: ErrUnknownKey, key: "send.max_cpa_rate", line: 6},
		{name: "router multicast", snippet: "access_routers = [\"ff02::2\"]\n", want: ErrInvalid, key: "access_routers[0]", line: 5},
		{name: "router twice", snippet: "access_routers = [\"fe80::1\", \"fe80::1\"]\n", want: ErrInvalid, key: "access_routers[1]", line: 5},
		{name: "preferred unknown", snippet: "[handover_keys]\npreferred_algorithm = \"AT(7)\"\n", want: ErrInvalid, key: "handover_keys.preferred_algorithm", line: 6},
		{name: "bidding down", snippet: "[handover_keys]\nalgorithms = [\"HMAC-SHA256-128\", \"HMAC-SHA1-96\"]\n", want: ErrInvalid, key: "handover_keys.algorithms[1]", line: 6},
		{name: "preferred not accepted", snippet: "[handover_keys]\npreferred_algorithm = \"HMAC-SHA1-96\"\nalgorithms = [\"HMAC-SHA256-128\"]\n", want: ErrInvalid, key: "handover_keys.algorithms", line: 7},
		{name: "handovers", snippet: "[handover_keys]\nhkepk_handovers = 0\n", want: ErrInvalid, key: "handover_keys.hkepk_handovers", line: 6},
		{name: "HKEPK lifetime", snippet: "[handover_keys]\nhkepk_lifetime = \"1s\"\n", want: ErrInvalid, key: "handover_keys.hkepk_lifetime", line: 6},
		{name: "decapsulation without allowed", snippet: "[decapsulation]\nenabled = true\n", want: ErrMissing, key: "decapsulation.allowed", line: 5},
		{name: "decapsulation allowed", snippet: "[decapsulation]\nallowed = [\"x\"]\n", want: ErrInvalid, key: "decapsulation.allowed[0]", line: 6},
		{name: "new interface without new CGA", snippet: "[handover]\nnew_interface = \"wlan1\"\n", want: ErrMissing, key: "handover.new_cga", line: 5},
		{name: "decapsulation without new CGA", snippet: "[decapsulation]\nenabled = true\nallowed = [\"fe80::1\"]\n", want: ErrMissing, key: "handover.new_cga", line: 0},
		{name: "new link routers without new CGA", snippet: "[handover]\naccess_routers = [\"fe80::2\"]\n", want: ErrMissing, key: "handover.new_cga", line: 5},
		{name: "new link router twice", snippet: "[handover]\nnew_cga = \"n.json\"\naccess_routers = [\"fe80::2\", \"fe80::2\"]\n", want: ErrInvalid, key: "handover.access_routers[1]", line: 7},
		{name: "new link router multicast", snippet: "[handover]\nnew_cga = \"n.json\"\naccess_routers = [\"ff02::2\"]\n", want: ErrInvalid, key: "handover.access_routers[0]", line: 7},
		{name: "new interface name", snippet: "[handover]\nnew_cga = \"n.json\"\nnew_interface = \"a/b\"\n", want: ErrInvalid, key: "handover.new_interface", line: 7},
	})
}

// TestAllProblemsReported: every problem comes back at once, in file order,
// each naming file, line and key.
func TestAllProblemsReported(t *testing.T) {
	data := minimalAR + "[handover_keys]\nlifetime = \"forever\"\n[log]\nlevel = \"loud\"\nformat = \"xml\"\nextra = 1\n"
	_, err := ParseAR("ar.toml", []byte(data))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v is not Problems", err)
	}
	want := []struct {
		line int
		key  string
		err  error
	}{
		{8, "handover_keys.lifetime", ErrInvalid},
		{10, "log.level", ErrInvalid},
		{11, "log.format", ErrInvalid},
		{12, "log.extra", ErrUnknownKey},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if ps[i].Line != w.line || ps[i].Key != w.key || !errors.Is(ps[i], w.err) || ps[i].File != "ar.toml" {
			t.Errorf("problem %d = %+v, want %+v", i, ps[i], w)
		}
	}
	if got := ps[0].Error(); !strings.HasPrefix(got, "ar.toml:8: handover_keys.lifetime: ") {
		t.Errorf("Error() = %q: want FILE:LINE: KEY: prefix", got)
	}
}

func TestAllowNonLoopback(t *testing.T) {
	cfg, err := ParseAR("ar.toml", []byte(minimalAR+"[http]\nlisten = \"[2001:db8::1]:9750\"\nallow_non_loopback = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != netip.MustParseAddrPort("[2001:db8::1]:9750") || !cfg.HTTP.AllowNonLoopback {
		t.Errorf("HTTP = %+v", cfg.HTTP)
	}
	for _, tc := range []struct {
		listen string
		allow  bool
		ok     bool
	}{
		{"127.0.0.1:1", false, true},
		{"[::1]:1", false, true},
		{"127.0.0.2:1", false, true},
		{"0.0.0.0:1", false, false},
		{"[::]:1", false, false},
		{"[2001:db8::1]:1", false, false},
		{"[::ffff:127.0.0.1]:1", false, true},
		{"[::ffff:192.0.2.1]:1", false, false},
		{"[::]:1", true, true},
	} {
		err := CheckListen(netip.MustParseAddrPort(tc.listen), tc.allow)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckListen(%s, %v) = %v", tc.listen, tc.allow, err)
		}
	}
}

func TestKeyLines(t *testing.T) {
	doc := `# comment
top = 1
[a]
b = "x = y"
"quoted.key" = 2
c.d = 3
[[arr]]
x = 1
[[arr]]
x = 2
y = { p = 1, q = 2 }
s = """
z = 9
"""
after = 1
`
	got := keyLines([]byte(doc))
	for k, want := range map[string]int{
		"top": 2, "a": 3, "a.b": 4, "a.quoted.key": 5, "a.c.d": 6,
		"arr[0]": 7, "arr[0].x": 8, "arr[1]": 9, "arr[1].x": 10, "arr.x": 8,
		"arr[1].y.q": 11, "arr.y.p": 11, "arr[1].after": 15,
	} {
		if got[k] != want {
			t.Errorf("line of %q = %d, want %d", k, got[k], want)
		}
	}
	if _, ok := got["arr[1].z"]; ok {
		t.Error("key inside a multi-line string recorded")
	}
}

// TestOpen covers the file step: permissions, ownership, key/CGA/cert
// consistency.
func TestOpen(t *testing.T) {
	setup := func(t *testing.T) (string, *ARConfig) {
		dir := t.TempDir()
		creds(t, dir)
		cfg, err := ParseAR(filepath.Join(dir, "ar.toml"), []byte(minimalAR))
		if err != nil {
			t.Fatal(err)
		}
		return dir, cfg
	}
	t.Run("valid", func(t *testing.T) {
		_, cfg := setup(t)
		cr, err := cfg.Open(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if cr.Authorization == nil || !cr.Authorization.PublicKey.Equal(&cr.Key.PublicKey) ||
			!cr.Authorization.Authorizes(arPrefix) || len(cr.Path) != 1 || len(cr.Anchors) != 1 ||
			!arPrefix.Contains(cr.CGA.Address) {
			t.Errorf("credentials: %+v", cr)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		key    string
		want   error
	}{
		{"key group readable", func(t *testing.T, dir string) { chmod(t, dir, "ar.key", 0o640) }, "key", ErrInsecureFile},
		{"key world readable", func(t *testing.T, dir string) { chmod(t, dir, "ar.key", 0o604) }, "key", ErrInsecureFile},
		{"key group executable", func(t *testing.T, dir string) { chmod(t, dir, "ar.key", 0o610) }, "key", ErrInsecureFile},
		{"certificate world writable", func(t *testing.T, dir string) { chmod(t, dir, "ar-cert.pem", 0o666) }, "certificates", ErrInsecureFile},
		{"anchor group writable", func(t *testing.T, dir string) { chmod(t, dir, "ta.pem", 0o664) }, "trust_anchors[0]", ErrInsecureFile},
		{"CGA world writable", func(t *testing.T, dir string) { chmod(t, dir, "ar-cga.json", 0o646) }, "cga", ErrInsecureFile},
		{"key missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ar.key")) }, "key", os.ErrNotExist},
		{"key is a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "ar.key"))
			os.Mkdir(filepath.Join(dir, "ar.key"), 0o700)
		}, "key", ErrFile},
		{"key not PEM", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ar.key"), []byte("junk"), 0o600) }, "key", ErrFile},
		{"CGA of another key", func(t *testing.T, dir string) { copyFile(t, dir, "mn-cga.json", "ar-cga.json") }, "cga", ErrFile},
		{"CGA not JSON", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ar-cga.json"), []byte("{"), 0o644) }, "cga", ErrFile},
		{"certificate of another key", func(t *testing.T, dir string) {
			copyFile(t, dir, "mn.key", "ar.key")
			copyFile(t, dir, "mn-cga.json", "ar-cga.json")
		}, "certificates", ErrFile},
		{"anchor is not the issuer", func(t *testing.T, dir string) { copyFile(t, dir, "ar-cert.pem", "ta.pem") }, "certificates", ErrFile},
		{"no certificate", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ar-cert.pem"), nil, 0o644) }, "certificates", ErrFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfg := setup(t)
			tc.change(t, dir)
			cr, err := cfg.Open(time.Now())
			if cr != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, %v; want %v", cr, err, tc.want)
			}
			var ps Problems
			errors.As(err, &ps)
			found := false
			for _, p := range ps {
				found = found || (p.Key == tc.key && errors.Is(p, tc.want))
			}
			if !found {
				t.Errorf("no problem for key %q in %v", tc.key, err)
			}
		})
	}
	t.Run("prefix not authorized", func(t *testing.T) {
		dir := t.TempDir()
		creds(t, dir)
		cfg, err := ParseAR(filepath.Join(dir, "ar.toml"), []byte(strings.Replace(minimalAR, "2001:db8:1::/64", "2001:db8:9::/64", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Open(time.Now()); !errors.Is(err, ErrFile) {
			t.Fatalf("Open = %v, want ErrFile", err)
		}
	})
	t.Run("owner", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("changing a file's owner needs root")
		}
		dir, cfg := setup(t)
		if err := os.Chown(filepath.Join(dir, "ar.key"), 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Open(time.Now()); !errors.Is(err, ErrInsecureFile) {
			t.Fatalf("Open = %v, want ErrInsecureFile", err)
		}
	})
}

func chmod(t *testing.T, dir, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, dir, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, from))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, to))
	if err := os.WriteFile(filepath.Join(dir, to), b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// TestCheckAR: --check reports validation and file problems together.
func TestCheckAR(t *testing.T) {
	dir := t.TempDir()
	creds(t, dir)
	file := filepath.Join(dir, "ar.toml")
	if err := os.WriteFile(file, []byte(minimalAR), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckAR(file, time.Now()); err != nil {
		t.Fatalf("CheckAR on a good configuration: %v", err)
	}
	chmod(t, dir, "ar.key", 0o644)
	if err := os.WriteFile(file, []byte(minimalAR+"[log]\nlevel = \"loud\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckAR(file, time.Now())
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrInsecureFile) {
		t.Errorf("CheckAR = %v; want both the validation and the file problem", err)
	}
	if err := CheckAR(filepath.Join(dir, "missing.toml"), time.Now()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckAR(missing) = %v", err)
	}
}

func TestCheckMN(t *testing.T) {
	dir := t.TempDir()
	creds(t, dir)
	file := filepath.Join(dir, "mn.toml")
	if err := os.WriteFile(file, []byte(minimalMN), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckMN(file); err != nil {
		t.Fatalf("CheckMN on a good configuration: %v", err)
	}
	copyFile(t, dir, "ar-cga.json", "mn-cga.json")
	if err := os.WriteFile(file, []byte(minimalMN+"bogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckMN(file)
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrFile) {
		t.Errorf("CheckMN = %v; want the unknown key and the CGA mismatch", err)
	}
}

func FuzzParseAR(f *testing.F) {
	f.Add([]byte(minimalAR))
	if b, err := os.ReadFile("../../examples/ar.toml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(minimalAR + "[[neighbor]]\naccess_point = \"01\"\naddress = \"2001:db8::1\"\n"))
	f.Add([]byte("[log\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseAR("f.toml", data)
		checkFuzzResult(t, cfg != nil, err)
	})
}

func FuzzParseMN(f *testing.F) {
	f.Add([]byte(minimalMN))
	if b, err := os.ReadFile("../../examples/mn.toml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseMN("f.toml", data)
		checkFuzzResult(t, cfg != nil, err)
	})
}

// checkFuzzResult: exactly one of config and error, and every problem
// wraps one of the sentinels.
func checkFuzzResult(t *testing.T, ok bool, err error) {
	if ok == (err != nil) {
		t.Fatalf("config %v with error %v", ok, err)
	}
	if err == nil {
		return
	}
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("error %T %v is not Problems", err, err)
	}
	for _, p := range ps {
		if !errors.Is(p, ErrSyntax) && !errors.Is(p, ErrUnknownKey) && !errors.Is(p, ErrMissing) &&
			!errors.Is(p, ErrInvalid) && !errors.Is(p, ErrFile) {
			t.Fatalf("problem %v wraps no sentinel", p)
		}
	}
}
