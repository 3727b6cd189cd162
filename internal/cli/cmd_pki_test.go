package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
)

func runFhkey(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func loadPEMCert(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE block", name)
	}
	return b.Bytes
}

func mode(t *testing.T, name string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestPKIInitRouterVerify is the issue's "fhkey pki output is accepted by
// the router-authorization code": files made by the CLI go through
// certpath.VerifyRouter.
func TestPKIInitRouterVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if code, out, errs := runFhkey(t, "pki", "init", "--dir", dir, "--prefix", "2001:db8::/32", "--bits", "1024", "--fqdn", "ta.example.net"); code != 0 {
		t.Fatalf("pki init: exit %d\n%s%s", code, out, errs)
	}
	if m := mode(t, filepath.Join(dir, "ta.key")); m != 0o600 {
		t.Errorf("ta.key mode %o, want 600", m)
	}
	if code, out, errs := runFhkey(t, "pki", "router", "--dir", dir, "--prefix", "2001:db8:1::/48", "--name", "r1", "--bits", "1024"); code != 0 {
		t.Fatalf("pki router: exit %d\n%s%s", code, out, errs)
	}
	if m := mode(t, filepath.Join(dir, "router-r1.key")); m != 0o600 {
		t.Errorf("router-r1.key mode %o, want 600", m)
	}

	ta, err := certpath.NewTrustAnchor(loadPEMCert(t, filepath.Join(dir, "ta.pem")))
	if err != nil {
		t.Fatalf("ta.pem: %v", err)
	}
	if !ta.Certificate.IsCA || ta.Resources.IPv6().String() != "IPv6: 2001:db8::/32" {
		t.Errorf("anchor: IsCA %v, resources %s", ta.Certificate.IsCA, ta.Resources.IPv6())
	}
	if w, _ := certpath.FQDNWire("ta.example.net"); !ta.Matches(certpath.NameTypeFQDN, w) {
		t.Error("anchor does not match its --fqdn")
	}
	router := loadPEMCert(t, filepath.Join(dir, "router-r1.pem"))
	auth, err := certpath.VerifyRouter([][]byte{router}, []*certpath.TrustAnchor{ta},
		[]netip.Prefix{netip.MustParsePrefix("2001:db8:1:2::/64")}, time.Now())
	if err != nil {
		t.Fatalf("VerifyRouter(CLI output): %v", err)
	}
	keyData, _ := os.ReadFile(filepath.Join(dir, "router-r1.key"))
	kb, _ := pem.Decode(keyData)
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.PublicKey.Equal(key.(crypto.Signer).Public()) {
		t.Error("certificate key is not router-r1.key")
	}
	_, err = certpath.VerifyRouter([][]byte{router}, []*certpath.TrustAnchor{ta},
		[]netip.Prefix{netip.MustParsePrefix("2001:db8:2::/64")}, time.Now())
	if !errors.Is(err, certpath.ErrPrefixNotAuthorized) {
		t.Errorf("VerifyRouter(2001:db8:2::/64) = %v, want ErrPrefixNotAuthorized", err)
	}

	// pki verify: exit 0 on the authorized prefix, 1 on another.
	cert := filepath.Join(dir, "router-r1.pem")
	if code, out, errs := runFhkey(t, "pki", "verify", "--dir", dir, "--cert", cert, "--prefix", "2001:db8:1::/64"); code != 0 || !strings.HasPrefix(out, "valid") {
		t.Errorf("pki verify: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runFhkey(t, "pki", "verify", "--dir", dir, "--cert", cert, "--prefix", "2001:db8:2::/64"); code != 1 {
		t.Errorf("pki verify with an unauthorized prefix: exit %d, want 1", code)
	}

	// No overwrite without --force; --force replaces.
	if code, _, _ := runFhkey(t, "pki", "router", "--dir", dir, "--prefix", "2001:db8:1::/48", "--name", "r1", "--bits", "1024"); code != 1 {
		t.Errorf("pki router over existing files: exit %d, want 1", code)
	}
	if !bytes.Equal(loadPEMCert(t, cert), router) {
		t.Error("router certificate overwritten without --force")
	}
	if code, _, _ := runFhkey(t, "pki", "init", "--dir", dir, "--bits", "1024"); code != 1 {
		t.Errorf("pki init over existing files: exit %d, want 1", code)
	}
	if code, out, errs := runFhkey(t, "pki", "router", "--dir", dir, "--prefix", "2001:db8:1::/48", "--name", "r1", "--bits", "1024", "--force"); code != 0 {
		t.Errorf("pki router --force: exit %d\n%s%s", code, out, errs)
	}
	if bytes.Equal(loadPEMCert(t, cert), router) {
		t.Error("--force did not replace the certificate")
	}
	if m := mode(t, filepath.Join(dir, "router-r1.key")); m != 0o600 {
		t.Errorf("router-r1.key mode after --force %o, want 600", m)
	}

	// A prefix outside the anchor is refused, nothing written.
	if code, _, _ := runFhkey(t, "pki", "router", "--dir", dir, "--prefix", "2001:db9::/48", "--name", "r2", "--bits", "1024"); code != 1 {
		t.Errorf("pki router outside the anchor: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "router-r2.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("router-r2.pem written for a refused prefix: %v", err)
	}

	// --key reuses an existing key (here the r1 key) and does not copy it.
	if code, out, errs := runFhkey(t, "pki", "router", "--dir", dir, "--prefix", "2001:db8:3::/48", "--name", "r3",
		"--key", filepath.Join(dir, "router-r1.key")); code != 0 {
		t.Fatalf("pki router --key: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "router-r3.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("router-r3.key written although --key was given: %v", err)
	}
	keyData, _ = os.ReadFile(filepath.Join(dir, "router-r1.key")) // replaced by --force above
	kb, _ = pem.Decode(keyData)
	if key, err = x509.ParsePKCS8PrivateKey(kb.Bytes); err != nil {
		t.Fatal(err)
	}
	a3, err := certpath.VerifyRouter([][]byte{loadPEMCert(t, filepath.Join(dir, "router-r3.pem"))}, []*certpath.TrustAnchor{ta}, nil, time.Now())
	if err != nil || !a3.PublicKey.Equal(key.(crypto.Signer).Public()) {
		t.Errorf("router-r3: %v, or key is not the --key one", err)
	}
}

func TestPKIDefaultsAndUsage(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runFhkey(t, "pki", "init", "--dir", dir); code != 0 {
		t.Fatalf("pki init: exit %d\n%s%s", code, out, errs)
	}
	ta, err := certpath.NewTrustAnchor(loadPEMCert(t, filepath.Join(dir, "ta.pem")))
	if err != nil {
		t.Fatal(err)
	}
	if got := ta.Resources.IPv6().String(); got != "IPv6: ::/0" {
		t.Errorf("default resources %s, want ::/0", got)
	}
	if n := ta.Certificate.PublicKey.(interface{ Size() int }).Size() * 8; n != 2048 {
		t.Errorf("default key size %d, want 2048", n)
	}
	for _, args := range [][]string{
		{"pki"},
		{"pki", "bogus"},
		{"pki", "init"},
		{"pki", "router", "--dir", dir},
		{"pki", "router", "--dir", dir, "--prefix", "10.0.0.0/8"},
		{"pki", "router", "--dir", dir, "--prefix", "2001:db8::1/64"},
		{"pki", "router", "--dir", dir, "--prefix", "2001:db8::/64", "--name", "../x"},
		{"pki", "init", "--dir", dir, "--bits", "512"},
		{"pki", "verify", "--dir", dir},
	} {
		if code, _, _ := runFhkey(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	for _, args := range [][]string{{"pki", "--help"}, {"pki", "init", "--help"}, {"pki", "router", "--help"}, {"pki", "verify", "--help"}} {
		code, out, _ := runFhkey(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: fhkey pki") {
			t.Errorf("%q: exit %d, output %q", args, code, out)
		}
	}
	_, out, _ := runFhkey(t, "pki", "--help")
	for _, sub := range []string{"init", "router", "verify"} {
		if !strings.Contains(out, "  "+sub+" ") {
			t.Errorf("pki --help does not describe %q", sub)
		}
	}
}
