package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"

	"github.com/fhkey/fhkey/hokey"
)

// MNEAP is the [eap] section of mn.toml: the MSK mode of issue 12
// (docs/msk.md). On each link the node first authenticates with EAP-TLS
// over EAPOL (802.1X) to the access router of that link, and signs its
// FBU with the FHK derived from the MSK shared with the router it
// leaves.
type MNEAP struct {
	// Identity is the EAP Identity and the NAI of the MN-NAI option and
	// of the FHK derivation (RFC 4282), 1 to 254 octets.
	Identity string
	// CertificateFile and KeyFile are the node's TLS client certificate
	// and key (PEM; the key mode 0600); CAFile the CAs the EAP server's
	// certificate must chain to, ServerName the name it must carry.
	CertificateFile, KeyFile, CAFile string
	ServerName                       string
	// TLSMinVersion and TLSMaxVersion bound the TLS version (1.2, 1.3).
	TLSMinVersion, TLSMaxVersion uint16
	// Algorithm is the AT of the FBU's authenticator, named by its SPI.
	Algorithm hokey.AlgorithmType
	// Router is the access router of interface's link, the EAP
	// authenticator there and the PAR the FBU goes to on leaving it;
	// NewRouter that of the [handover] link.
	Router, NewRouter netip.Addr
}

type rawMNEAP struct {
	Identity      string `toml:"identity"`
	Certificate   string `toml:"certificate"`
	Key           string `toml:"key"`
	CA            string `toml:"ca"`
	ServerName    string `toml:"server_name"`
	TLSMinVersion string `toml:"tls_min_version"`
	TLSMaxVersion string `toml:"tls_max_version"`
	Algorithm     string `toml:"algorithm"`
	Router        string `toml:"router"`
	NewRouter     string `toml:"new_router"`
}

// mnEAPSection validates [eap]; handover reports a [handover] link.
func (c *collector) mnEAPSection(r *rawMNEAP, dir string, handover bool) *MNEAP {
	if r == nil {
		return nil
	}
	e := &MNEAP{Identity: r.Identity, ServerName: r.ServerName, Algorithm: hokey.HMACSHA256Trunc128,
		TLSMinVersion: tls.VersionTLS12, TLSMaxVersion: tls.VersionTLS13}
	switch {
	case r.Identity == "":
		c.addf("eap.identity", ErrMissing, "required: the node's NAI, such as \"mn@example.com\"")
	case len(r.Identity) > hokey.MaxNAILen:
		c.addf("eap.identity", ErrInvalid, "%d octets, at most %d (RFC 4283)", len(r.Identity), hokey.MaxNAILen)
	}
	for _, f := range []struct {
		key, v string
		to     *string
	}{{"eap.certificate", r.Certificate, &e.CertificateFile}, {"eap.key", r.Key, &e.KeyFile}, {"eap.ca", r.CA, &e.CAFile}} {
		c.required(f.key, f.v)
		if f.v != "" {
			*f.to = resolve(dir, f.v)
		}
	}
	if r.ServerName == "" {
		c.addf("eap.server_name", ErrMissing, "required: the name in the EAP server's certificate (RFC 5216 §5.2)")
	}
	e.TLSMinVersion = c.tlsVersion("eap.tls_min_version", r.TLSMinVersion, e.TLSMinVersion)
	e.TLSMaxVersion = c.tlsVersion("eap.tls_max_version", r.TLSMaxVersion, e.TLSMaxVersion)
	if e.TLSMinVersion > e.TLSMaxVersion {
		c.addf("eap.tls_min_version", ErrInvalid, "%s is above tls_max_version %s", tls.VersionName(e.TLSMinVersion), tls.VersionName(e.TLSMaxVersion))
	}
	if r.Algorithm != "" {
		if at, ok := parseAlgorithm(r.Algorithm); ok {
			e.Algorithm = at
		} else {
			c.addf("eap.algorithm", ErrInvalid, "%q: unknown algorithm type (known: %s)", r.Algorithm, algorithmNames())
		}
	}
	e.Router = c.parAddress("eap.router", r.Router)
	switch {
	case handover:
		e.NewRouter = c.parAddress("eap.new_router", r.NewRouter)
	case r.NewRouter != "":
		c.addf("eap.new_router", ErrInvalid, "set without a [handover] link")
	}
	return e
}

// tlsVersion parses "1.2" or "1.3".
func (c *collector) tlsVersion(key, s string, def uint16) uint16 {
	switch s {
	case "":
		return def
	case "1.2":
		return tls.VersionTLS12
	case "1.3":
		return tls.VersionTLS13
	}
	c.addf(key, ErrInvalid, "%q: want \"1.2\" or \"1.3\" (RFC 5216, RFC 9190)", s)
	return def
}

// parAddress parses a required PAR address (hokey.CheckPARAddress:
// global unicast, docs/msk.md).
func (c *collector) parAddress(key, s string) netip.Addr {
	if s == "" {
		c.addf(key, ErrMissing, "required: the access router's global address (the FHK's PAR address)")
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err == nil {
		err = hokey.CheckPARAddress(a)
	}
	if err != nil {
		c.addf(key, ErrInvalid, "%q: %v", s, err)
		return netip.Addr{}
	}
	return a
}

// EAPCredentials are the [eap] files, loaded.
type EAPCredentials struct {
	Certificate tls.Certificate
	Roots       *x509.CertPool
}

// openEAP loads the [eap] files: the key as a secret file (mode 0600),
// the certificate and CAs as trusted files.
func (c *collector) openEAP(e *MNEAP) *EAPCredentials {
	roots, okRoots := c.certPool("eap.ca", e.CAFile)
	kp, okPair := c.keyPair("eap.certificate", "eap.key", e.CertificateFile, e.KeyFile)
	if !okRoots || !okPair {
		return nil
	}
	return &EAPCredentials{Certificate: kp, Roots: roots}
}

// certPool loads the CA certificates of file (a trusted file) under key.
func (c *collector) certPool(key, file string) (*x509.CertPool, bool) {
	pool := x509.NewCertPool()
	ders, err := LoadCertificates(file)
	if err != nil {
		c.add(key, err)
		return pool, false
	}
	ok := true
	for _, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			c.add(key, fmt.Errorf("%w: %s: %w", ErrFile, file, err))
			ok = false
			continue
		}
		pool.AddCert(cert)
	}
	return pool, ok
}

// keyPair loads a TLS certificate (a trusted file) and its key (a secret
// file, mode 0600) under certKey and keyKey.
func (c *collector) keyPair(certKey, keyKey, certFile, keyFile string) (tls.Certificate, bool) {
	ok := true
	certPEM, err := readFile(certFile, trustedFile)
	if err != nil {
		c.add(certKey, err)
		ok = false
	}
	keyPEM, err := readFile(keyFile, secretFile)
	if err != nil {
		c.add(keyKey, err)
		ok = false
	}
	defer clear(keyPEM)
	if !ok {
		return tls.Certificate{}, false
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		c.add(keyKey, fmt.Errorf("%w: %s with %s: %w", ErrFile, keyFile, certFile, err))
		return tls.Certificate{}, false
	}
	return kp, true
}
