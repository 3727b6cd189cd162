package tlspeer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// testCert is a certificate and key, PEM and parsed.
type testCert struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

func (c *testCert) tls() tls.Certificate {
	t, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
	if err != nil {
		panic(err)
	}
	return t
}

// newCert issues a certificate for cn (a CA if parent is nil: self-signed).
func newCert(tb testing.TB, cn string, parent *testCert, eku x509.ExtKeyUsage, dns ...string) *testCert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	signer, signCert := key, tmpl
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{eku}
		signer, signCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signCert, &key.PublicKey, signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return &testCert{cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
}

// testPKI: a CA, a server and a client certificate from it, and a client
// certificate from another CA.
type testPKI struct {
	ca, server, client, rogueCA, rogueClient *testCert
}

func newPKI(tb testing.TB) *testPKI {
	p := &testPKI{}
	p.ca = newCert(tb, "fhkey test CA", nil, 0)
	p.server = newCert(tb, "radius.example.com", p.ca, x509.ExtKeyUsageServerAuth, "radius.example.com")
	p.client = newCert(tb, "mn@example.com", p.ca, x509.ExtKeyUsageClientAuth)
	p.rogueCA = newCert(tb, "rogue CA", nil, 0)
	p.rogueClient = newCert(tb, "mn@example.com", p.rogueCA, x509.ExtKeyUsageClientAuth)
	return p
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.cert)
	return pool
}
