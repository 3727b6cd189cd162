package scenario

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/mip6tls"
)

// TestWriteTLSDaemonFiles: the HAC, HA and both MN configurations pass
// the daemons' --check with the files written (secrets and keys 0600),
// name the testbed's home network, and the subscriber file holds the MN
// with the same PSK as the MN's file.
func TestWriteTLSDaemonFiles(t *testing.T) {
	pki, err := lab.NewEAPPKI()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := WriteTLSDaemonFiles(ctx, filepath.Join(t.TempDir(), "tls"), TLSDaemonOptions{
		DaemonOptions: DaemonOptions{HTTP: DefaultDaemonHTTP}, Secret: []byte("s3cret"), PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	if err := config.CheckHAC(f.HAC); err != nil {
		t.Errorf("CheckHAC: %v", err)
	}
	if err := config.CheckHA(f.HA); err != nil {
		t.Errorf("CheckHA: %v", err)
	}
	for _, file := range []string{f.MIP6PSK, f.MIP6EAP} {
		if err := config.CheckMIP6(file); err != nil {
			t.Errorf("CheckMIP6(%s): %v", file, err)
		}
	}
	hacCfg, err := config.LoadHAC(f.HAC)
	if err != nil {
		t.Fatal(err)
	}
	if hacCfg.SubscribersPath != f.Subscribers || len(hacCfg.RADIUS) != 1 || hacCfg.Listen.Addr() != testbed.AddrHAC {
		t.Errorf("HAC %+v", hacCfg)
	}
	haCfg, err := config.LoadHA(f.HA)
	if err != nil {
		t.Fatal(err)
	}
	if haCfg.HomePrefix != testbed.PrefixHome || haCfg.StateFile != f.HAState || haCfg.TUN != TUNHomeAgent {
		t.Errorf("HA %+v", haCfg)
	}
	mn, err := config.LoadMIP6(f.MIP6PSK)
	if err != nil {
		t.Fatal(err)
	}
	eap, err := config.LoadMIP6(f.MIP6EAP)
	if err != nil {
		t.Fatal(err)
	}
	if len(mn.Interfaces) != 2 || mn.MIP6TLS.Method != config.MIP6MethodPSK || eap.MIP6TLS.Method != config.MIP6MethodEAP ||
		mn.MIP6TLS.Identity != lab.EAPNAI || mn.MIP6TLS.ServerName != HACServerName {
		t.Errorf("MN %+v, EAP MN %+v", mn, eap)
	}
	psk, err := config.LoadSecret(mn.MIP6TLS.PSKFile)
	if err != nil {
		t.Fatal(err)
	}
	store, err := hac.OpenBolt(f.Subscribers, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sub, err := store.Get(ctx, lab.EAPNAI)
	if err != nil {
		t.Fatal(err)
	}
	if string(sub.PSK) != string(psk) || sub.HomeAddress != testbed.AddrMNHome || !sub.Allows(mip6tls.AuthMethodEAP) {
		t.Errorf("subscriber %v", sub)
	}
	for _, name := range []string{f.Secret, f.ServerKey, mn.MIP6TLS.PSKFile, f.Subscribers} {
		if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
	}
}
