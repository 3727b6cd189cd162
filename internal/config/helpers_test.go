package config

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
)

// testBits keeps key generation fast; 1024 is SEND's minimum (RFC 3971
// §5.1.3).
const testBits = 1024

var (
	keysOnce sync.Once
	testKeys [4]*rsa.PrivateKey // anchor, router, mobile node, other
)

func keys(t testing.TB) [4]*rsa.PrivateKey {
	keysOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, testBits)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

// creds writes a complete set of credentials into dir with the names the
// sample configurations use: ta.pem, ar.key, ar-cga.json, ar-cert.pem
// (authorizing arPrefix), mn.key, mn-cga.json.
func creds(t testing.TB, dir string) {
	t.Helper()
	k := keys(t)
	now := time.Now()
	taRes, err := certpath.NewIPv6Blocks(netip.MustParsePrefix("2001:db8::/32"))
	if err != nil {
		t.Fatal(err)
	}
	taDER, err := certpath.CreateCertificate(rand.Reader, &certpath.CertificateTemplate{
		CommonName: "test anchor", IsCA: true, Resources: taRes,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	}, &k[0].PublicKey, nil, k[0])
	if err != nil {
		t.Fatal(err)
	}
	ta, err := x509.ParseCertificate(taDER)
	if err != nil {
		t.Fatal(err)
	}
	res, err := certpath.NewIPv6Blocks(arPrefix)
	if err != nil {
		t.Fatal(err)
	}
	rDER, err := certpath.CreateCertificate(rand.Reader, &certpath.CertificateTemplate{
		CommonName: "test router", Resources: res, ExtKeyUsage: []asn1.ObjectIdentifier{certpath.OIDSendRouter},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	}, &k[1].PublicKey, ta, k[0])
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ta.pem"), 0o644, "CERTIFICATE", taDER)
	writePEM(t, filepath.Join(dir, "ar-cert.pem"), 0o644, "CERTIFICATE", rDER)
	writeKey(t, filepath.Join(dir, "ar.key"), k[1])
	writeKey(t, filepath.Join(dir, "mn.key"), k[2])
	writeCGA(t, filepath.Join(dir, "ar-cga.json"), k[1], arPrefix)
	writeCGA(t, filepath.Join(dir, "mn-cga.json"), k[2], arPrefix)
	writeCGA(t, filepath.Join(dir, "mn-cga-new.json"), k[2], netip.MustParsePrefix("2001:db8:2::/64"))
}

var arPrefix = netip.MustParsePrefix("2001:db8:1::/64")

func writePEM(t testing.TB, name string, mode os.FileMode, typ string, der []byte) {
	t.Helper()
	writeFile(t, name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// writeFile writes data to name with mode, whatever the umask.
func writeFile(t testing.TB, name string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t testing.TB, name string, k *rsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, name, 0o600, "PRIVATE KEY", der)
}

func writeCGA(t testing.TB, name string, k *rsa.PrivateKey, prefix netip.Prefix) {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cga.Generate(context.Background(), prefix, spki, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	params, err := g.Parameters.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The shape of 'fhkey cga gen --json', extra fields included.
	b, err := json.Marshal(map[string]any{"address": g.Address.String(), "sec": 0, "params": hex.EncodeToString(params), "prefix": prefix.String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
