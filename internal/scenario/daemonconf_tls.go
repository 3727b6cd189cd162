package scenario

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/mip6tls"
)

// Names of the TLS mode (RFC 6618) files WriteTLSDaemonFiles writes.
const (
	ConfigHAC       = "hac.toml"
	ConfigHA        = "ha.toml"
	ConfigMIP6PSK   = "mip6-psk.toml"
	ConfigMIP6EAP   = "mip6-eap.toml"
	TLSRADIUSSecret = "radius-hac.secret"
	tlsCA           = "tls-ca.pem"
	tlsMNCA         = "mn-ca.pem"
	tlsPSK          = "mn-hac.psk"
	tlsHACCert      = "hac-cert.pem"
	tlsHACKey       = "hac-key.pem"
	tlsHACClient    = "hac-client-cert.pem"
	tlsHACClientKey = "hac-client-key.pem"
	tlsHACert       = "ha-cert.pem"
	tlsHAKey        = "ha-key.pem"
	tlsSubscribers  = "hac-subscribers.db"
)

// The names the TLS mode's certificates carry.
const (
	HACServerName = "hac.example.com"
	HAServerName  = "ha.example.com"
)

// Ports of the TLS mode on the testbed: the HAC's TLS listener and the
// HA's UDP service (both RFC 6618's 7872, §8.3; RFC 6618 names no TCP
// port), the HAC→HA channel (fhkey's own, docs/tls.md).
const (
	TLSHACPort     = 7872
	TLSHAPort      = 7872
	TLSChannelPort = 7874
	tlsRADIUSPort  = 1812
)

// DefaultTLSRADIUS is the AAA server of the TLS mode: FreeRADIUS in the
// testbed's AAA namespace.
var DefaultTLSRADIUS = netip.AddrPortFrom(testbed.AddrAAA, tlsRADIUSPort)

// TLSRADIUSClients is the HAC's link, the client entry of the AAA server.
var TLSRADIUSClients = testbed.PrefixHACLink

// TLSDaemonOptions select the TLS mode configurations (docs/tls.md).
type TLSDaemonOptions struct {
	DaemonOptions
	// Secret is the RADIUS secret the HAC shares with the AAA server.
	Secret []byte
	// PKI is the EAP-TLS PKI: its server files are for the AAA server,
	// its client certificate (lab.EAPNAI) for the MN's EAP configuration.
	PKI *lab.EAPPKI
	// Lifetime is the binding lifetime the MN asks for (0: 600 s).
	Lifetime string
}

// TLSDaemonFiles are the TLS mode's files.
type TLSDaemonFiles struct {
	Dir, HAC, HA, MIP6PSK, MIP6EAP string
	// HAState is the HA's bbolt file (SAs and bindings), Subscribers the
	// HAC's (the subscriber lab.EAPNAI with psk and eap and the home
	// address testbed.AddrMNHome).
	HAState, Subscribers string
	// Secret is the RADIUS secret file; ServerCert, ServerKey and CA the
	// AAA server's EAP-TLS certificate, key and the clients' CA.
	Secret, ServerCert, ServerKey, CA string
}

