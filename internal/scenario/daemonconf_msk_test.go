package scenario

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/lab"
)

// TestWriteMSKDaemonFiles: the PAR, NAR and both MN configurations pass
// the daemons' --check with the files written (secret and keys 0600), and
// name the routers, the EAP server and the certificates as documented.
func TestWriteMSKDaemonFiles(t *testing.T) {
	c := labCredentials(t)
	pki, err := lab.NewEAPPKI()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "msk")
	f, err := WriteMSKDaemonFiles(dir, c, MSKDaemonOptions{DaemonOptions: DaemonOptions{HTTP: DefaultDaemonHTTP},
		Secret: []byte("s3cret"), PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{f.PAR, f.NAR} {
		if err := config.CheckAR(file, time.Now()); err != nil {
			t.Errorf("CheckAR(%s): %v", file, err)
		}
	}
	for _, file := range []string{f.MN, f.MNRogue} {
		if err := config.CheckMN(file); err != nil {
			t.Errorf("CheckMN(%s): %v", file, err)
		}
	}
	par, err := config.LoadAR(f.PAR)
	if err != nil {
		t.Fatal(err)
	}
	nar, err := config.LoadAR(f.NAR)
	if err != nil {
		t.Fatal(err)
	}
	mn, err := config.LoadMN(f.MN)
	if err != nil {
		t.Fatal(err)
	}
	if par.SENDEnabled() || par.EAP == nil || par.Address != c.PAR.CGA.Address || par.KeyStore.Path != f.PARKeyStore ||
		len(par.EAP.Servers) != 1 || par.EAP.Servers[0].Address != DefaultMSKRADIUS || par.EAP.Servers[0].SecretFile != f.Secret {
		t.Errorf("PAR %+v [eap] %+v", par, par.EAP)
	}
	if nar.Address != c.NAR.CGA.Address || nar.KeyStore.Path != f.NARKeyStore || !MSKRADIUSClients.Contains(nar.EAP.Servers[0].Address.Addr()) {
		t.Errorf("NAR %+v", nar)
	}
	if e := mn.EAP; e == nil || e.Identity != lab.EAPNAI || e.Router != c.PAR.CGA.Address || e.NewRouter != c.NAR.CGA.Address ||
		e.CAFile != f.CA || mn.CareOf != c.MN.PCoA.Address || mn.Handover.NewCareOf != c.MN.NCoA.Address {
		t.Errorf("MN %+v [eap] %+v", mn, mn.EAP)
	}
}

// TestWriteMSKDaemonFilesQuietPeriod: MSKDaemonOptions.QuietPeriod
// reaches both routers' eap.quiet_period; negative writes "0s" (none);
// zero leaves the default.
func TestWriteMSKDaemonFilesQuietPeriod(t *testing.T) {
	c := labCredentials(t)
	pki, err := lab.NewEAPPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ set, want time.Duration }{{0, config.DefaultEAPQuietPeriod}, {6 * time.Second, 6 * time.Second}, {-1, 0}} {
		f, err := WriteMSKDaemonFiles(filepath.Join(t.TempDir(), "msk"), c, MSKDaemonOptions{DaemonOptions: DaemonOptions{HTTP: DefaultDaemonHTTP},
			Secret: []byte("s3cret"), PKI: pki, QuietPeriod: tc.set})
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range []string{f.PAR, f.NAR} {
			cfg, err := config.LoadAR(file)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.EAP.QuietPeriod != tc.want {
				t.Errorf("QuietPeriod %v: %s has quiet_period %v, want %v", tc.set, file, cfg.EAP.QuietPeriod, tc.want)
			}
		}
	}
}
