// Package eaptest is what the EAP tests share: a PKI made with
// crypto/x509 (ECDSA P-256) and one FreeRADIUS EAP-TLS server per test
// binary on loopback (radius/freeradius.StartEAPTLS), from a private
// directory, stopped by PID. It is imported by tests only.
package eaptest

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

// ServerName is the DNS name of the server certificate, what a peer's
// tls.Config.ServerName must be.
const ServerName = "radius.example.com"

// Cert is a certificate and its key, PEM and parsed.
type Cert struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// TLS returns the certificate for a tls.Config.
func (c *Cert) TLS() tls.Certificate {
	t, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		panic(err) // made by NewCert: a programmer error
	}
	return t
}

// NewCert issues a certificate for cn (a CA if parent is nil:
// self-signed), valid from an hour ago for a day.
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

// PKI is a CA, a server (ServerName) and a client certificate from it,
// and a client certificate from another CA.
type PKI struct {
	CA, Server, Client, RogueCA, RogueClient *Cert
}

// NewPKI makes a PKI.
func NewPKI(tb testing.TB) *PKI {
	p := &PKI{}
	p.CA = NewCert(tb, "fhkey test CA", nil, 0)
	p.Server = NewCert(tb, ServerName, p.CA, x509.ExtKeyUsageServerAuth, ServerName)
	p.Client = NewCert(tb, "mn@example.com", p.CA, x509.ExtKeyUsageClientAuth)
	p.RogueCA = NewCert(tb, "rogue CA", nil, 0)
	p.RogueClient = NewCert(tb, "mn@example.com", p.RogueCA, x509.ExtKeyUsageClientAuth)
	return p
}

// Pool is a pool holding the CA.
func (p *PKI) Pool() *x509.CertPool { return NewPool(p.CA) }

// NewPool is a pool holding the certificates.
func NewPool(certs ...*Cert) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.Cert)
	}
	return pool
}
