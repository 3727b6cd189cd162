package scenario

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
)

// Names of the daemon configurations WriteDaemonFiles writes.
const (
	ConfigPAR = "par.toml"
	ConfigNAR = "nar.toml"
	ConfigMN  = "mn.toml"
)

// DefaultDaemonHTTP is where each daemon on the testbed serves /metrics and
// /status: the loopback of its own namespace, so the three use one address.
const DefaultDaemonHTTP = "127.0.0.1:9750"

// Device names of the daemons' TUN devices on the testbed.
const (
	TUNForwarder    = "fhkfw0" // the PAR's forwarder
	TUNDecapsulator = "fhkdc0" // the MN's decapsulator
	TUNHomeAgent    = "fhkha0" // the HA's home link (TLS mode)
	TUNMobileNode   = "fhkmn0" // the RFC 6618 MN's home address (TLS mode)
)

// Link-layer addresses the PAR and NAR advertise for each other in PrRtAdv
// (RFC 5568 §6.1.2); the testbed's bridges do not check them.
var (
	accessPointPAR = "02:00:00:00:00:01"
	accessPointNAR = "02:00:00:00:00:02"
	routerLLAPAR   = "02:00:00:00:00:11"
	routerLLANAR   = "02:00:00:00:00:22"
)

// DaemonOptions select what WriteDaemonFiles puts in the configurations.
type DaemonOptions struct {
	// HTTP is the [http] listen address of every daemon, in its own
	// namespace; empty turns the endpoint off.
	HTTP string
	// ForwardingLifetime is the PAR's [forwarding] lifetime; zero means
	// 60 s, long enough to watch the redirected stream by hand.
	ForwardingLifetime time.Duration
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// LogLevel is "info" (default), "debug", "warn" or "error".
	LogLevel string
	// PreferredAlgorithm is the MN's preferred AT by name (RFC 5269
	// §3.1); empty means "HMAC-SHA256-128".
	PreferredAlgorithm string
}

// setDefaults fills in the documented defaults of the fields left zero.
func (o *DaemonOptions) setDefaults() {
	if o.ForwardingLifetime == 0 {
		o.ForwardingLifetime = time.Minute
	}
	if o.LogFormat == "" {
		o.LogFormat = "text"
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
}

// DaemonFiles are the configuration files written for the testbed.
type DaemonFiles struct {
	Dir          string
	PAR, NAR, MN string
	// PARKeyStore is the PAR's bbolt key store file (created by the
	// daemon).
	PARKeyStore string
}

// WriteDaemonFiles writes, in dir (created with mode 0700), the
// credentials of the lab set (keys 0600, CGAs as 'fhkey cga gen --json'
// writes them, certificates and the trust anchor in PEM) and the
// configurations of `fhkey ar` for the PAR and the NAR and of `fhkey mn`
// for the MN on the testbed (internal/testbed's interfaces and prefixes),
// so that the daemons run there as processes:
//
//	ip netns exec fhk-par fhkey ar -c DIR/par.toml
//
// Both routers forward through a TUN device, the PAR keeps its keys in a
// bbolt file in dir; the MN asks the PAR for a key on par0 and the NAR for
// one on nar0, sends its FBU each time it changes links, and decapsulates
// either router's tunnel. File names in
// the configurations are relative, so dir can be moved.
func WriteDaemonFiles(dir string, creds *lab.Credentials, o DaemonOptions) (DaemonFiles, error) {
	o.setDefaults()
	if o.PreferredAlgorithm == "" {
		o.PreferredAlgorithm = hokey.HMACSHA256Trunc128.String()
	}
	f := DaemonFiles{Dir: dir, PAR: filepath.Join(dir, ConfigPAR), NAR: filepath.Join(dir, ConfigNAR),
		MN: filepath.Join(dir, ConfigMN), PARKeyStore: filepath.Join(dir, "par-keys.db")}
	if err := mkdirPrivate(dir); err != nil {
		return f, err
	}
	files := []daemonFile{
		{"ta.pem", 0o644, func() ([]byte, error) { return certificatesPEM([][]byte{creds.AnchorDER}), nil }},
		{"mn.key", 0o600, func() ([]byte, error) { return privateKeyPEM(creds.MN.Key) }},
		{"mn-cga.json", 0o644, func() ([]byte, error) { return cgaJSON(creds.MN.PCoA) }},
		{"mn-cga-new.json", 0o644, func() ([]byte, error) { return cgaJSON(creds.MN.NCoA) }},
		{ConfigMN, 0o644, func() ([]byte, error) { return []byte(mnConfig(creds, o)), nil }},
	}
	for _, r := range []struct {
		r         *lab.Router
		neighbor  *lab.Router
		ap, lla   string
		persisted bool
	}{
		{&creds.PAR, &creds.NAR, accessPointNAR, routerLLANAR, true},
		{&creds.NAR, &creds.PAR, accessPointPAR, routerLLAPAR, false},
	} {
		name := r.r.Name
		files = append(files,
			daemonFile{name + ".key", 0o600, func() ([]byte, error) { return privateKeyPEM(r.r.Key) }},
			daemonFile{name + "-cga.json", 0o644, func() ([]byte, error) { return cgaJSON(r.r.CGA) }},
			daemonFile{name + "-cert.pem", 0o644, func() ([]byte, error) { return certificatesPEM(routerFirst(r.r.Path)), nil }},
			daemonFile{name + ".toml", 0o644, func() ([]byte, error) {
				return []byte(arConfig(r.r, r.neighbor, r.ap, r.lla, r.persisted, o)), nil
			}})
	}
	for _, file := range files {
		data, err := file.data()
		if err != nil {
			return f, fmt.Errorf("scenario: %s: %w", file.name, err)
		}
		if err := writeFileMode(filepath.Join(dir, file.name), data, file.mode); err != nil {
			return f, err
		}
	}
	return f, nil
}

// mkdirPrivate creates dir with mode 0700.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("scenario: daemon files: %w", err)
	}
	return nil
}

