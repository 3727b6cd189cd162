package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
)

// TestExampleMNMSK parses examples/mn-msk.toml and checks the [eap]
// section and what it changes.
func TestExampleMNMSK(t *testing.T) {
	cfg, err := ParseMN("/etc/fhkey/mn-msk.toml", readExample(t, "mn-msk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := MNEAP{Identity: "mn@example.com", CertificateFile: "/etc/fhkey/mn-eap.pem", KeyFile: "/etc/fhkey/mn-eap.key",
		CAFile: "/etc/fhkey/eap-ca.pem", ServerName: "radius.example.com", TLSMinVersion: tls.VersionTLS12, TLSMaxVersion: tls.VersionTLS13,
		Algorithm: hokey.HMACSHA256Trunc128, Router: netip.MustParseAddr("2001:db8:1::1"), NewRouter: netip.MustParseAddr("2001:db8:2::1")}
	if cfg.EAP == nil || *cfg.EAP != want {
		t.Fatalf("[eap] = %+v, want %+v", cfg.EAP, want)
	}
	if cfg.SENDEnabled() || cfg.AAA != nil || cfg.CareOf != netip.MustParseAddr("2001:db8:1::100") ||
		cfg.Handover.NewCareOf != netip.MustParseAddr("2001:db8:2::100") || cfg.Handover.NewInterface != "wlan1" {
		t.Errorf("config %+v", cfg)
	}
}

// TestMNEAPOpen: the sample with real files opens (certificate, key,
// CAs); a key readable by others or a certificate of another key is a
// problem named eap.key, by --check too.
func TestMNEAPOpen(t *testing.T) {
	dir := t.TempDir()
	p := eaptest.NewPKI(t)
	for name, f := range map[string]struct {
		b    []byte
		mode os.FileMode
	}{"mn-eap.pem": {p.Client.CertPEM, 0o644}, "mn-eap.key": {p.Client.KeyPEM, 0o600}, "eap-ca.pem": {p.CA.CertPEM, 0o644}} {
		writeFile(t, filepath.Join(dir, name), f.b, f.mode)
	}
	file := relocate(t, dir, "mn-msk.toml")
	if err := CheckMN(file); err != nil {
		t.Fatalf("CheckMN: %v", err)
	}
	cfg, err := LoadMN(file)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := cfg.Open()
	if err != nil || cr.EAP == nil || len(cr.EAP.Certificate.Certificate) != 1 || cr.Key != nil {
		t.Fatalf("credentials %+v: %v", cr, err)
	}
	if _, err := p.Server.Cert.Verify(x509.VerifyOptions{Roots: cr.EAP.Roots, DNSName: eaptest.ServerName}); err != nil {
		t.Errorf("the CA file does not verify the server: %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, "mn-eap.key"), 0o640); err != nil {
		t.Fatal(err)
	}
	checkInsecure(t, CheckMN(file), "eap.key")
	writeFile(t, filepath.Join(dir, "mn-eap.key"), p.RogueClient.KeyPEM, 0o600)
	if _, err := cfg.Open(); !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), "eap.key") {
		t.Errorf("Open with another key: %v", err)
	}
}

// minimalMNEAP is a node in the MSK mode (9 lines).
const minimalMNEAP = `interface = "wlan0"
care_of = "2001:db8:1::100"
[eap]
identity = "mn@example.com"
certificate = "c.pem"
key = "c.key"
ca = "ca.pem"
server_name = "radius.example.com"
router = "2001:db8:1::1"
`

func TestParseMNEAPProblems(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(minimalMNEAP, old, new, 1) }
	parseProblems(t, "mn.toml", "", ParseMN, []problemCase{
		{name: "no identity", snippet: replace(`identity = "mn@example.com"`, ``), want: ErrMissing, key: "eap.identity", line: 3},
		{name: "identity too long", snippet: replace(`"mn@example.com"`, `"`+strings.Repeat("m", 255)+`"`), want: ErrInvalid, key: "eap.identity", line: 4},
		{name: "no certificate", snippet: replace(`certificate = "c.pem"`, ``), want: ErrMissing, key: "eap.certificate", line: 3},
		{name: "no key", snippet: replace(`key = "c.key"`, ``), want: ErrMissing, key: "eap.key", line: 3},
		{name: "no CA", snippet: replace(`ca = "ca.pem"`, ``), want: ErrMissing, key: "eap.ca", line: 3},
		{name: "no server name", snippet: replace(`server_name = "radius.example.com"`, ``), want: ErrMissing, key: "eap.server_name", line: 3},
		{name: "TLS 1.1", snippet: minimalMNEAP + "tls_min_version = \"1.1\"\n", want: ErrInvalid, key: "eap.tls_min_version", line: 10},
		{name: "min above max", snippet: minimalMNEAP + "tls_min_version = \"1.3\"\ntls_max_version = \"1.2\"\n", want: ErrInvalid, key: "eap.tls_min_version", line: 10},
		{name: "algorithm", snippet: minimalMNEAP + "algorithm = \"MD5\"\n", want: ErrInvalid, key: "eap.algorithm", line: 10},
		{name: "no router", snippet: replace(`router = "2001:db8:1::1"`, ``), want: ErrMissing, key: "eap.router", line: 3},
		{name: "link-local router", snippet: replace(`"2001:db8:1::1"`, `"fe80::1"`), want: ErrInvalid, key: "eap.router", line: 9},
		{name: "new router without handover", snippet: minimalMNEAP + "new_router = \"2001:db8:2::1\"\n", want: ErrInvalid, key: "eap.new_router", line: 10},
		{name: "handover without new router", snippet: minimalMNEAP + "[handover]\nnew_care_of = \"2001:db8:2::100\"\n", want: ErrMissing, key: "eap.new_router", line: 3},
		{name: "with [aaa]", snippet: minimalMNEAP + "[aaa]\nnai = \"mn@example.com\"\nhmk_file = \"h\"\n", want: ErrInvalid, key: "eap", line: 3},
		{name: "SEND key", snippet: "key = \"mn.key\"\n" + minimalMNEAP, want: ErrInvalid, key: "key", line: 1},
		{name: "no care_of", snippet: replace(`care_of = "2001:db8:1::100"`, ``), want: ErrMissing, key: "care_of"},
		{name: "unknown key", snippet: minimalMNEAP + "password = \"x\"\n", want: ErrUnknownKey, key: "eap.password", line: 10},
	})
}
