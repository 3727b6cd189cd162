package scenario

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
)

// Names of the MSK mode configurations WriteMSKDaemonFiles writes.
const (
	ConfigPARMSK      = "par-msk.toml"
	ConfigNARMSK      = "nar-msk.toml"
	ConfigMNMSK       = "mn-msk.toml"
	ConfigMNMSKRogue  = "mn-msk-rogue.toml"
	MSKRADIUSSecret   = "radius-eap.secret"
	MSKServerCert     = "eap-server.pem"
	MSKServerKey      = "eap-server.key"
	MSKCA             = "eap-ca.pem"
	mskClientCert     = "mn-eap.pem"
	mskClientKey      = "mn-eap.key"
	mskRogueCert      = "mn-rogue.pem"
	mskRogueKey       = "mn-rogue.key"
	defaultMSKRADIUSP = 1812
)

// DefaultMSKRADIUS is where the testbed's EAP server (FreeRADIUS) listens
// in the MSK mode: the PAR's address on the PAR–NAR link, so that both
// access routers reach it (docs/msk.md, "On the testbed").
var DefaultMSKRADIUS = netip.AddrPortFrom(testbed.AddrPARToNAR, defaultMSKRADIUSP)

// MSKRADIUSClients is the prefix of both routers' RADIUS source addresses
// (the PAR–NAR link), the client entry of the EAP server.
var MSKRADIUSClients = netip.PrefixFrom(testbed.AddrPARToNAR, 64).Masked()

// MSKDaemonOptions select the MSK mode configurations (docs/msk.md).
type MSKDaemonOptions struct {
	DaemonOptions
	// RADIUS is the EAP server both routers relay to (default
	// DefaultMSKRADIUS) and Secret the secret they share with it.
	RADIUS netip.AddrPort
	Secret []byte
	// PKI is the EAP-TLS PKI: the server's files are written for the EAP
	// server, the client's for the MN, the rogue client's for the
	// rogue MN configuration.
	PKI *lab.EAPPKI
	// Algorithm is the MN's AT by name; empty means "HMAC-SHA256-128".
	Algorithm string
	// QuietPeriod is the routers' eap.quiet_period in whole seconds
	// (after an Access-Reject the MAC is ignored that long); zero: not
	// written (the default, 60 s); negative: "0s" (none).
	QuietPeriod time.Duration
}

// MSKDaemonFiles are the MSK mode configuration files.
type MSKDaemonFiles struct {
	Dir, PAR, NAR, MN string
	// MNRogue is the MN with a client certificate of another CA: its
	// EAP-TLS fails at the server.
	MNRogue string
	// PARKeyStore and NARKeyStore are the routers' bbolt key stores,
	// where their MSKs are kept.
	PARKeyStore, NARKeyStore string
	// Secret is the RADIUS secret file; ServerCert, ServerKey and CA the
	// EAP server's certificate, key and the CA of the clients (PEM).
	Secret, ServerCert, ServerKey, CA string
}

