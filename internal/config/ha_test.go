package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestExampleHA parses the shipped sample and checks every value.
func TestExampleHA(t *testing.T) {
	cfg, err := ParseHA("/etc/fhkey/ha.toml", readExample(t, "ha.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.lines = nil
	want := &HAConfig{
		File: "/etc/fhkey/ha.toml", Listen: netip.MustParseAddrPort("[::]:7872"),
		HomePrefix: netip.MustParsePrefix("2001:db8:1::/64"), Address: netip.MustParseAddr("2001:db8:1::1"), TUN: "fhkha0", MTU: 1400,
		MaxLifetime: time.Hour, SAGrace: 5 * time.Minute, StateFile: "/var/lib/fhkey/ha.db",
		Channel: HAChannel{Listen: netip.MustParseAddrPort("[::]:7873"), CertificateFile: "/etc/fhkey/ha-cert.pem",
			KeyFile: "/etc/fhkey/ha-key.pem", ClientCAFile: "/etc/fhkey/hac-ca.pem"},
		Log:  Log{Level: slog.LevelInfo, Format: LogText},
		HTTP: HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9753")},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

// TestParseHAErrors: each bad value is a problem naming its key.
func TestParseHAErrors(t *testing.T) {
	const base = `
[home_link]
prefix = "2001:db8:1::/64"
[state]
path = "ha.db"
[hac_channel]
listen = "127.0.0.1:7873"
certificate = "c.pem"
key = "k.pem"
client_ca = "ca.pem"
`
	for _, c := range []struct {
		name, data string
		sentinel   error
	}{
		{"minimal", base, nil},
		{"no prefix", `[state]
path = "x"`, ErrMissing},
		{"bad listen", `listen = "7872"` + base, ErrInvalid},
		{"prefix with host bits", `[home_link]
prefix = "2001:db8:1::1/64"`, ErrInvalid},
		{"multicast address", strings.Replace(base, "[home_link]\n", "[home_link]\naddress = \"ff02::1\"\n", 1), ErrInvalid},
		{"lifetime too long", base + "[bindings]\nmax_lifetime = \"1000h\"\n", ErrInvalid},
		{"unknown key", base + "[bindings]\nfoo = 1\n", ErrUnknownKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseHA("/etc/fhkey/ha.toml", []byte(c.data))
			if c.sentinel == nil {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Listen != netip.MustParseAddrPort("[::]:7872") || cfg.StateFile != "/etc/fhkey/ha.db" || cfg.MTU != DefaultHAMTU {
					t.Errorf("defaults: %+v", cfg)
				}
				return
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("err %v, want %v", err, c.sentinel)
			}
		})
	}
}
