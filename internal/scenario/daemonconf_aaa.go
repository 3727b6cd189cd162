package scenario

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
)

// Names of the shared-key mode configurations WriteAAADaemonFiles writes.
const (
	ConfigPARAAA = "par-aaa.toml"
	ConfigMNAAA  = "mn-aaa.toml"
	ConfigHKS    = "hks.toml"
)

// AAADaemonOptions select the shared-key mode configurations
// (docs/aaa.md): the PAR's RADIUS server (a proxy or the HKS) and the MN's
// subscription.
type AAADaemonOptions struct {
	DaemonOptions
	// RADIUS is the server the PAR sends Access-Requests to, in its
	// namespace, and Secret the secret it shares with it.
	RADIUS netip.AddrPort
	Secret []byte
	// NAI and HMK are the MN's subscription at the HKS.
	NAI string
	HMK []byte
	// HKS, if set, also writes the configuration of an `fhkey hks`
	// holding the MN's subscription.
	HKS *HKSDaemonOptions
	// KeyLifetime, if set, caps the PAR's handover keys
	// (handover_keys.lifetime, whole seconds); RefreshBefore, if set, is
	// the MN's handover_keys.refresh_before: short keys whose refresh a
	// test can watch.
	KeyLifetime, RefreshBefore time.Duration
}

// HKSDaemonOptions select the `fhkey hks` configuration of
// WriteAAADaemonFiles.
type HKSDaemonOptions struct {
	// Listen is its RADIUS address; Client the address or prefix of its
	// RADIUS client (the PAR or the proxy in front of it), sharing Secret.
	Listen netip.AddrPort
	Client netip.Prefix
	Secret []byte
	// HTTP serves its /metrics, /status and /readyz.
	HTTP string
}

// AAADaemonFiles are the shared-key mode configuration files.
type AAADaemonFiles struct {
	Dir, PAR, MN string
	// PARKeyStore is the PAR's bbolt key store file.
	PARKeyStore string
	// HKS is the `fhkey hks` configuration and HKSSubscribers its bbolt
	// subscriber store (AAADaemonOptions.HKS set; empty otherwise).
	HKS, HKSSubscribers string
}