// WriteMSKDaemonFiles writes, in dir (mode 0700), the configurations of
// two MSK-only `fhkey ar` on the testbed's PAR and NAR (each the 802.1X
// authenticator of its access link acc0, relaying to o.RADIUS; addresses
// the lab CGA addresses used as plain addresses; bbolt key stores;
// forwarding) and of an `fhkey mn` in the MSK mode (EAP-TLS as
// lab.EAPNAI, routers the PAR on par0 and the NAR on nar0, decapsulation),
// a second MN configuration with the rogue client certificate, the
// RADIUS secret (0600) and the EAP-TLS files (keys 0600).
func WriteMSKDaemonFiles(dir string, creds *lab.Credentials, o MSKDaemonOptions) (MSKDaemonFiles, error) {
	o.DaemonOptions.setDefaults()
	if !o.RADIUS.IsValid() {
		o.RADIUS = DefaultMSKRADIUS
	}
	if o.Algorithm == "" {
		o.Algorithm = "HMAC-SHA256-128"
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	f := MSKDaemonFiles{Dir: dir, PAR: at(ConfigPARMSK), NAR: at(ConfigNARMSK), MN: at(ConfigMNMSK), MNRogue: at(ConfigMNMSKRogue),
		PARKeyStore: at("par-msk-keys.db"), NARKeyStore: at("nar-msk-keys.db"),
		Secret: at(MSKRADIUSSecret), ServerCert: at(MSKServerCert), ServerKey: at(MSKServerKey), CA: at(MSKCA)}
	if o.PKI == nil {
		return f, fmt.Errorf("scenario: MSK daemon files: no EAP-TLS PKI")
	}
	if err := mkdirPrivate(dir); err != nil {
		return f, err
	}
	p := o.PKI
	files := []struct {
		name string
		mode os.FileMode
		data []byte
	}{
		{MSKRADIUSSecret, 0o600, append(append([]byte(nil), o.Secret...), '\n')},
		{MSKCA, 0o644, p.CA.CertPEM},
		{MSKServerCert, 0o644, p.Server.CertPEM},
		{MSKServerKey, 0o600, p.Server.KeyPEM},
		{mskClientCert, 0o644, p.Client.CertPEM},
		{mskClientKey, 0o600, p.Client.KeyPEM},
		{mskRogueCert, 0o644, p.RogueClient.CertPEM},
		{mskRogueKey, 0o600, p.RogueClient.KeyPEM},
		{ConfigPARMSK, 0o644, []byte(mskARConfig(&creds.PAR, filepath.Base(f.PARKeyStore), o))},
		{ConfigNARMSK, 0o644, []byte(mskARConfig(&creds.NAR, filepath.Base(f.NARKeyStore), o))},
		{ConfigMNMSK, 0o644, []byte(mskMNConfig(creds, mskClientCert, mskClientKey, o))},
		{ConfigMNMSKRogue, 0o644, []byte(mskMNConfig(creds, mskRogueCert, mskRogueKey, o))},
	}
	for _, file := range files {
		if err := writeFileMode(at(file.name), file.data, file.mode); err != nil {
			return f, err
		}
	}
	return f, nil
}

// mskARConfig is the `fhkey ar` configuration of router r in the MSK mode.
func mskARConfig(r *lab.Router, store string, o MSKDaemonOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey ar for the testbed's %s in the MSK mode only (no SEND credentials).\n", strings.ToUpper(r.Name))
	fmt.Fprintf(&b, "interface = %q\naddress = %q\nprefixes = [%q]\n\n", testbed.IfaceAccess, r.CGA.Address.String(), r.Prefix.String())
	// The testbed's access link is a bridge whose group_fwd_mask passes
	// the PAE group address: EAPOL is read on the bridge (acc0).
	fmt.Fprintf(&b, "[eap]\ntimeout = \"1s\"\ntries = 2\nnas_identifier = %q\nalgorithms = [\"HMAC-SHA256-128\", \"HMAC-SHA1-96\"]\n", r.Name+".example.com")
	switch {
	case o.QuietPeriod < 0:
		fmt.Fprintf(&b, "quiet_period = \"0s\"\n")
	case o.QuietPeriod > 0:
		fmt.Fprintf(&b, "quiet_period = %q\n", durationString(o.QuietPeriod))
	}
	fmt.Fprintf(&b, "servers = [{ address = %q, secret_file = %q }]\n\n", o.RADIUS.String(), MSKRADIUSSecret)
	fmt.Fprintf(&b, "[forwarding]\nenabled = true\nlifetime = %q\ntun = %q\n\n", durationString(o.ForwardingLifetime), TUNForwarder)
	fmt.Fprintf(&b, "[key_store]\ntype = \"bolt\"\npath = %q\n\n", store)
	writeLogHTTP(&b, o.DaemonOptions)
	return b.String()
}

// mskMNConfig is the `fhkey mn` configuration in the MSK mode with the
// client certificate cert and key.
func mskMNConfig(creds *lab.Credentials, cert, key string, o MSKDaemonOptions) string {
	par, nar := creds.PAR.CGA.Address, creds.NAR.CGA.Address
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey mn for the testbed's MN in the MSK mode.\n")
	fmt.Fprintf(&b, "interface = %q\ncare_of = %q\n\n", testbed.IfaceMNToPAR, creds.MN.PCoA.Address.String())
	fmt.Fprintf(&b, "[eap]\nidentity = %q\ncertificate = %q\nkey = %q\nca = %q\nserver_name = %q\nalgorithm = %q\nrouter = %q\nnew_router = %q\n\n",
		lab.EAPNAI, cert, key, MSKCA, lab.EAPServerName, o.Algorithm, par.String(), nar.String())
	fmt.Fprintf(&b, "[handover]\nnew_care_of = %q\nnew_interface = %q\n\n", creds.MN.NCoA.Address.String(), testbed.IfaceMNToNAR)
	fmt.Fprintf(&b, "[decapsulation]\nenabled = true\ntun = %q\nallowed = [%q, %q]\n\n", TUNDecapsulator, par.String(), nar.String())
	writeLogHTTP(&b, o.DaemonOptions)
	return b.String()
}
