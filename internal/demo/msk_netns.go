package demo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// MSKNetnsOutcome is what the exit status of `fhkey demo --mode msk`
// depends on.
type MSKNetnsOutcome struct {
	// KeyProvisioned: the MN daemon authenticated with EAP-TLS at the
	// PAR, whose /status holds an MSK for the NAI.
	KeyProvisioned bool `json:"key_provisioned"`
	HandoverOutcome
	// ForgedRejected: both forgeries failed: the FBU with the MN's NAI
	// and another MSK (ForgedFBURejected, BindingUnchanged) and the FBU
	// with an NAI the PAR has no MSK for (UnknownNAIRejected).
	ForgedRejected     bool `json:"forged_rejected"`
	UnknownNAIRejected bool `json:"unknown_nai_rejected"`
}

// MSKNetnsSummary is the outcome of RunMSKNetns (--json).
type MSKNetnsSummary struct {
	OK        bool               `json:"ok"`
	Mode      string             `json:"mode"`
	Outcome   MSKNetnsOutcome    `json:"outcome"`
	Steps     []Step             `json:"steps"`
	Packets   NetnsCounts        `json:"packets"`
	Metrics   map[string]float64 `json:"metrics"`
	Addresses map[string]string  `json:"addresses"`
	// Pcap is the capture file (--pcap) and PcapFrames its frames.
	Pcap       string `json:"pcap,omitempty"`
	PcapFrames int    `json:"pcap_frames,omitempty"`
	// Keys is the --show-keys file; with it, ShownMSK puts the same msk,
	// nai, par and at at the top level (absent without --show-keys).
	Keys string `json:"keys,omitempty"`
	*ShownMSK
	Testbed  string `json:"testbed"`
	Kept     bool   `json:"kept"`
	CacheDir string `json:"cache_dir"`
	Error    string `json:"error,omitempty"`
}

// MSKNetnsFiles are the optional outputs of RunMSKNetns.
type MSKNetnsFiles struct {
	// Pcap, if set, receives the EAPOL, RADIUS and Mobility Header
	// frames of the run (Ethernet link type).
	Pcap string
	// Keys, if set, receives the MSK the PAR held for the NAI, with the
	// NAI, the PAR address and the AT (lab keys only; mode 0600).
	Keys string
}

// unknownNAI is the NAI of the second forgery: one the PAR has no MSK for.
const unknownNAI = "eve@example.com"

// mskNetnsRun is one run's daemons and what the steps share.
type mskNetnsRun struct {
	daemonPair
	set     *daemonSet
	nar     *scenario.Daemon
	files   scenario.MSKDaemonFiles
	fr      *peer.Server
	frDone  bool
	capture *frameCapture
}

// RunMSKNetns plays the MSK walk-through (docs/msk.md, "The demo") on the
// testbed (root) with every daemon a process: FreeRADIUS as EAP-TLS
// server in the PAR's namespace on the PAR–NAR link, MSK-only `fhkey ar`
// on the PAR and the NAR ([eap]: 802.1X authenticators) and `fhkey mn` in
// the MSK mode. The summary is OK only if every expected outcome was
// reached; an error is a failure to run at all (also recorded).
func (d *Demo) RunMSKNetns(ctx context.Context, o NetnsOptions, out MSKNetnsFiles) (MSKNetnsSummary, error) {
	sum := MSKNetnsSummary{Mode: "msk", Testbed: o.Prefix, Kept: o.Keep, CacheDir: o.CacheDir, Addresses: map[string]string{}, Metrics: map[string]float64{}}
	d.width = len("unknown NAI")
	runErr := d.runMSKNetns(ctx, o, out, &sum)
	sum.Steps = d.sum.Steps
	oc := &sum.Outcome
	oc.ForgedRejected = oc.ForgedFBURejected && oc.BindingUnchanged && oc.UnknownNAIRejected
	sum.OK, sum.Error = settleNetns(runErr, oc.KeyProvisioned && oc.FBUAccepted && oc.StreamRedirected && oc.ForgedRejected && oc.AttackerGotNothing)
	return sum, runErr
}

