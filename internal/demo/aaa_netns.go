package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/examples"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/radius/freeradius"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/mh"
)

// The AAA testbed's loopback endpoints in the PAR's namespace.
var (
	aaaNetnsHKS   = netip.MustParseAddrPort("127.0.0.1:18120") // fhkey hks (RADIUS)
	aaaNetnsProxy = netip.MustParseAddrPort("127.0.0.1:18121") // FreeRADIUS
)

// aaaNetnsHKSHTTP is the HKS daemon's /metrics, beside the PAR daemon's
// scenario.DefaultDaemonHTTP.
const aaaNetnsHKSHTTP = "127.0.0.1:9751"

// AAANetnsOutcome is what the exit status of `fhkey demo --mode aaa
// --netns` depends on.
type AAANetnsOutcome struct {
	// KeyProvisioned: the MN daemon's /status shows a key from the PAR for
	// the PCoA with an SPI ≥ hokey.FirstAAASPI, the HKS issued one.
	KeyProvisioned bool `json:"key_provisioned"`
	HandoverOutcome
	// ForgedRejected: both forgeries failed: the forged FBU
	// (ForgedFBURejected, BindingUnchanged) and the HKReq with a guessed
	// HMK (ForgedHKReqDropped: discarded by the HKS, the MN's key kept).
	ForgedRejected     bool `json:"forged_rejected"`
	ForgedHKReqDropped bool `json:"forged_hkreq_dropped"`
}

// AAANetnsSummary is the outcome of RunAAANetns (--json).
type AAANetnsSummary struct {
	OK        bool               `json:"ok"`
	Mode      string             `json:"mode"`
	Outcome   AAANetnsOutcome    `json:"outcome"`
	Steps     []Step             `json:"steps"`
	Packets   NetnsCounts        `json:"packets"`
	Metrics   map[string]float64 `json:"metrics"`
	Addresses map[string]string  `json:"addresses"`
	Testbed   string             `json:"testbed"`
	Kept      bool               `json:"kept"`
	CacheDir  string             `json:"cache_dir"`
	Error     string             `json:"error,omitempty"`
}

// RunAAANetns plays the shared-key walk-through (docs/aaa.md, "The demo")
// on the testbed (root) with every daemon a process: `fhkey hks` and
// FreeRADIUS as its realm proxy in the PAR's namespace, an AAA-only
// `fhkey ar` on the PAR and `fhkey mn` in the shared-key mode on the MN.
// The summary is OK only if every expected outcome was reached; an error
// is a failure to run at all (also recorded in the summary).
func (d *Demo) RunAAANetns(ctx context.Context, o NetnsOptions) (AAANetnsSummary, error) {
	sum := AAANetnsSummary{Mode: "aaa", Testbed: o.Prefix, Kept: o.Keep, CacheDir: o.CacheDir, Addresses: map[string]string{}, Metrics: map[string]float64{}}
	d.width = len("forged HKReq")
	runErr := d.runAAANetns(ctx, o, &sum)
	sum.Steps = d.sum.Steps
	oc := &sum.Outcome
	oc.ForgedRejected = oc.ForgedFBURejected && oc.BindingUnchanged && oc.ForgedHKReqDropped
	sum.OK, sum.Error = settleNetns(runErr, oc.KeyProvisioned && oc.FBUAccepted && oc.StreamRedirected && oc.ForgedRejected && oc.AttackerGotNothing)
	return sum, runErr
}

// aaaNetnsRun is one run's daemons and what the steps share.
type aaaNetnsRun struct {
	daemonPair
	set               *daemonSet
	hks               *scenario.Daemon
	prf               hokey.PRF
	mac               hokey.MACAlgorithm
	stopFreeRADIUS    func() error
	freeRADIUSStopped bool
}

