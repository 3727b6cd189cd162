// Package eaptest is what the EAP tests share: a PKI made with
// crypto/x509 (ECDSA P-256) and one FreeRADIUS EAP-TLS server per test
// binary on loopback (radius/freeradius.StartEAPTLS), from a private
// directory, stopped by PID. It is imported by tests only.
package eaptest

import (
	"crypto/x509"
	"testing"

	"github.com/fhkey/fhkey/internal/lab"
)

// ServerName is the DNS name of the server certificate, what a peer's
// tls.Config.ServerName must be.
const ServerName = lab.EAPServerName

// Cert is a certificate and its key, PEM and parsed (lab.EAPCert).
type Cert = lab.EAPCert

// NewCert issues a certificate for cn (a CA if parent is nil:
// self-signed), valid from an hour ago for a day (lab.NewEAPCert).
func NewCert(tb testing.TB, cn string, parent *Cert, eku x509.ExtKeyUsage, dns ...string) *Cert {
	tb.Helper()
	c, err := lab.NewEAPCert(cn, parent, eku, dns...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// PKI is a CA, a server (ServerName) and a client certificate from it,
// and a client certificate from another CA (lab.EAPPKI).
type PKI lab.EAPPKI

// NewPKI makes a PKI.
func NewPKI(tb testing.TB) *PKI {
	tb.Helper()
	p, err := lab.NewEAPPKI()
	if err != nil {
		tb.Fatal(err)
	}
	return (*PKI)(p)
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