// WriteTLSDaemonFiles writes, in dir (mode 0700), the RFC 6618 daemons of
// the testbed's home network (testbed.Config.Home): `fhkey hac` in the HAC
// namespace (TLS on [2001:db8:b::2]:7872, subscribers in bbolt, EAP relayed
// to o.RADIUS), `fhkey ha` in the HA namespace (UDP 7872, home link
// 2001:db8:8::/64 on the TUN fhkha0, HAC channel on 7874, state in bbolt)
// and `fhkey mip6` in the MN namespace twice, with the PSK and with
// EAP-TLS; the TLS PKI (one CA: the HAC's server certificate, the HA's
// channel server certificate, the HAC's channel client certificate), the
// PSK and RADIUS secret (0600) and the EAP-TLS files (keys 0600).
func WriteTLSDaemonFiles(ctx context.Context, dir string, o TLSDaemonOptions) (TLSDaemonFiles, error) {
	o.DaemonOptions.setDefaults()
	if o.Lifetime == "" {
		o.Lifetime = "600s"
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	f := TLSDaemonFiles{Dir: dir, HAC: at(ConfigHAC), HA: at(ConfigHA), MIP6PSK: at(ConfigMIP6PSK), MIP6EAP: at(ConfigMIP6EAP),
		HAState: at("ha.db"), Subscribers: at(tlsSubscribers),
		Secret: at(TLSRADIUSSecret), ServerCert: at(MSKServerCert), ServerKey: at(MSKServerKey), CA: at(MSKCA)}
	if o.PKI == nil || len(o.Secret) == 0 {
		return f, fmt.Errorf("scenario: TLS daemon files: no EAP-TLS PKI or RADIUS secret")
	}
	if err := mkdirPrivate(dir); err != nil {
		return f, err
	}
	ca, err := lab.NewEAPCert("fhkey TLS lab CA", nil, 0)
	if err != nil {
		return f, err
	}
	hacCert, err := lab.NewEAPCert(HACServerName, ca, x509.ExtKeyUsageServerAuth, HACServerName)
	if err != nil {
		return f, err
	}
	haCert, err := lab.NewEAPCert(HAServerName, ca, x509.ExtKeyUsageServerAuth, HAServerName)
	if err != nil {
		return f, err
	}
	hacClient, err := lab.NewEAPCert(HACServerName, ca, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return f, err
	}
	// The MN checks the EAP server's certificate against [mip6tls] ca and
	// server_name, as the HAC's (node.HACBootstrapper): the AAA server's
	// certificate also names the HAC, and the MN's CA file holds both CAs.
	eapServer, err := lab.NewEAPCert(lab.EAPServerName, o.PKI.CA, x509.ExtKeyUsageServerAuth, lab.EAPServerName, HACServerName)
	if err != nil {
		return f, err
	}
	psk := make([]byte, 32)
	if _, err := rand.Read(psk); err != nil {
		return f, err
	}
	// The PSK file is one line of text (config.LoadSecret): its octets,
	// here 64 hex digits, are the PSK.
	pskText := []byte(hex.EncodeToString(psk))
	p := o.PKI
	files := []struct {
		name string
		mode os.FileMode
		data []byte
	}{
		{TLSRADIUSSecret, 0o600, append(append([]byte(nil), o.Secret...), '\n')},
		{tlsPSK, 0o600, append(append([]byte(nil), pskText...), '\n')},
		{tlsCA, 0o644, ca.CertPEM},
		{tlsMNCA, 0o644, append(append([]byte(nil), ca.CertPEM...), p.CA.CertPEM...)},
		{tlsHACCert, 0o644, hacCert.CertPEM}, {tlsHACKey, 0o600, hacCert.KeyPEM},
		{tlsHACert, 0o644, haCert.CertPEM}, {tlsHAKey, 0o600, haCert.KeyPEM},
		{tlsHACClient, 0o644, hacClient.CertPEM}, {tlsHACClientKey, 0o600, hacClient.KeyPEM},
		{MSKCA, 0o644, p.CA.CertPEM},
		{MSKServerCert, 0o644, eapServer.CertPEM}, {MSKServerKey, 0o600, eapServer.KeyPEM},
		{mskClientCert, 0o644, p.Client.CertPEM}, {mskClientKey, 0o600, p.Client.KeyPEM},
		{ConfigHAC, 0o644, []byte(tlsHACConfig(o))},
		{ConfigHA, 0o644, []byte(tlsHAConfig(o))},
		{ConfigMIP6PSK, 0o644, []byte(tlsMIP6Config(o, `method = "psk"`+"\n"+fmt.Sprintf("psk_file = %q", tlsPSK)))},
		{ConfigMIP6EAP, 0o644, []byte(tlsMIP6Config(o, `method = "eap"`+"\n"+fmt.Sprintf("certificate = %q\nkey = %q", mskClientCert, mskClientKey)))},
	}
	for _, file := range files {
		if err := writeFileMode(at(file.name), file.data, file.mode); err != nil {
			return f, err
		}
	}
	return f, writeTLSSubscriber(ctx, f.Subscribers, pskText)
}

// writeTLSSubscriber puts the testbed's MN in the HAC's subscriber file:
// lab.EAPNAI, psk and eap, the home address and prefix.
func writeTLSSubscriber(ctx context.Context, path string, psk []byte) error {
	store, err := hac.OpenBolt(path, 0)
	if err != nil {
		return err
	}
	err = store.Put(ctx, hac.Subscriber{Identity: lab.EAPNAI, Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK, mip6tls.AuthMethodEAP},
		PSK: psk, HomeAddress: testbed.AddrMNHome, HomePrefix: testbed.PrefixHome})
	return errors.Join(err, store.Close())
}