func (d *Demo) runMSKNetns(ctx context.Context, o NetnsOptions, out MSKNetnsFiles, sum *MSKNetnsSummary) (err error) {
	creds, tb, down, err := d.netnsSetup(ctx, o, "fhkey demo --mode msk: FBU keys from the EAP MSK (draft-li-mipshop-fbu-sec-00, issue 12):\nEAP-TLS over 802.1X to FreeRADIUS, RFC 4285 authenticator, every daemon a process in network namespaces", sum.Addresses)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, down()) }()
	set, err := newDaemonSet(ctx, tb, "fhkey-demo-msk-")
	if err != nil {
		return err
	}
	defer set.close()
	r := &mskNetnsRun{set: set, daemonPair: daemonPair{parAddr: creds.PAR.CGA.Address, pcoa: creds.MN.PCoA.Address, ncoa: creds.MN.NCoA.Address, auth: authMSK}}
	defer func() { // FreeRADIUS and the capture, also when a step fails
		if r.fr != nil && !r.frDone {
			err = errors.Join(err, r.fr.Stop())
		}
		if r.capture != nil {
			n, cerr := r.capture.finish(out.Pcap)
			sum.Pcap, sum.PcapFrames = out.Pcap, n
			err = errors.Join(err, cerr)
		}
	}()
	if out.Pcap != "" {
		if r.capture, err = startFrameCapture(tb, mskCapturePoints, mskFrame); err != nil {
			return err
		}
	}
	if err := d.startMSKDaemons(ctx, tb, creds, r); err != nil {
		return err
	}
	sum.Addresses["FreeRADIUS"] = scenario.DefaultMSKRADIUS.String() + " (PAR namespace)"

	// EAP-TLS over EAPOL at the PAR: the MN daemon's /status, the PAR's MSK.
	start := time.Now()
	var mac string
	authenticated := waitMN(r.mobile, &r.ms, func() bool { return r.ms.EAP != nil && r.ms.EAP.State == "authenticated" })
	if authenticated && r.par.Status(&r.ps) == nil && r.ps.EAP != nil {
		for _, h := range r.ps.EAP.Authenticated {
			if h.NAI == lab.EAPNAI {
				mac, sum.Outcome.KeyProvisioned = h.MAC, true
			}
		}
	}
	accepts, _ := r.par.Metric(`fhkey_pae_outcomes_total{outcome="accepted"}`)
	d.step("EAP-TLS", time.Since(start), sum.Outcome.KeyProvisioned, "MN daemon -> PAR: EAPOL-Start on %s; PAR <-> FreeRADIUS: EAP-TLS in Access-Request/Challenge\n(Message-Authenticator, State); Access-Accept with MS-MPPE keys (PAR accepted %v);\nPAR /status: MSK of %s from MAC %s, kept in its bbolt file (time since the MN daemon was ready)",
		testbed.IfaceMNToPAR, accepts, lab.EAPNAI, mac)
	if !sum.Outcome.KeyProvisioned {
		return nil
	}
	forged, err := scenario.ForgeFBUMSK(r.parAddr, r.pcoa, testbed.AddrAttacker, lab.EAPNAI, hokey.HMACSHA256Trunc128)
	if err != nil {
		return err
	}
	if err := d.daemonFastHandover(ctx, tb, o, &r.daemonPair, forged, fmt.Sprintf("MN-NAI %s, MN-HA option with the FHK of a guessed MSK", lab.EAPNAI), &sum.Outcome.HandoverOutcome, &sum.Packets); err != nil || !sum.Outcome.FBUAccepted {
		return err
	}
	if sum.Outcome.UnknownNAIRejected, err = d.unknownNAI(ctx, tb, r); err != nil {
		return err
	}
	d.mskNetnsMetrics(r, sum)
	if err := d.stopDaemons(set); err != nil {
		return err
	}
	r.frDone = true
	if err := r.fr.Stop(); err != nil {
		return err
	}
	if out.Keys != "" {
		sum.Keys = out.Keys
		sum.ShownMSK, err = d.writeMSKKeys(out.Keys, r)
		return err
	}
	return nil
}

