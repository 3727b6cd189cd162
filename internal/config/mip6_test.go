package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleMIP6(t *testing.T) {
	cfg, err := LoadMIP6(filepath.Join("..", "..", "examples", "mip6.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := MIP6TLS{HAC: "hac.example.com:7443", ServerName: "hac.example.com", CAFile: "/etc/fhkey/hac-ca.pem",
		Identity: "mn@example.com", Method: MIP6MethodPSK, PSKFile: "/etc/fhkey/mn-hac.psk"}
	if cfg.MIP6TLS != want || cfg.Interface != "wlan0" || cfg.TUN != "mip6" || cfg.TUNMTU != 1400 || cfg.Lifetime != 600*time.Second ||
		cfg.RebootstrapMargin != 5*time.Minute || cfg.AllowPlaintextData || cfg.HTTP.Listen != netip.MustParseAddrPort("127.0.0.1:9752") {
		t.Fatalf("%+v", cfg)
	}
}

// TestExampleMIP6Interfaces: the sample's commented interfaces line,
// used instead of interface, is a valid configuration.
func TestExampleMIP6Interfaces(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "mip6.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "\ninterface = \"wlan0\"\n", "\n", 1)
	s = strings.Replace(s, "\n# interfaces = ", "\ninterfaces = ", 1)
	if s == string(b) {
		t.Fatal("the sample no longer has interface and a commented interfaces line")
	}
	cfg, err := ParseMIP6("/etc/fhkey/mip6.toml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Interfaces) != 2 || cfg.Interfaces[0] != "wlan0" || cfg.Interfaces[1] != "eth0" || cfg.Interface != "" {
		t.Fatalf("%q %q", cfg.Interfaces, cfg.Interface)
	}
}

// TestParseMIP6Interfaces: interfaces lists the links the node may be
// attached to, in order.
func TestParseMIP6Interfaces(t *testing.T) {
	cfg, err := ParseMIP6("/etc/fhkey/mip6.toml", []byte("interfaces = [\"par0\", \"nar0\"]\n[mip6tls]\nhac = \"h:1\"\nserver_name = \"h\"\nca = \"ca.pem\"\nidentity = \"mn@x\"\npsk_file = \"k\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Interfaces) != 2 || cfg.Interfaces[0] != "par0" || cfg.Interfaces[1] != "nar0" || cfg.Interface != "" {
		t.Fatalf("%q %q", cfg.Interfaces, cfg.Interface)
	}
}

func TestParseMIP6Problems(t *testing.T) {
	base := "[mip6tls]\nhac = \"h:1\"\nserver_name = \"h\"\nca = \"ca.pem\"\nidentity = \"mn@x\"\npsk_file = \"k\"\n"
	for _, tc := range []struct {
		name, toml string
		key        string
		want       error
	}{
		{"no interface nor care_of", base, "interface", ErrMissing},
		{"interface and interfaces", "interface = \"eth0\"\ninterfaces = [\"eth1\"]\n" + base, "interfaces", ErrInvalid},
		{"bad name in interfaces", "interfaces = [\"eth0\", \"\"]\n" + base, "interfaces", ErrMissing},
		{"lifetime not 4 s units", "care_of = \"2001:db8::1\"\nlifetime = \"10s\"\n" + base, "lifetime", ErrInvalid},
		{"bad home agent", "care_of = \"2001:db8::1\"\nhome_agent = \"[2001:db8::1]:0\"\n" + base, "home_agent", ErrInvalid},
		{"bad method", "care_of = \"2001:db8::1\"\n" + base + "method = \"ikev2\"\n", "mip6tls.method", ErrInvalid},
		{"eap without key", "care_of = \"2001:db8::1\"\n" + base + "method = \"eap\"\ncertificate = \"c\"\n", "mip6tls.key", ErrMissing},
		{"unknown key", "care_of = \"2001:db8::1\"\nspi = 3\n" + base, "spi", ErrUnknownKey},
		{"tun_mtu below the IPv6 minimum", "care_of = \"2001:db8::1\"\ntun = \"t0\"\ntun_mtu = 1279\n" + base, "tun_mtu", ErrInvalid},
		{"tun_mtu above 65535", "care_of = \"2001:db8::1\"\ntun_mtu = 65536\n" + base, "tun_mtu", ErrInvalid},
		{"no hac", "care_of = \"2001:db8::1\"\n[mip6tls]\nserver_name = \"h\"\nca = \"c\"\nidentity = \"m\"\npsk_file = \"k\"\n", "mip6tls.hac", ErrMissing},
	} {
		_, err := ParseMIP6("/etc/fhkey/mip6.toml", []byte(tc.toml))
		var ps Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		found := false
		for _, p := range ps {
			found = found || (p.Key == tc.key && errors.Is(p.Err, tc.want))
		}
		if !found {
			t.Errorf("%s: %v, want %s: %v", tc.name, err, tc.key, tc.want)
		}
	}
}

// TestMIP6OpenPSKMode: the PSK file must be 0600.
func TestMIP6OpenPSKMode(t *testing.T) {
	dir := t.TempDir()
	psk := filepath.Join(dir, "psk")
	if err := os.WriteFile(psk, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &MIP6Config{File: "x", MIP6TLS: MIP6TLS{Method: MIP6MethodPSK, PSKFile: psk, CAFile: filepath.Join(dir, "none")}}
	_, err := cfg.Open()
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 2 || ps[0].Key != "mip6tls.psk_file" || !errors.Is(ps[0].Err, ErrFile) {
		t.Fatalf("%v", err)
	}
}
