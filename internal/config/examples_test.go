package config

import (
	"bufio"
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/send"
)

const examples = "../../examples"

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examples, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExampleAR parses the shipped sample and checks every value, so that
// the sample and the documentation cannot drift from the code silently.
func TestExampleAR(t *testing.T) {
	cfg, err := ParseAR("/etc/fhkey/ar.toml", readExample(t, "ar.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &ARConfig{
		File:             "/etc/fhkey/ar.toml",
		Interface:        "eth1",
		KeyFile:          "/etc/fhkey/ar.key",
		CGAFile:          "/etc/fhkey/ar-cga.json",
		CertificateFile:  "/etc/fhkey/ar-cert.pem",
		TrustAnchorFiles: []string{"/etc/fhkey/ta.pem"},
		Prefixes:         []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64")},
		Algorithms:       []hokey.AlgorithmType{hokey.HMACSHA256Trunc128, hokey.HMACSHA1Trunc96},
		KeyLifetime:      12 * time.Hour,
		Forwarding:       Forwarding{Lifetime: 10 * time.Second, Enabled: true, TUN: "fhkfw0", MTU: 1460, HopLimit: 64},
		Limits:           DefaultLimits, // the sample spells out the defaults
		Neighbors: []Neighbor{{
			AccessPoint:      []byte{2, 0, 0, 0, 2, 1},
			LinkLayerAddress: []byte{2, 0, 0, 0, 2, 0xfe},
			Address:          netip.MustParseAddr("2001:db8:2::1"),
			Prefix:           netip.MustParsePrefix("2001:db8:2::/64"),
		}},
		SEND:       SEND{Timestamp: send.DefaultTimestampParams, MinKeyBits: 1024, MaxKeyBits: 4096},
		MaxCPARate: 10,
		KeyStore:   KeyStore{Type: KeyStoreBolt, Path: "/var/lib/fhkey/ar-keys.db"},
		Log:        Log{Level: slog.LevelInfo, Format: LogText},
		HTTP:       HTTP{Listen: netip.MustParseAddrPort("127.0.0.1:9750")},
	}
	want.lines = cfg.lines
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("examples/ar.toml:\ngot  %+v\nwant %+v", cfg, want)
	}
}

func TestExampleMN(t *testing.T) {
	cfg, err := ParseMN("/etc/fhkey/mn.toml", readExample(t, "mn.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &MNConfig{
		File:               "/etc/fhkey/mn.toml",
		Interface:          "wlan0",
		KeyFile:            "/etc/fhkey/mn.key",
		CGAFile:            "/etc/fhkey/mn-cga.json",
		TrustAnchorFiles:   []string{"/etc/fhkey/ta.pem"},
		PreferredAlgorithm: hokey.HMACSHA256Trunc128,
		Algorithms:         []hokey.AlgorithmType{hokey.HMACSHA256Trunc128},
		HKEPKLifetime:      12 * time.Hour,
		HKEPKHandovers:     10,
		RefreshBefore:      10 * time.Minute,
		Decapsulation:      Decapsulation{Enabled: true, TUN: "fhkdc0", MTU: 1500, Allowed: []netip.Addr{netip.MustParseAddr("2001:db8:1::1")}},
		Handover:           Handover{NewInterface: "wlan0", NewCGAFile: "/etc/fhkey/mn-cga-new.json"},
		SEND:               SEND{Timestamp: send.DefaultTimestampParams, MinKeyBits: 1024, MaxKeyBits: 4096},
		KeyStore:           KeyStore{Type: KeyStoreMemory},
		Log:                Log{Level: slog.LevelInfo, Format: LogText},
	}
	want.lines = cfg.lines
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("examples/mn.toml:\ngot  %+v\nwant %+v", cfg, want)
	}
}

// relocate rewrites the sample's /etc/fhkey and /var/lib/fhkey paths into
// dir and writes it there.
func relocate(t *testing.T, dir, name string) string {
	t.Helper()
	b := readExample(t, name)
	b = bytes.ReplaceAll(b, []byte("/etc/fhkey/"), []byte(dir+"/"))
	b = bytes.ReplaceAll(b, []byte("/var/lib/fhkey/"), []byte(dir+"/"))
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestExamplesOpen runs the samples against real credentials, generated in
// a temporary directory with the names the samples use.
func TestExamplesOpen(t *testing.T) {
	dir := t.TempDir()
	creds(t, dir)
	arFile := relocate(t, dir, "ar.toml")
	if err := CheckAR(arFile, time.Now()); err != nil {
		t.Errorf("CheckAR(sample): %v", err)
	}
	cfg, err := LoadAR(arFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeyStore.Path != filepath.Join(dir, "ar-keys.db") {
		t.Errorf("key store path %q", cfg.KeyStore.Path)
	}
	if cr, err := cfg.Open(time.Now()); err != nil || cr.Authorization == nil {
		t.Errorf("Open(sample) = %v", err)
	}
	mnFile := relocate(t, dir, "mn.toml")
	if err := CheckMN(mnFile); err != nil {
		t.Errorf("CheckMN(sample): %v", err)
	}
}

// unit is a parsed systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, b []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			if u[section] != nil {
				t.Errorf("line %d: section [%s] twice", n, section)
			}
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Errorf("line %d: not KEY=VALUE inside a section: %q", n, line)
				continue
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u
}