// startMSKDaemons writes the configurations and starts FreeRADIUS, the
// PAR, the NAR and the MN, one step each.
func (d *Demo) startMSKDaemons(ctx context.Context, tb *testbed.Testbed, creds *lab.Credentials, r *mskNetnsRun) error {
	start := time.Now()
	pki, err := lab.NewEAPPKI()
	if err != nil {
		return err
	}
	secret, err := radiusSecret()
	if err != nil {
		return err
	}
	if r.files, err = scenario.WriteMSKDaemonFiles(filepath.Join(r.set.dir, "daemons"), creds, scenario.MSKDaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, ForwardingLifetime: time.Minute}, Secret: secret, PKI: pki}); err != nil {
		return err
	}
	d.step("configs", time.Since(start), true, "in %s: %s, %s, %s;\nEAP-TLS PKI drawn for the run (CA, server %s, client %s), RADIUS secret drawn for the run",
		r.files.Dir, scenario.ConfigPARMSK, scenario.ConfigNARMSK, scenario.ConfigMNMSK, lab.EAPServerName, lab.EAPNAI)

	start = time.Now()
	if r.fr, err = r.set.startEAPTLSFreeRADIUS(ctx, testbed.PAR, scenario.DefaultMSKRADIUS,
		peer.FreeRADIUSClient{Name: "access_routers", Prefix: scenario.MSKRADIUSClients, Secret: string(secret)},
		&peer.EAPTLSServer{CA: pki.CA.CertPEM, Certificate: pki.Server.CertPEM, Key: pki.Server.KeyPEM}); err != nil {
		return err
	}
	d.step("FreeRADIUS", time.Since(start), true, "ip netns exec %s freeradius -X (pid %d): EAP-TLS server on %s,\nclients %s (both routers), Message-Authenticator required",
		tb.Namespace(testbed.PAR), r.fr.Pid(), scenario.DefaultMSKRADIUS, scenario.MSKRADIUSClients)

	for _, s := range []struct {
		node testbed.Node
		name string
		file string
		to   **scenario.Daemon
		what string
	}{
		{testbed.PAR, "PAR", r.files.PAR, &r.par, "802.1X authenticator on acc0, RADIUS to FreeRADIUS, MSKs in bbolt, forwarder"},
		{testbed.NAR, "NAR", r.files.NAR, &r.nar, "802.1X authenticator on acc0, the same FreeRADIUS over the PAR–NAR link"},
		{testbed.MN, "MN", r.files.MN, &r.mobile, "EAP-TLS supplicant as " + lab.EAPNAI + " on par0, then nar0; decapsulator"},
	} {
		start = time.Now()
		if *s.to, err = r.set.start(s.node, s.name, scenario.DefaultDaemonHTTP, map[bool]string{true: "mn", false: "ar"}[s.node == testbed.MN], "-c", s.file); err != nil {
			return err
		}
		d.step(s.name, time.Since(start), true, "ip netns exec %s fhkey %s -c %s (pid %d): %s",
			tb.Namespace(s.node), map[bool]string{true: "mn", false: "ar"}[s.node == testbed.MN], filepath.Base(s.file), (*s.to).Pid(), s.what)
	}
	return nil
}

// unknownNAI sends an FBU for the PCoA with an NAI the PAR has no MSK
// for: the PAR must count it unknown_nai, answer nothing and keep the
// binding.
func (d *Demo) unknownNAI(ctx context.Context, tb *testbed.Testbed, r *mskNetnsRun) (bool, error) {
	const series = `fhkey_ar_fbu_msk_total{outcome="unknown_nai"}`
	before, _ := r.par.Metric(series)
	binding := r.ps.Bindings
	forged, err := scenario.ForgeFBUMSK(r.parAddr, r.pcoa, testbed.AddrAttacker, unknownNAI, hokey.HMACSHA256Trunc128)
	if err != nil {
		return false, err
	}
	start := time.Now()
	status, err := sendForgedFBU(ctx, tb, forged)
	if err != nil {
		return false, err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	werr := r.par.WaitMetric(wctx, series, before+1)
	after, _ := r.par.Metric(series)
	unchanged := r.par.Status(&r.ps) == nil && len(r.ps.Bindings) == 1 && len(binding) == 1 &&
		r.ps.Bindings[0].NewCoA == binding[0].NewCoA && r.ps.Bindings[0].Expires.Equal(binding[0].Expires)
	ok := werr == nil && unchanged
	d.step("unknown NAI", time.Since(start), ok, "attacker %s -> PAR: FBU claiming the PCoA with MN-NAI %s;\nPAR /metrics: unknown_nai %v -> %v; FBack Status %d (none: no key to sign it); binding unchanged: %v",
		testbed.AddrAttacker, unknownNAI, before, after, status, unchanged)
	return ok, nil
}

// mskNetnsMetrics records the routers' counters.
func (d *Demo) mskNetnsMetrics(r *mskNetnsRun, sum *MSKNetnsSummary) {
	series := []string{`fhkey_pae_outcomes_total{outcome="accepted"}`, "fhkey_pae_sessions_started_total",
		`fhkey_ar_fbu_msk_total{outcome="accepted"}`, `fhkey_ar_fbu_msk_total{outcome="bad_auth"}`, `fhkey_ar_fbu_msk_total{outcome="unknown_nai"}`}
	recordMetrics(sum.Metrics, daemonSeries{r.par, series}, daemonSeries{r.nar, series})
}
