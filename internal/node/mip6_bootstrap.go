package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/mip6tls"
)

// HACClient is the bootstrap client of 'fhkey mip6': each Bootstrap opens
// TLS to the Home Agent Controller at Addr and runs the RFC 6618 §5
// exchange (hacclient.Bootstrap) with Config.
type HACClient struct {
	Addr   string
	Config hacclient.Config
}

// Bootstrap runs one §5 exchange and returns the SA (§5.6) and the
// bootstrapping data (§5.7) the HAC sent.
func (c *HACClient) Bootstrap(ctx context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error) {
	r, err := hacclient.Bootstrap(ctx, c.Addr, c.Config)
	if err != nil {
		return nil, nil, err
	}
	return &r.SA, &r.Bootstrap, nil
}

var _ mip6mn.Bootstrapper = (*HACClient)(nil)

// HACBootstrapper is the MIP6BootstrapperFunc of 'fhkey mip6': a TLS
// client (1.2 or 1.3, hacclient's floor) of [mip6tls] hac whose
// certificate must name server_name and chain to ca, authenticating as
// identity with the psk method (§5.8; the key is copied, the caller may
// clear secrets.PSK) or the eap method (§5.9, EAP-TLS with certificate
// and key, the key file mode 0600). The EAP server's certificate is
// checked against the same ca and server_name: the configuration names
// one trust anchor set for the whole bootstrap (docs/tls.md). The MN asks
// for mip6-sas 1 (§5.6.4).
func HACBootstrapper(cfg *config.MIP6Config, secrets *config.MIP6Secrets, keyLog io.Writer) (mip6mn.Bootstrapper, error) {
	m := cfg.MIP6TLS
	roots := x509.NewCertPool()
	for _, der := range secrets.CAs {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("node: mip6: mip6tls.ca: %w", err)
		}
		roots.AddCert(cert)
	}
	// RFC 6618 §5.6.4: the MN proposes the scope, the HAC decides. The
	// node proposes 1 (data protected too); allow_plaintext_data covers a
	// HAC that answers 0.
	hc := hacclient.Config{Identity: mip6tls.MNIdentifier(m.Identity), KeyLog: keyLog, Scope: mip6tls.SAScopeAll,
		TLS: &tls.Config{RootCAs: roots, ServerName: m.ServerName, MinVersion: tls.VersionTLS12}}
	switch m.Method {
	case config.MIP6MethodEAP:
		kp, err := loadKeyPair(m.CertificateFile, m.KeyFile)
		if err != nil {
			return nil, err
		}
		hc.EAP = &tlspeer.Config{Identity: m.Identity, TLS: &tls.Config{Certificates: []tls.Certificate{kp},
			RootCAs: roots, ServerName: m.ServerName, MinVersion: tls.VersionTLS12}}
	default:
		if len(secrets.PSK) == 0 {
			return nil, fmt.Errorf("node: mip6: mip6tls.psk_file: no pre-shared key")
		}
		hc.PSK = bytes.Clone(secrets.PSK)
	}
	return &HACClient{Addr: m.HAC, Config: hc}, nil
}

// loadKeyPair reads the EAP-TLS certificate and its key (LoadSecret's
// permission check: mode 0600, owned by the user or root).
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: mip6: mip6tls.certificate: %w", err)
	}
	keyPEM, err := config.LoadSecret(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: mip6: mip6tls.key: %w", err)
	}
	defer clear(keyPEM)
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node: mip6: mip6tls.key with %s: %w", certFile, err)
	}
	return kp, nil
}
