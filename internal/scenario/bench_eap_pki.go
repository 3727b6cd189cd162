package scenario

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

// benchServerName is the DNS name of the bench's FreeRADIUS certificate.
const benchServerName = "radius.example.com"

// benchCert is a certificate and its key, parsed and PEM.
type benchCert struct {
	cert            *x509.Certificate
	key             *ecdsa.PrivateKey
	certPEM, keyPEM []byte
}

// benchPKI is the bench's EAP-TLS PKI: a CA, FreeRADIUS's certificate
// and the one client certificate every supplicant of both sides presents
// (ECDSA P-256, as the interop tests' internal/eap/eaptest PKI, which is
// for tests only).
type benchPKI struct{ ca, server, client *benchCert }

func newBenchPKI() (*benchPKI, error) {
	var p benchPKI
	var err error
	if p.ca, err = issueBenchCert("fhkey bench CA", nil, 0); err != nil {
		return nil, err
	}
	if p.server, err = issueBenchCert(benchServerName, p.ca, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, err
	}
	if p.client, err = issueBenchCert("mn@example.com", p.ca, x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	return &p, nil
}

// issueBenchCert issues cn's certificate from parent, or a self-signed
// CA when parent is nil, valid from an hour ago for a day.
func issueBenchCert(cn string, parent *benchCert, usage x509.ExtKeyUsage) (*benchCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	issuer, signer := &tmpl, key
	switch {
	case parent == nil:
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, tmpl.KeyUsage|x509.KeyUsageCertSign
	default:
		issuer, signer = parent.cert, parent.key
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{cn}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, issuer, key.Public(), signer)
	if err != nil {
		return nil, err
	}
	c := &benchCert{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	return c, nil
}

// clientTLS is the Go supplicants' TLS configuration: the client
// certificate, the CA, the server name, exactly version v.
func (p *benchPKI) clientTLS(v uint16) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.client.cert.Raw}, PrivateKey: p.client.key, Leaf: p.client.cert}},
		RootCAs:      roots, ServerName: benchServerName, MinVersion: v, MaxVersion: v,
	}
}
