package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a test certificate and its key, parsed and PEM.
type Cert struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// TLS returns c as a tls.Certificate.
func (c *Cert) TLS() tls.Certificate {
	t, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		panic(err)
	}
	return t
}

// NewCert issues an ECDSA P-256 certificate for cn valid for a day (a
// CA if parent is nil: self-signed) with the extended key usage eku and
// the DNS names dns.
func NewCert(tb testing.TB, cn string, parent *Cert, eku x509.ExtKeyUsage, dns ...string) *Cert {
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
		signer, signCert = parent.Key, parent.Cert
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
	return &Cert{Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
}

// PKI is the EAP-TLS tests' public key infrastructure: a CA, a server
// certificate (radius.example.com) and a client certificate
// (mn@example.com) from it, and a client certificate from another CA.
type PKI struct {
	CA, Server, Client, RogueCA, RogueClient *Cert
}

// NewPKI makes a PKI.
func NewPKI(tb testing.TB) *PKI {
	p := &PKI{}
	p.CA = NewCert(tb, "fhkey test CA", nil, 0)
	p.Server = NewCert(tb, "radius.example.com", p.CA, x509.ExtKeyUsageServerAuth, "radius.example.com")
	p.Client = NewCert(tb, "mn@example.com", p.CA, x509.ExtKeyUsageClientAuth)
	p.RogueCA = NewCert(tb, "rogue CA", nil, 0)
	p.RogueClient = NewCert(tb, "mn@example.com", p.RogueCA, x509.ExtKeyUsageClientAuth)
	return p
}

// Pool returns a pool holding the CA.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	return pool
}

// TLS version choices of wpa_supplicant's phase1 (EAPTLSNetwork).
const (
	PhaseTLS12 = "tls_disable_tlsv1_3=1"
	PhaseTLS13 = "tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"
)

// WriteEAPTLSConfig writes into dir the CA, client's certificate and key
// and a wpa_supplicant (or eapol_test) configuration file, dir/name, of
// an EAP-TLS peer with identity mn@example.com that verifies the server
// as radius.example.com, with head before the network block and the
// given phase1; it returns the file's path.
func (p *PKI) WriteEAPTLSConfig(tb testing.TB, dir, name string, client *Cert, head, phase1 string) string {
	tb.Helper()
	for file, b := range map[string][]byte{"ca.pem": p.CA.CertPEM, "client.pem": client.CertPEM, "client.key": client.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	conf := filepath.Join(dir, name)
	if err := os.WriteFile(conf, []byte(head+`network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="mn@example.com"
	ca_cert="`+dir+`/ca.pem"
	domain_match="radius.example.com"
	client_cert="`+dir+`/client.pem"
	private_key="`+dir+`/client.key"
	phase1="`+phase1+`"
	eapol_flags=0
}
`), 0o600); err != nil {
		tb.Fatal(err)
	}
	return conf
}
