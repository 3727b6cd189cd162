package config

import (
	"bytes"
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
)

// TestExampleHKS parses the shipped sample and checks every value.
func TestExampleHKS(t *testing.T) {
	cfg, err := ParseHKS("/etc/fhkey/hks.toml", readExample(t, "hks.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &HKSConfig{
		File:   "/etc/fhkey/hks.toml",
		Listen: netip.MustParseAddrPort("127.0.0.1:1812"),
		Clients: []HKSClient{
			{Prefix: netip.MustParsePrefix("2001:db8:1::1/128"), SecretFile: "/etc/fhkey/radius-ar1.secret"},
			{Prefix: netip.MustParsePrefix("192.0.2.0/24"), SecretFile: "/etc/fhkey/radius-lab.secret"},
		},
		Subscribers:     SubscriberStore{Type: SubscriberStoreBolt, Path: "/var/lib/fhkey/hks-subscribers.db"},
		KeyLifetime:     time.Hour,
		TimestampWindow: 7 * time.Second,
		PRFs:            []hokey.PRF{hokey.PRFHMACSHA256, hokey.PRFHMACSHA1},
		MACs:            []hokey.MACAlgorithm{hokey.MACHMACSHA256, hokey.MACHMACSHA1},
		Log:             Log{Level: slog.LevelInfo, Format: LogText},
		HTTP:            HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9752")},
	}
	cfg.lines = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
}

// TestHKSDefaults: the smallest configuration.
func TestHKSDefaults(t *testing.T) {
	cfg, err := ParseHKS("/etc/hks.toml", []byte(`
[[client]]
address = "::1"
secret_file = "s"
[subscribers]
store = "postgres"
dsn_file = "pg.dsn"
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.String() != DefaultHKSListen || cfg.KeyLifetime != DefaultHKSKeyLifetime || cfg.TimestampWindow != DefaultTimestampWindow ||
		cfg.Subscribers != (SubscriberStore{Type: SubscriberStorePostgres, DSNFile: "/etc/pg.dsn"}) || len(cfg.PRFs) != 2 || len(cfg.MACs) != 2 {
		t.Fatalf("%+v", cfg)
	}
}

// TestHKSProblems: each mistake is reported with its key.
func TestHKSProblems(t *testing.T) {
	for _, tc := range []struct {
		toml, key string
		err       error
	}{
		{`[subscribers]` + "\npath = \"x\"", "client", ErrMissing},
		{"listen = \"localhost\"\n[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"", "listen", ErrInvalid},
		{"[[client]]\naddress = \"2001:db8::1/64\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"", "client[0].address", ErrInvalid},
		{"[[client]]\naddress = \"::1\"\n[subscribers]\npath = \"x\"", "client[0].secret_file", ErrMissing},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"", "subscribers.path", ErrMissing},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\nstore = \"postgres\"", "subscribers.dsn_file", ErrMissing},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\nstore = \"mysql\"", "subscribers.store", ErrInvalid},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"\n[handover_keys]\nlifetime = \"20h\"", "handover_keys.lifetime", ErrInvalid},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"\n[handover_keys]\nprfs = [\"MD5\"]", "handover_keys.prfs[0]", ErrInvalid},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"\n[handover_keys]\nmacs = [\"1\", \"HMAC-sha1\"]", "handover_keys.macs[1]", ErrInvalid},
		{"[[client]]\naddress = \"::1\"\nsecret_file = \"s\"\n[subscribers]\npath = \"x\"\nhmk = \"00\"", "subscribers.hmk", ErrUnknownKey},
	} {
		_, err := ParseHKS("hks.toml", []byte(tc.toml))
		var ps Problems
		if !errors.As(err, &ps) || !errors.Is(err, tc.err) {
			t.Errorf("%q: %v, want %v", tc.toml, err, tc.err)
			continue
		}
		found := false
		for _, p := range ps {
			found = found || p.Key == tc.key
		}
		if !found {
			t.Errorf("%q: %v: no problem at %s", tc.toml, err, tc.key)
		}
	}
}

// TestCheckHKS: the secret files must exist, be private and not empty.
func TestCheckHKS(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "hks.toml")
	write("hks.toml", "[[client]]\naddress = \"::1\"\nsecret_file = \"ar.secret\"\n[subscribers]\nstore = \"postgres\"\ndsn_file = \"pg.dsn\"\n", 0o644)
	if err := CheckHKS(file); !errors.Is(err, ErrFile) {
		t.Fatalf("missing files: %v", err)
	}
	write("ar.secret", "s3cret\n", 0o600)
	write("pg.dsn", "host=/run/postgresql dbname=fhkey\n", 0o644)
	if err := CheckHKS(file); !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), "subscribers.dsn_file") {
		t.Fatalf("readable DSN: %v", err)
	}
	write("pg.dsn", "host=/run/postgresql dbname=fhkey\n", 0o600)
	if err := CheckHKS(file); err != nil {
		t.Fatal(err)
	}
	cfg, _ := LoadHKS(file)
	s, err := cfg.Open()
	if err != nil || string(s.ClientSecrets[0]) != "s3cret" || s.DSN != "host=/run/postgresql dbname=fhkey" {
		t.Fatalf("%q %q %v", s.ClientSecrets, s.DSN, err)
	}
}

// TestLoadHMK: hex (white space ignored) or raw octets, at least 64.
func TestLoadHMK(t *testing.T) {
	dir := t.TempDir()
	raw := bytes.Repeat([]byte{0xfe, 0x01}, 40)
	for _, tc := range []struct {
		content []byte
		want    []byte
		mode    os.FileMode
		err     error
	}{
		{[]byte(strings.Repeat("0a1b", 16) + "\n" + strings.Repeat("0a1b", 16) + "\n"), bytes.Repeat([]byte{0x0a, 0x1b}, 32), 0o600, nil},
		{raw, raw, 0o600, nil},
		{[]byte(strings.Repeat("ab", 63)), nil, 0o600, ErrFile},
		{raw, nil, 0o640, ErrInsecureFile},
	} {
		name := filepath.Join(dir, "hmk")
		os.Remove(name)
		if err := os.WriteFile(name, tc.content, tc.mode); err != nil {
			t.Fatal(err)
		}
		got, err := LoadHMK(name)
		if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
			t.Errorf("%q: %x %v, want %x %v", tc.content, got, err, tc.want, tc.err)
		}
	}
}