// tlsHACConfig is the HAC's configuration.
func tlsHACConfig(o TLSDaemonOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey hac in the testbed's HAC namespace (RFC 6618 §5).\n")
	fmt.Fprintf(&b, "listen = %q\ncertificate = %q\nkey = %q\ntls_min_version = \"1.2\"\nsession_timeout = \"30s\"\n\n",
		netip.AddrPortFrom(testbed.AddrHAC, TLSHACPort).String(), tlsHACCert, tlsHACKey)
	fmt.Fprintf(&b, "[subscribers]\npath = %q\n\n", tlsSubscribers)
	fmt.Fprintf(&b, "[[radius]]\naddress = %q\nsecret_file = %q\n\n", DefaultTLSRADIUS.String(), TLSRADIUSSecret)
	fmt.Fprintf(&b, "[home_agent]\naddress = %q\nport = %d\nchannel = %q\nserver_name = %q\nca = %q\ncertificate = %q\nkey = %q\n\n",
		testbed.AddrHA.String(), TLSHAPort, netip.AddrPortFrom(testbed.AddrHACore, TLSChannelPort).String(), HAServerName, tlsCA, tlsHACClient, tlsHACClientKey)
	fmt.Fprintf(&b, "[security_associations]\nlifetime = \"24h\"\nciphersuites = [\"AES_128_CBC_SHA256\", \"AES_128_CBC_SHA\", \"NULL_SHA256\"]\n\n")
	writeLogHTTP(&b, o.DaemonOptions)
	return b.String()
}

// tlsHAConfig is the HA's configuration.
func tlsHAConfig(o TLSDaemonOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey ha in the testbed's HA namespace (RFC 6618 §6).\n")
	// Bound to the HA's address: its answers come from the address the
	// HAC told the MN (mip6-haa-ip6), which the MN checks.
	fmt.Fprintf(&b, "listen = %q\n\n", netip.AddrPortFrom(testbed.AddrHA, TLSHAPort).String())
	fmt.Fprintf(&b, "[home_link]\nprefix = %q\naddress = %q\ntun = %q\nmtu = 1400\n\n", testbed.PrefixHome.String(), testbed.AddrHA.String(), TUNHomeAgent)
	fmt.Fprintf(&b, "[bindings]\nmax_lifetime = \"1h\"\nsa_grace = \"5m\"\n\n[state]\npath = \"ha.db\"\n\n")
	fmt.Fprintf(&b, "[hac_channel]\nlisten = %q\ncertificate = %q\nkey = %q\nclient_ca = %q\n\n", fmt.Sprintf("[::]:%d", TLSChannelPort), tlsHACert, tlsHAKey, tlsCA)
	writeLogHTTP(&b, o.DaemonOptions)
	return b.String()
}

// tlsMIP6Config is the MN's configuration with the [mip6tls] method lines.
func tlsMIP6Config(o TLSDaemonOptions, method string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey mip6 in the testbed's MN namespace (RFC 6618): either access link.\n")
	fmt.Fprintf(&b, "interfaces = [%q, %q]\ntun = %q\nlifetime = %q\n\n", testbed.IfaceMNToPAR, testbed.IfaceMNToNAR, TUNMobileNode, o.Lifetime)
	fmt.Fprintf(&b, "[mip6tls]\nhac = %q\nserver_name = %q\nca = %q\nidentity = %q\n%s\n\n",
		netip.AddrPortFrom(testbed.AddrHAC, TLSHACPort).String(), HACServerName, tlsMNCA, lab.EAPNAI, method)
	writeLogHTTP(&b, o.DaemonOptions)
	return b.String()
}