// daemonFile is one file WriteDaemonFiles writes.
type daemonFile struct {
	name string
	mode os.FileMode
	data func() ([]byte, error)
}

// writeFileMode writes data with exactly mode (an existing file's mode is
// changed too: the daemons refuse a key readable by others).
func writeFileMode(name string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(name, data, mode); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	if err := os.Chmod(name, mode); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}

// privateKeyPEM encodes k as a PKCS #8 "PRIVATE KEY" PEM block, the form
// 'fhkey keygen' writes and the daemons read.
func privateKeyPEM(k *rsa.PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, errors.New("no private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// cgaJSON is the object 'fhkey cga gen --json' writes, reduced to what the
// daemons read: the address and the CGA Parameters in hex.
func cgaJSON(a lab.CGA) ([]byte, error) {
	p, err := a.Parameters.Marshal()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(struct {
		Address string `json:"address"`
		Sec     uint8  `json:"sec"`
		Params  string `json:"params"`
	}{a.Address.String(), a.Sec, hex.EncodeToString(p)})
	return append(b, '\n'), err
}

func certificatesPEM(ders [][]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

// routerFirst turns a path in Certification Path Advertisement order (RFC
// 3971 §6.4.2: the router's certificate last) into the order of the
// daemons' certificates file (the router's certificate first).
func routerFirst(path [][]byte) [][]byte {
	out := make([][]byte, len(path))
	for i, c := range path {
		out[len(path)-1-i] = c
	}
	return out
}

// arConfig is the `fhkey ar` configuration of router r on the testbed: it
// forwards (either router can be the previous one: the MN moves back and
// forth), and keeps its keys in a bbolt file when persisted.
func arConfig(r, neighbor *lab.Router, ap, lla string, persisted bool, o DaemonOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey ar for the testbed's %s (written by 'fhkey testbed configs').\n", strings.ToUpper(r.Name))
	fmt.Fprintf(&b, "# Run: ip netns exec <prefix>%s fhkey ar -c %s.toml\n", r.Name, r.Name)
	fmt.Fprintf(&b, "interface = %q\n", testbed.IfaceAccess)
	fmt.Fprintf(&b, "key = %q\ncga = %q\ncertificates = %q\n", r.Name+".key", r.Name+"-cga.json", r.Name+"-cert.pem")
	fmt.Fprintf(&b, "trust_anchors = [\"ta.pem\"]\nprefixes = [%q]\n\n", r.Prefix.String())
	fmt.Fprintf(&b, "[handover_keys]\nalgorithms = [\"HMAC-SHA256-128\", \"HMAC-SHA1-96\"]\nlifetime = \"12h\"\n\n")
	fmt.Fprintf(&b, "[forwarding]\nenabled = true\nlifetime = %q\ntun = %q\n", durationString(o.ForwardingLifetime), TUNForwarder)
	fmt.Fprintf(&b, "\n[[neighbor]]\naccess_point = %q\nlink_layer_address = %q\naddress = %q\nprefix = %q\n\n",
		ap, lla, neighbor.CGA.Address.String(), neighbor.Prefix.String())
	if persisted {
		fmt.Fprintf(&b, "[key_store]\ntype = \"bolt\"\npath = %q\n\n", r.Name+"-keys.db")
	} else {
		fmt.Fprintf(&b, "[key_store]\ntype = \"memory\"\n\n")
	}
	writeLogHTTP(&b, o)
	return b.String()
}

// mnConfig is the `fhkey mn` configuration of the testbed's MN.
func mnConfig(creds *lab.Credentials, o DaemonOptions) string {
	par, nar := creds.PAR.CGA.Address, creds.NAR.CGA.Address
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey mn for the testbed's MN (written by 'fhkey testbed configs').\n")
	fmt.Fprintf(&b, "# Run: ip netns exec <prefix>mn fhkey mn -c mn.toml\n")
	fmt.Fprintf(&b, "interface = %q\nkey = \"mn.key\"\ncga = \"mn-cga.json\"\ntrust_anchors = [\"ta.pem\"]\n", testbed.IfaceMNToPAR)
	fmt.Fprintf(&b, "access_routers = [%q]\n\n", par.String())
	fmt.Fprintf(&b, "[handover_keys]\npreferred_algorithm = %q\n\n", o.PreferredAlgorithm)
	fmt.Fprintf(&b, "[handover]\nnew_cga = \"mn-cga-new.json\"\nnew_interface = %q\naccess_routers = [%q]\n\n", testbed.IfaceMNToNAR, nar.String())
	fmt.Fprintf(&b, "[decapsulation]\nenabled = true\ntun = %q\nallowed = [%q, %q]\n\n", TUNDecapsulator, par.String(), nar.String())
	writeLogHTTP(&b, o)
	return b.String()
}

func writeLogHTTP(b *strings.Builder, o DaemonOptions) {
	fmt.Fprintf(b, "[log]\nlevel = %q\nformat = %q\n\n[http]\nlisten = %q\n", o.LogLevel, o.LogFormat, o.HTTP)
}

// durationString formats d in whole seconds, as the configurations'
// duration strings ("60s").
func durationString(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
