package scenario

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testbed"
)

func labCredentials(t *testing.T) *lab.Credentials {
	t.Helper()
	dir, err := lab.DefaultDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), "fhkey-scenario-lab")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := lab.Load(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWriteDaemonFiles: the written configurations pass the daemons' own
// validation (config.CheckAR, CheckMN: strict keys, file permissions,
// certificates), load the lab's credentials, and say what the testbed
// needs; writing twice gives the same files.
func TestWriteDaemonFiles(t *testing.T) {
	c := labCredentials(t)
	dir := filepath.Join(t.TempDir(), "daemons")
	f, err := WriteDaemonFiles(dir, c, DaemonOptions{HTTP: DefaultDaemonHTTP, ForwardingLifetime: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, file := range []string{f.PAR, f.NAR} {
		if err := config.CheckAR(file, now); err != nil {
			t.Fatalf("CheckAR %s: %v", file, err)
		}
	}
	if err := config.CheckMN(f.MN); err != nil {
		t.Fatalf("CheckMN: %v", err)
	}
	for _, tc := range []struct {
		file      string
		router    lab.Router
		neighbor  lab.Router
		persisted bool
	}{{f.PAR, c.PAR, c.NAR, true}, {f.NAR, c.NAR, c.PAR, false}} {
		cfg, err := config.LoadAR(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := cfg.Open(now)
		if err != nil {
			t.Fatal(err)
		}
		if cr.CGA.Address != tc.router.CGA.Address || !cr.Key.Equal(tc.router.Key) {
			t.Errorf("%s: CGA %v, want %v", tc.file, cr.CGA.Address, tc.router.CGA.Address)
		}
		if cfg.Interface != testbed.IfaceAccess || !cfg.Forwarding.Enabled || cfg.Forwarding.TUN != TUNForwarder || cfg.Forwarding.Lifetime != 30*time.Second ||
			cfg.HTTP.Listen.String() != DefaultDaemonHTTP || !slices.Equal(cfg.Prefixes, []netip.Prefix{tc.router.Prefix}) {
			t.Errorf("%s: %+v", tc.file, cfg)
		}
		if len(cfg.Neighbors) != 1 || cfg.Neighbors[0].Address != tc.neighbor.CGA.Address || cfg.Neighbors[0].Prefix != tc.neighbor.Prefix {
			t.Errorf("%s: neighbors %+v", tc.file, cfg.Neighbors)
		}
		if tc.persisted != (cfg.KeyStore.Type == config.KeyStoreBolt) || tc.persisted && cfg.KeyStore.Path != f.PARKeyStore {
			t.Errorf("%s: key store %+v", tc.file, cfg.KeyStore)
		}
	}
	mcfg, err := config.LoadMN(f.MN)
	if err != nil {
		t.Fatal(err)
	}
	mcr, err := mcfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	if mcr.CGA.Address != c.MN.PCoA.Address || mcr.NewCGA == nil || mcr.NewCGA.Address != c.MN.NCoA.Address {
		t.Errorf("MN CGAs %v, %v", mcr.CGA, mcr.NewCGA)
	}
	if mcfg.Interface != testbed.IfaceMNToPAR || mcfg.Handover.NewInterface != testbed.IfaceMNToNAR ||
		!slices.Equal(mcfg.AccessRouters, []netip.Addr{c.PAR.CGA.Address}) || !mcfg.Decapsulation.Enabled ||
		!slices.Equal(mcfg.Handover.AccessRouters, []netip.Addr{c.NAR.CGA.Address}) ||
		!slices.Equal(mcfg.Decapsulation.Allowed, []netip.Addr{c.PAR.CGA.Address, c.NAR.CGA.Address}) {
		t.Errorf("MN config %+v", mcfg)
	}
	for _, key := range []string{"par.key", "nar.key", "mn.key"} {
		fi, err := os.Stat(filepath.Join(dir, key))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", key, fi.Mode(), err)
		}
	}
	before, err := os.ReadFile(f.PAR)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDaemonFiles(dir, c, DaemonOptions{HTTP: DefaultDaemonHTTP, ForwardingLifetime: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(f.PAR); !bytes.Equal(before, after) {
		t.Error("writing again changed par.toml")
	}
}

// TestWriteAAADaemonFiles: the shared-key mode configurations pass the
// daemons' validation with their secret files (0600).
func TestWriteAAADaemonFiles(t *testing.T) {
	c := labCredentials(t)
	dir := filepath.Join(t.TempDir(), "aaa")
	f, err := WriteAAADaemonFiles(dir, c, AAADaemonOptions{DaemonOptions: DaemonOptions{HTTP: DefaultDaemonHTTP},
		RADIUS: netip.MustParseAddrPort("127.0.0.1:1812"), Secret: []byte("s3cret"), NAI: "mn@example.com", HMK: bytes.Repeat([]byte{7}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	if err := config.CheckAR(f.PAR, time.Now()); err != nil {
		t.Errorf("CheckAR: %v", err)
	}
	if err := config.CheckMN(f.MN); err != nil {
		t.Errorf("CheckMN: %v", err)
	}
	ar, err := config.LoadAR(f.PAR)
	if err != nil {
		t.Fatal(err)
	}
	mn, err := config.LoadMN(f.MN)
	if err != nil {
		t.Fatal(err)
	}
	if ar.SENDEnabled() || ar.Address != c.PAR.CGA.Address || mn.CareOf != c.MN.PCoA.Address || mn.Handover.NewCareOf != c.MN.NCoA.Address ||
		!slices.Equal(mn.AAA.Routers, []netip.Addr{c.PAR.CGA.Address}) || ar.KeyStore.Path != f.PARKeyStore {
		t.Errorf("PAR %+v, MN %+v", ar, mn)
	}
}

// TestWriteAAADaemonFilesHKS: with an HKS, its configuration passes the
// daemon's validation and its store holds the MN's subscription.
func TestWriteAAADaemonFilesHKS(t *testing.T) {
	c := labCredentials(t)
	dir := filepath.Join(t.TempDir(), "aaa")
	hmk := bytes.Repeat([]byte{7}, 64)
	o := AAADaemonOptions{DaemonOptions: DaemonOptions{HTTP: DefaultDaemonHTTP}, RADIUS: netip.MustParseAddrPort("127.0.0.1:18121"),
		Secret: []byte("s3cret"), NAI: "mn@example.com", HMK: hmk,
		HKS: &HKSDaemonOptions{Listen: netip.MustParseAddrPort("127.0.0.1:18120"), Client: netip.MustParsePrefix("127.0.0.1/32"),
			Secret: []byte("proxy-s3cret"), HTTP: "127.0.0.1:9751"}}
	for range 2 { // writing again replaces the subscriber
		f, err := WriteAAADaemonFiles(dir, c, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := config.CheckHKS(f.HKS); err != nil {
			t.Fatalf("CheckHKS: %v", err)
		}
		cfg, err := config.LoadHKS(f.HKS)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Listen != o.HKS.Listen || len(cfg.Clients) != 1 || cfg.Clients[0].Prefix != o.HKS.Client || cfg.Subscribers.Path != f.HKSSubscribers ||
			cfg.HTTP.Listen.String() != o.HKS.HTTP {
			t.Errorf("HKS config %+v", cfg)
		}
		if secret, err := config.LoadSecret(cfg.Clients[0].SecretFile); err != nil || string(secret) != "proxy-s3cret" {
			t.Errorf("client secret %q, %v", secret, err)
		}
		store, err := subscribers.OpenBolt(f.HKSSubscribers, 0)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := store.Get(context.Background(), o.NAI)
		store.Close()
		if err != nil || !bytes.Equal(sub.HMK, hmk) || !sub.Enabled {
			t.Errorf("subscriber %v: %v", sub, err)
		}
	}
}