func (d *Demo) runAAANetns(ctx context.Context, o NetnsOptions, sum *AAANetnsSummary) (err error) {
	creds, tb, down, err := d.netnsSetup(ctx, o, "fhkey demo --mode aaa --netns: draft-vidya-mipshop-handover-keys-aaa-04 handover keys from fhkey hks through\nFreeRADIUS, RFC 5568 fast handover, every daemon a process in network namespaces", sum.Addresses)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, down()) }()
	set, err := newDaemonSet(ctx, tb, "fhkey-demo-aaa-")
	if err != nil {
		return err
	}
	defer set.close()
	dir := set.dir
	r := &aaaNetnsRun{set: set, prf: hokey.PRFHMACSHA256, mac: hokey.MACHMACSHA256,
		daemonPair: daemonPair{parAddr: creds.PAR.CGA.Address, pcoa: creds.MN.PCoA.Address, ncoa: creds.MN.NCoA.Address}}
	defer func() { // FreeRADIUS, if started, also when a later daemon fails
		if r.stopFreeRADIUS != nil && !r.freeRADIUSStopped {
			err = errors.Join(err, r.stopFreeRADIUS())
		}
	}()
	if err := d.startAAADaemons(ctx, tb, creds, dir, r, sum); err != nil {
		return err
	}
	for k, v := range map[string]string{"HKS": aaaNetnsHKS.String() + " (PAR namespace)", "FreeRADIUS": aaaNetnsProxy.String() + " (PAR namespace)"} {
		sum.Addresses[k] = v
	}

	// The MN daemon's key, through the PAR, FreeRADIUS and the HKS.
	start := time.Now()
	var spi uint32
	sum.Outcome.KeyProvisioned = waitMN(r.mobile, &r.ms, func() bool {
		return hasKey(&r.ms, r.parAddr, r.pcoa, func(k node.MNKey) bool { spi = k.SPI; return k.SPI >= hokey.FirstAAASPI })
	})
	accepts, _ := r.par.Metric(`fhkey_radius_client_replies_total{code="accept"}`)
	issued, _ := r.hks.Metric("fhkey_hks_keys_issued_total")
	sum.Outcome.KeyProvisioned = sum.Outcome.KeyProvisioned && issued == 1
	d.step("key", time.Since(start), sum.Outcome.KeyProvisioned, "MN daemon -> PAR: HKReq (MN-HKS MAC) over %s; PAR -> FreeRADIUS -> HKS: Access-Request;\nHKS: MAC valid, HK derived (HKS keys issued %v); Access-Accept back (PAR accepts %v);\nPAR -> MN: HKResp (MN-AR MAC); MN daemon /status: key SPI %d (time since the MN daemon was ready)",
		testbed.IfaceMNToPAR, issued, accepts, spi)
	if !sum.Outcome.KeyProvisioned {
		return nil
	}
	if sum.Outcome.ForgedHKReqDropped, err = d.daemonForgedHKReq(ctx, tb, r, spi); err != nil {
		return err
	}

	forged, err := forgeFBU(r.parAddr, r.pcoa, testbed.AddrAttacker, hokey.HMACSHA256Trunc128, spi)
	if err != nil {
		return err
	}
	if err := d.daemonFastHandover(ctx, tb, o, &r.daemonPair, forged, fmt.Sprintf("BADF with the key's SPI %d and a guessed key", spi), &sum.Outcome.HandoverOutcome, &sum.Packets); err != nil || !sum.Outcome.FBUAccepted {
		return err
	}
	d.aaaNetnsMetrics(r, sum)
	if err := d.stopDaemons(set); err != nil {
		return err
	}
	start = time.Now()
	r.freeRADIUSStopped = true
	err = r.stopFreeRADIUS()
	d.step("proxy stop", time.Since(start), err == nil, "FreeRADIUS stopped by its PID")
	return err
}

// startAAADaemons writes the configurations in dir and starts the HKS,
// FreeRADIUS, the PAR and the MN, one step each.
func (d *Demo) startAAADaemons(ctx context.Context, tb *testbed.Testbed, creds *lab.Credentials, dir string, r *aaaNetnsRun, sum *AAANetnsSummary) error {
	start := time.Now()
	hmk := make([]byte, hokey.MinHMKLen)
	defer clear(hmk)
	arSecret, hksSecret := make([]byte, 16), make([]byte, 16)
	for _, b := range [][]byte{hmk, arSecret, hksSecret} {
		if _, err := rand.Read(b); err != nil {
			return err
		}
	}
	// Printable secrets, as FreeRADIUS's configuration wants them.
	arHex, hksHex := []byte(hex.EncodeToString(arSecret)), []byte(hex.EncodeToString(hksSecret))
	loopback := netip.MustParseAddr("127.0.0.1")
	files, err := scenario.WriteAAADaemonFiles(filepath.Join(dir, "daemons"), creds, scenario.AAADaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, ForwardingLifetime: time.Minute},
		RADIUS:        aaaNetnsProxy, Secret: arHex, NAI: DemoNAI, HMK: hmk,
		HKS: &scenario.HKSDaemonOptions{Listen: aaaNetnsHKS, Client: netip.PrefixFrom(loopback, 32), Secret: hksHex, HTTP: aaaNetnsHKSHTTP}})
	if err != nil {
		return err
	}
	d.step("configs", time.Since(start), true, "in %s: %s, %s, %s;\nsubscriber %s with a %d-octet HMK drawn for this run in the HKS's bbolt store (and the MN's hmk file)",
		files.Dir, scenario.ConfigHKS, scenario.ConfigPARAAA, scenario.ConfigMNAAA, DemoNAI, len(hmk))

	start = time.Now()
	if r.hks, err = r.set.start(testbed.PAR, "HKS", aaaNetnsHKSHTTP, "hks", "-c", files.HKS); err != nil {
		return err
	}
	d.step("HKS", time.Since(start), true, "ip netns exec %s fhkey hks -c %s (pid %d): RADIUS on %s, client 127.0.0.1",
		tb.Namespace(testbed.PAR), scenario.ConfigHKS, r.hks.Pid(), aaaNetnsHKS)

	start = time.Now()
	frDir := filepath.Join(dir, "freeradius")
	if err := os.Mkdir(frDir, 0o700); err != nil {
		return err
	}
	if err := examples.WriteFreeRADIUS(filepath.Join(dir, "examples")); err != nil {
		return err
	}
	fr, err := freeradius.Start(ctx, freeradius.Config{Dir: frDir, Examples: filepath.Join(dir, "examples"), Listen: aaaNetnsProxy,
		Client: loopback, ClientSecret: arHex, HKS: aaaNetnsHKS, HKSSecret: hksHex,
		Command: []string{"ip", "netns", "exec", tb.Namespace(testbed.PAR)}})
	if err != nil {
		return fmt.Errorf("demo: FreeRADIUS: %w", err)
	}
	r.stopFreeRADIUS = fr.Stop
	d.step("FreeRADIUS", time.Since(start), true, "ip netns exec %s freeradius -f -X (pid %d): realm proxy on %s,\nrealm example.com -> the HKS (examples/freeradius/proxy.conf)", tb.Namespace(testbed.PAR), fr.Pid(), aaaNetnsProxy)

	start = time.Now()
	if r.par, err = r.set.start(testbed.PAR, "PAR", scenario.DefaultDaemonHTTP, "ar", "-c", files.PAR); err != nil {
		return err
	}
	d.step("PAR", time.Since(start), true, "ip netns exec %s fhkey ar -c %s (pid %d): AAA only, RADIUS client of FreeRADIUS,\nbbolt key store, forwarder", tb.Namespace(testbed.PAR), scenario.ConfigPARAAA, r.par.Pid())
	start = time.Now()
	if r.mobile, err = r.set.start(testbed.MN, "MN", scenario.DefaultDaemonHTTP, "mn", "-c", files.MN); err != nil {
		return err
	}
	d.step("MN", time.Since(start), true, "ip netns exec %s fhkey mn -c %s (pid %d): NAI %s, %v, %v, decapsulator",
		tb.Namespace(testbed.MN), scenario.ConfigMNAAA, r.mobile.Pid(), DemoNAI, r.prf, r.mac)
	return nil
}

