package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// EAPServerName is the DNS name of the EAP-TLS server certificate of
// NewEAPPKI, what a peer's server_name must be (RFC 5216 §5.2).
const EAPServerName = "radius.example.com"

// EAPNAI is the identity of the EAP-TLS client certificates of NewEAPPKI,
// the NAI of the MSK mode's lab mobile node.
const EAPNAI = "mn@example.com"

// EAPCert is an EAP-TLS certificate and its ECDSA P-256 key, parsed and in
// PEM (the key as PKCS #8).
type EAPCert struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// TLS returns the certificate for a tls.Config.
func (c *EAPCert) TLS() tls.Certificate {
	t, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		panic(err) // made by NewEAPCert: a programmer error
	}
	return t
}

// NewEAPCert issues a certificate for cn (a CA if parent is nil:
// self-signed), valid from an hour ago for a day, with the extended key
// usage eku and the DNS names dns.
func NewEAPCert(cn string, parent *EAPCert, eku x509.ExtKeyUsage, dns ...string) (*EAPCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("lab: EAP certificate %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &EAPCert{Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}, nil
}

// EAPPKI is the lab's EAP-TLS PKI (RFC 5216): a CA, the EAP server's
// certificate (EAPServerName) and a client certificate (EAPNAI) from it,
// and a client certificate of the same name from another CA, which the
// server must reject. Lab keys: never use them on a real network.
type EAPPKI struct {
	CA, Server, Client, RogueCA, RogueClient *EAPCert
}

// NewEAPPKI makes an EAPPKI (fresh keys each time, valid for a day).
func NewEAPPKI() (*EAPPKI, error) {
	p := &EAPPKI{}
	var err error
	for _, c := range []struct {
		to     **EAPCert
		cn     string
		parent **EAPCert
		eku    x509.ExtKeyUsage
		dns    []string
	}{
		{&p.CA, "fhkey test CA", nil, 0, nil},
		{&p.Server, EAPServerName, &p.CA, x509.ExtKeyUsageServerAuth, []string{EAPServerName}},
		{&p.Client, EAPNAI, &p.CA, x509.ExtKeyUsageClientAuth, nil},
		{&p.RogueCA, "rogue CA", nil, 0, nil},
		{&p.RogueClient, EAPNAI, &p.RogueCA, x509.ExtKeyUsageClientAuth, nil},
	} {
		var parent *EAPCert
		if c.parent != nil {
			parent = *c.parent
		}
		if *c.to, err = NewEAPCert(c.cn, parent, c.eku, c.dns...); err != nil {
			return nil, err
		}
	}
	return p, nil
}