// WriteAAADaemonFiles writes, in dir (mode 0700), the configurations of an
// AAA-only `fhkey ar` on the testbed's PAR (its address the PAR's lab CGA
// address, used as a plain address; forwarding; a bbolt key store) and of
// an `fhkey mn` in the shared-key mode (care-of addresses the MN's lab
// CGA addresses on its two links, keys from the PAR only, decapsulation),
// with the RADIUS secret and the HMK in 0600 files; with o.HKS, also an
// `fhkey hks` (hks.toml, its client's secret, a bbolt subscriber store with
// the MN's NAI and HMK).
func WriteAAADaemonFiles(dir string, creds *lab.Credentials, o AAADaemonOptions) (AAADaemonFiles, error) {
	o.DaemonOptions.setDefaults()
	f := AAADaemonFiles{Dir: dir, PAR: filepath.Join(dir, ConfigPARAAA), MN: filepath.Join(dir, ConfigMNAAA),
		PARKeyStore: filepath.Join(dir, "par-aaa-keys.db")}
	par, nar := creds.PAR.CGA.Address, creds.NAR.CGA.Address
	var ar strings.Builder
	fmt.Fprintf(&ar, "# fhkey ar for the testbed's PAR in the shared-key mode only (no SEND credentials).\n")
	fmt.Fprintf(&ar, "interface = %q\naddress = %q\nprefixes = [%q]\n\n", testbed.IfaceAccess, par.String(), creds.PAR.Prefix.String())
	fmt.Fprintf(&ar, "[aaa]\ntimeout = \"1s\"\ntries = 2\nmax_pending = 64\nhks_timeout = \"5s\"\n\n")
	fmt.Fprintf(&ar, "[[aaa.realms]]\nname = \"*\"\nservers = [{ address = %q, secret_file = \"radius.secret\" }]\n\n", o.RADIUS.String())
	fmt.Fprintf(&ar, "[forwarding]\nenabled = true\nlifetime = %q\ntun = %q\n\n", durationString(o.ForwardingLifetime), TUNForwarder)
	fmt.Fprintf(&ar, "[key_store]\ntype = \"bolt\"\npath = %q\n\n", filepath.Base(f.PARKeyStore))
	if o.KeyLifetime > 0 {
		fmt.Fprintf(&ar, "[handover_keys]\nlifetime = %q\n\n", durationString(o.KeyLifetime))
	}
	writeLogHTTP(&ar, o.DaemonOptions)

	var mn strings.Builder
	fmt.Fprintf(&mn, "# fhkey mn for the testbed's MN in the shared-key mode.\n")
	fmt.Fprintf(&mn, "interface = %q\ncare_of = %q\n\n", testbed.IfaceMNToPAR, creds.MN.PCoA.Address.String())
	fmt.Fprintf(&mn, "[aaa]\nnai = %q\nhmk_file = \"mn.hmk\"\nprf = \"HMAC-SHA256\"\nmac = 2\nrouters = [%q]\n\n", o.NAI, par.String())
	fmt.Fprintf(&mn, "[handover]\nnew_care_of = %q\nnew_interface = %q\n\n", creds.MN.NCoA.Address.String(), testbed.IfaceMNToNAR)
	fmt.Fprintf(&mn, "[decapsulation]\nenabled = true\ntun = %q\nallowed = [%q, %q]\n\n", TUNDecapsulator, par.String(), nar.String())
	if o.RefreshBefore > 0 {
		fmt.Fprintf(&mn, "[handover_keys]\nrefresh_before = %q\n\n", durationString(o.RefreshBefore))
	}
	writeLogHTTP(&mn, o.DaemonOptions)

	if err := mkdirPrivate(dir); err != nil {
		return f, err
	}
	for _, file := range []struct {
		name string
		mode os.FileMode
		data string
	}{
		{"radius.secret", 0o600, string(o.Secret) + "\n"},
		{"mn.hmk", 0o600, hex.EncodeToString(o.HMK) + "\n"},
		{ConfigPARAAA, 0o644, ar.String()},
		{ConfigMNAAA, 0o644, mn.String()},
	} {
		if err := writeFileMode(filepath.Join(dir, file.name), []byte(file.data), file.mode); err != nil {
			return f, err
		}
	}
	if o.HKS != nil {
		return f, writeHKSFiles(&f, o)
	}
	return f, nil
}

// writeHKSFiles writes hks.toml, its client's secret file (0600) and its
// bbolt subscriber store with the MN's subscription, replaced if there.
func writeHKSFiles(f *AAADaemonFiles, o AAADaemonOptions) error {
	h := o.HKS
	f.HKS, f.HKSSubscribers = filepath.Join(f.Dir, ConfigHKS), filepath.Join(f.Dir, "hks-subscribers.db")
	var b strings.Builder
	fmt.Fprintf(&b, "# fhkey hks for the testbed: the MN's subscription, one RADIUS client.\n")
	fmt.Fprintf(&b, "listen = %q\n\n[[client]]\naddress = %q\nsecret_file = \"hks-client.secret\"\n\n", h.Listen.String(), h.Client.String())
	fmt.Fprintf(&b, "[subscribers]\nstore = \"bolt\"\npath = %q\n\n", filepath.Base(f.HKSSubscribers))
	writeLogHTTP(&b, DaemonOptions{LogLevel: o.LogLevel, LogFormat: o.LogFormat, HTTP: h.HTTP})
	if err := writeFileMode(filepath.Join(f.Dir, "hks-client.secret"), append(append([]byte(nil), h.Secret...), '\n'), 0o600); err != nil {
		return err
	}
	if err := writeFileMode(f.HKS, []byte(b.String()), 0o644); err != nil {
		return err
	}
	store, err := subscribers.OpenBolt(f.HKSSubscribers, 0)
	if err != nil {
		return err
	}
	sub := subscribers.Subscriber{NAI: o.NAI, HMK: append([]byte(nil), o.HMK...), Enabled: true}
	err = store.Put(context.Background(), &sub)
	sub.Zero()
	return errors.Join(err, store.Close())
}
