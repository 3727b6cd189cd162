package freeradius

import (
	"context"
	"net/netip"

	"github.com/fhkey/fhkey/internal/peer"
)

// EAPTLSConfig is one FreeRADIUS EAP-TLS server (RFC 5216, RFC 9190).
type EAPTLSConfig struct {
	// Dir is the private configuration directory (it must exist).
	Dir string
	// Listen is the authentication address (IPv4 loopback in tests).
	Listen netip.AddrPort
	// Client is the authenticators' source address and ClientSecret the
	// secret they share with the server (Message-Authenticator required).
	Client       netip.Addr
	ClientSecret []byte
	// CA, Certificate and Key are PEM: the CA peers' certificates must
	// chain to, the server's certificate and its private key.
	CA, Certificate, Key []byte
	// MaxVersion is tls_max_version ("1.2" or "1.3"; default "1.3").
	MaxVersion string
}

// StartEAPTLS starts FreeRADIUS as an EAP-TLS server (peer.FreeRADIUS with
// EAPTLS set: the eap module with tls only, no session cache) with one
// authenticator client whose Message-Authenticator is required, ready when
// it says "Ready to process requests". Stop it with the returned Server's
// Stop (by its PID).
func StartEAPTLS(ctx context.Context, cfg EAPTLSConfig) (*peer.Server, error) {
	fr := &peer.FreeRADIUS{
		Dir: cfg.Dir, Listen: cfg.Listen, Debug: true,
		Clients: []peer.FreeRADIUSClient{{Name: "authenticator", Prefix: netip.PrefixFrom(cfg.Client, cfg.Client.BitLen()),
			Secret: string(cfg.ClientSecret), RequireMessageAuthenticator: true}},
		EAPTLS: &peer.EAPTLSServer{CA: cfg.CA, Certificate: cfg.Certificate, Key: cfg.Key, MaxVersion: cfg.MaxVersion},
	}
	return fr.Start(ctx)
}