// daemonForgedHKReq sends, over the PAR's link from the MN's address, an HKReq
// for the MN's NAI with an MN-HKS MAC made with a guessed HMK: the HKS
// must discard it (its bad_mac counter) and the MN keep its key (spi).
func (d *Demo) daemonForgedHKReq(ctx context.Context, tb *testbed.Testbed, r *aaaNetnsRun, spi uint32) (bool, error) {
	start := time.Now()
	forger, err := mn.New(mn.Config{AAA: &mn.AAAConfig{NAI: DemoNAI, HMK: bytes.Repeat([]byte{0x5a}, hokey.MinHMKLen), PRF: r.prf, MAC: r.mac}})
	if err != nil {
		return false, err
	}
	forged, err := forger.HandoverKeyRequest(r.parAddr, r.pcoa, r.pcoa, false)
	if err != nil {
		return false, err
	}
	var conn *netio.MHConn
	if err := tb.Do(testbed.MN, func() error {
		var err error
		conn, err = netio.ListenMH(netio.MHConfig{Types: []uint8{mh.DefaultHandoverKeyResponseType}})
		return err
	}); err != nil {
		return false, err
	}
	defer conn.Close()
	if err := conn.WritePacket(ctx, forged); err != nil {
		return false, err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	const badMAC = `fhkey_hks_discarded_total{reason="bad_mac"}`
	werr := r.hks.WaitMetric(wctx, badMAC, 1)
	discarded, _ := r.hks.Metric(badMAC)
	issued, _ := r.hks.Metric("fhkey_hks_keys_issued_total")
	kept := r.mobile.Status(&r.ms) == nil && len(r.ms.Keys) == 1 && r.ms.Keys[0].SPI == spi
	ok := werr == nil && discarded == 1 && issued == 1 && kept
	d.step("forged HKReq", time.Since(start), ok, "HKReq for %s from the PCoA, MN-HKS MAC with a guessed HMK -> PAR -> FreeRADIUS -> HKS;\nHKS /metrics: discarded bad_mac %v, keys issued still %v; MN daemon's key unchanged: %v",
		DemoNAI, discarded, issued, kept)
	return ok, nil
}

// aaaNetnsMetrics records the daemons' counters.
func (d *Demo) aaaNetnsMetrics(r *aaaNetnsRun, sum *AAANetnsSummary) {
	recordMetrics(sum.Metrics,
		daemonSeries{r.hks, []string{"fhkey_hks_requests_total", "fhkey_hks_keys_issued_total", `fhkey_hks_discarded_total{reason="bad_mac"}`}},
		daemonSeries{r.par, []string{`fhkey_ar_hkreq_answered_total{kind="key"}`, `fhkey_radius_client_replies_total{code="accept"}`, "fhkey_ar_fbu_accepted_total",
			`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`}})
}
