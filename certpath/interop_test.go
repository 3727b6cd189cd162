package certpath

import (
	"bytes"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestOpenSSLEncodesLikeUs parses extensions encoded by OpenSSL's
// independent RFC 3779 implementation (v3_addr.c) and re-marshals them to
// the same octets.
func TestOpenSSLEncodesLikeUs(t *testing.T) {
	openssl := testenv.RequireTool(t, "openssl")
	tests := []struct {
		ext  string
		want IPAddrBlocks
	}{
		{"IPv6:2001:db8::/32", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8::/32")}}}},
		{"IPv6:::/0", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("::/0")}}}},
		{"IPv6:inherit", IPAddrBlocks{{AFI: AFIIPv6, Inherit: true}}},
		{"IPv6:2001:db8:1::-2001:db8:2:ffff:ffff:ffff:ffff:ffff,IPv6:ff00::/8,IPv4:10.0.0.1-10.0.0.7",
			IPAddrBlocks{
				{AFI: AFIIPv4, AddressesOrRanges: []IPAddressOrRange{rng("10.0.0.1", "10.0.0.7")}},
				{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{rng("2001:db8:1::", "2001:db8:2:ffff:ffff:ffff:ffff:ffff"), pr("ff00::/8")}},
			}},
		{"IPv6:2001:db8:3::-2001:db8:5:ffff:ffff:ffff:ffff:ffff,IPv6:2001:db8:1::/48", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{
			pr("2001:db8:1::/48"), rng("2001:db8:3::", "2001:db8:5:ffff:ffff:ffff:ffff:ffff")}}}},
		{"IPv6:2001:db8::/48,IPv6:2001:db8:1::/48,IPv6:2001:db8:2::/47", IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: []IPAddressOrRange{pr("2001:db8::/46")}}}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		out := filepath.Join(dir, "c.pem")
		cmd := exec.Command(openssl, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", filepath.Join(dir, "k.pem"),
			"-out", out, "-subj", "/CN=interop", "-days", "1", "-addext", "sbgp-ipAddrBlock=critical,"+tt.ext)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", tt.ext, err, b)
		}
		data, _ := os.ReadFile(out)
		blk, _ := pem.Decode(data)
		c := mustParse(t, blk.Bytes)
		for _, e := range c.Extensions {
			if !e.Id.Equal(OIDIPAddrBlocks) {
				continue
			}
			got, err := ParseIPAddrBlocks(e.Value)
			if err != nil {
				t.Fatalf("%d %s: ParseIPAddrBlocks(%x): %v", i, tt.ext, e.Value, err)
			}
			if !equalBlocks(got, tt.want) {
				t.Errorf("%d %s: parsed %v, want %v", i, tt.ext, got, tt.want)
			}
			der, err := got.Marshal()
			if err != nil || !bytes.Equal(der, e.Value) {
				t.Errorf("%d %s: Marshal = %x, %v; OpenSSL %x", i, tt.ext, der, err, e.Value)
			}
		}
	}
}

func equalBlocks(a, b IPAddrBlocks) bool {
	x, err1 := a.Marshal()
	y, err2 := b.Marshal()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// TestOpenSSLVerifiesOurPath has OpenSSL, which enforces RFC 3779 resource
// containment (X509v3_addr_validate_path), accept the paths we accept and
// refuse the one that exceeds its issuer's resources.
func TestOpenSSLVerifiesOurPath(t *testing.T) {
	openssl := testenv.RequireTool(t, "openssl")
	k := testKeys()
	// OpenSSL validates at the wall clock: issue around it.
	wall := CertificateTemplate{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	ta := issue(t, CertificateTemplate{CommonName: "SEND TA", IsCA: true, Resources: blocks(t, "2001:db8::/32"), NotBefore: wall.NotBefore, NotAfter: wall.NotAfter}, &k.ta.PublicKey, nil, k.ta)
	ca := issue(t, CertificateTemplate{CommonName: "ISP CA", IsCA: true, Resources: blocks(t, "2001:db8:1::/48"), NotBefore: wall.NotBefore, NotAfter: wall.NotAfter}, &k.ca.PublicKey, ta, k.ta)
	good := routerTemplate(t, "2001:db8:1:1::/64")
	good.NotBefore, good.NotAfter = wall.NotBefore, wall.NotAfter
	bad := routerTemplate(t, "2001:db8:2::/64")
	bad.NotBefore, bad.NotAfter = wall.NotBefore, wall.NotAfter
	dir := t.TempDir()
	write := func(name string, ders ...[]byte) string {
		var b []byte
		for _, d := range ders {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	taFile, caFile := write("ta.pem", ta), write("ca.pem", ca)
	for _, tc := range []struct {
		name string
		tmpl CertificateTemplate
		ok   bool
	}{{"contained", good, true}, {"exceeds issuer", bad, false}} {
		leaf := issue(t, tc.tmpl, &k.router.PublicKey, ca, k.ca)
		out, err := exec.Command(openssl, "verify", "-CAfile", taFile, "-untrusted", caFile, write("leaf.pem", leaf)).CombinedOutput()
		if (err == nil) != tc.ok {
			t.Errorf("%s: openssl verify: %v\n%s", tc.name, err, out)
		}
		_, verr := VerifyRouter([][]byte{ca, leaf}, []*TrustAnchor{anchor(t, ta)}, nil, time.Now())
		if (verr == nil) != tc.ok {
			t.Errorf("%s: VerifyRouter: %v", tc.name, verr)
		}
	}
}