// TestSystemdUnits checks that each unit runs the right binary, subcommand
// and configuration, reloads with SIGHUP, has the capabilities raw sockets
// need (and none for the HKS, set explicitly empty) and the hardening, and lets the daemon write where the sample
// configuration keeps its key store.
func TestSystemdUnits(t *testing.T) {
	for _, tc := range []struct {
		unit, role, config string
		caps               []string
		storeDir           func(t *testing.T) string
	}{
		{"fhkey-ar.service", "ar", "ar.toml", []string{"CAP_NET_ADMIN", "CAP_NET_RAW"}, func(t *testing.T) string {
			cfg, err := ParseAR("/etc/fhkey/ar.toml", readExample(t, "ar.toml"))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Dir(cfg.KeyStore.Path)
		}},
		{"fhkey-mn.service", "mn", "mn.toml", []string{"CAP_NET_ADMIN", "CAP_NET_RAW"}, func(t *testing.T) string { return "/var/lib/fhkey" }},
		// The HKS needs no capability (UDP 1812) and writes its bolt
		// subscriber store.
		{"fhkey-hks.service", "hks", "hks.toml", nil, func(t *testing.T) string {
			cfg, err := ParseHKS("/etc/fhkey/hks.toml", readExample(t, "hks.toml"))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Dir(cfg.Subscribers.Path)
		}},
		// RFC 6618: the HAC needs no capability (TCP 7872) and writes its
		// bolt subscriber store; the HA needs CAP_NET_ADMIN for its TUN
		// home link and writes its state file; the MN needs CAP_NET_ADMIN
		// for its TUN and writes only a keylog, under /run/fhkey.
		{"fhkey-hac.service", "hac", "hac.toml", nil, func(t *testing.T) string {
			cfg, err := ParseHAC("/etc/fhkey/hac.toml", readExample(t, "hac.toml"))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Dir(cfg.SubscribersPath)
		}},
		{"fhkey-ha.service", "ha", "ha.toml", []string{"CAP_NET_ADMIN"}, func(t *testing.T) string {
			cfg, err := ParseHA("/etc/fhkey/ha.toml", readExample(t, "ha.toml"))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Dir(cfg.StateFile)
		}},
		{"fhkey-mip6.service", "mip6", "mip6.toml", []string{"CAP_NET_ADMIN"}, func(t *testing.T) string { return "/run/fhkey" }},
	} {
		t.Run(tc.unit, func(t *testing.T) {
			u := parseUnit(t, readExample(t, tc.unit))
			one := func(section, key, want string) {
				t.Helper()
				if got := u[section][key]; len(got) != 1 || got[0] != want {
					t.Errorf("[%s] %s = %q, want %q", section, key, got, want)
				}
			}
			cmd := "/usr/local/bin/fhkey " + tc.role + " -c /etc/fhkey/" + tc.config
			one("Service", "ExecStart", cmd)
			one("Service", "ExecStartPre", cmd+" --check")
			one("Service", "ExecReload", "/bin/kill -HUP $MAINPID")
			one("Service", "Type", "notify")
			one("Service", "ProtectSystem", "strict")
			one("Service", "NoNewPrivileges", "yes")
			one("Service", "User", "fhkey")
			one("Install", "WantedBy", "multi-user.target")
			for _, key := range []string{"AmbientCapabilities", "CapabilityBoundingSet"} {
				caps := strings.Fields(strings.Join(u["Service"][key], " "))
				slices.Sort(caps)
				if u["Service"][key] == nil || !slices.Equal(caps, tc.caps) {
					t.Errorf("%s = %v", key, caps)
				}
			}
			if rw := u["Service"]["ReadWritePaths"]; !slices.Contains(rw, tc.storeDir(t)) {
				t.Errorf("ReadWritePaths %v lacks the key store directory %s", rw, tc.storeDir(t))
			}
			if u["Unit"]["Description"] == nil || u["Unit"]["After"] == nil {
				t.Error("[Unit] lacks Description or After")
			}
		})
	}
}
