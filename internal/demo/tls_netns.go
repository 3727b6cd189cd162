package demo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// TLSNetnsOutcome is what the exit status of `fhkey demo --mode tls
// --netns` depends on: the in-process demo's five (TLSOutcome) and the
// testbed's own.
type TLSNetnsOutcome struct {
	TLSOutcome
	// Reregistered: after the move the MN registered its new care-of
	// address and the HA's binding followed; data kept flowing.
	Reregistered bool `json:"reregistered"`
	// HARestartKeptBinding: the HA, SIGKILLed and restarted on its state
	// file, kept SA and binding; data kept flowing with no new bootstrap.
	HARestartKeptBinding bool `json:"ha_restart_kept_binding"`
	// EAPBootstrapped: the MN restarted with the EAP configuration got a
	// new SA through FreeRADIUS and registered; absent when skipped (no
	// freeradius).
	EAPBootstrapped *bool `json:"eap_bootstrapped,omitempty"`
}

// TLSNetnsSummary is the outcome of RunTLSNetns (--json).
type TLSNetnsSummary struct {
	OK        bool               `json:"ok"`
	Mode      string             `json:"mode"`
	Outcome   TLSNetnsOutcome    `json:"outcome"`
	Steps     []Step             `json:"steps"`
	Metrics   map[string]float64 `json:"metrics"`
	Addresses map[string]string  `json:"addresses"`
	// Pcap is the capture file (--pcap) and PcapFrames its frames;
	// KeyLog the MN daemons' key log (--keylog).
	Pcap       string `json:"pcap,omitempty"`
	PcapFrames int    `json:"pcap_frames,omitempty"`
	KeyLog     string `json:"keylog,omitempty"`
	Testbed    string `json:"testbed"`
	Kept       bool   `json:"kept"`
	Error      string `json:"error,omitempty"`
}

// TLSNetnsFiles are the optional outputs of RunTLSNetns.
type TLSNetnsFiles struct {
	// Pcap, if set, receives the frames of the MN's TLS connections to
	// the HAC and of the UDP data plane at the HA (tlsFrame), captured on
	// the HAC's and the HA's link, in time order (link type Ethernet).
	Pcap string
	// KeyLog, if set, is given to each `fhkey mip6` as --keylog: the
	// daemon appends its TLS secrets (SSLKEYLOGFILE, mode 0600). An
	// absolute path: the daemons run in another directory.
	KeyLog string
}

// tlsNetnsRun is one run's daemons and what the steps share.
type tlsNetnsRun struct {
	tb                *testbed.Testbed
	set               *daemonSet
	files             scenario.TLSDaemonFiles
	fr                *peer.Server
	home, hac, mobile *scenario.Daemon
	st                mip6mn.Status
	cn                *scenario.Sender
	sniffer           *haSniffer
	echo              *homeEcho
	count             int
	pki               *lab.EAPPKI
	secret            []byte
	sum               *TLSNetnsSummary
	keyLog            string
	capture           *frameCapture
}

// tlsDataPort is the CN's destination port at the home address for the
// stream, tlsEchoPort the one of the echo.
const (
	tlsDataPort = 9009
	tlsEchoPort = 9007
)

// RunTLSNetns plays the RFC 6618 walk-through (docs/tls.md, "On the
// testbed") with every daemon a process in its own namespace of the
// testbed's home network: FreeRADIUS in AAA (when installed), `fhkey hac`
// in HAC, `fhkey ha` in HA, `fhkey mip6` in MN; without eap FreeRADIUS
// is not started and the EAP step is skipped. out names the optional
// capture and key log. OK only if every expected outcome was reached; an
// error is a failure to run at all.
func (d *Demo) RunTLSNetns(ctx context.Context, o NetnsOptions, eap bool, out TLSNetnsFiles) (TLSNetnsSummary, error) {
	sum := TLSNetnsSummary{Mode: "tls", Testbed: o.Prefix, Kept: o.Keep, Addresses: map[string]string{}, Metrics: map[string]float64{}, KeyLog: out.KeyLog}
	d.width = len("HA restarted")
	runErr := d.runTLSNetns(ctx, o, eap, out, &sum)
	sum.Steps = d.sum.Steps
	oc := sum.Outcome
	sum.OK, sum.Error = settleNetns(runErr, oc.Bootstrapped && oc.BindingAcknowledged && oc.DataThroughHA && oc.TamperedRejected &&
		oc.ReplayRejected && oc.Reregistered && oc.HARestartKeptBinding && (oc.EAPBootstrapped == nil || *oc.EAPBootstrapped))
	return sum, runErr
}

func (d *Demo) runTLSNetns(ctx context.Context, o NetnsOptions, eap bool, out TLSNetnsFiles, sum *TLSNetnsSummary) (err error) {
	if d.out != nil {
		fmt.Fprintf(d.out, "fhkey demo --mode tls --netns: TLS-based Mobile IPv6 security (RFC 6618, issue 13):\nbootstrap with the HAC over TLS, SA to the HA, protected BU/BA and data over UDP, every daemon a process\n\n")
	}
	start := time.Now()
	tb, err := testbed.Up(ctx, testbed.Config{Prefix: o.Prefix, Attacker: true, Home: true})
	if err != nil {
		return err
	}
	defer func() {
		if !o.Keep {
			err = errors.Join(err, testbed.Down(context.WithoutCancel(ctx), o.Prefix))
		}
	}()
	for name, a := range map[string]netip.Addr{"HAC": testbed.AddrHAC, "HA": testbed.AddrHA, "AAA": testbed.AddrAAA, "MN home address": testbed.AddrMNHome,
		"MN CoA (PAR link)": testbed.AddrMNPrevious, "MN CoA (NAR link)": testbed.AddrMNNew, "CN": testbed.AddrCN, "attacker": testbed.AddrAttacker} {
		sum.Addresses[name] = a.String()
	}
	d.step("testbed", time.Since(start), true, "namespaces %s{mn,par,nar,cn,atk,ha,hac,aaa}: HA, HAC, AAA each on a link to the PAR;\nhome prefix %s routed to the HA", o.Prefix, testbed.PrefixHome)
	set, err := newDaemonSet(ctx, tb, "fhkey-demo-tls-")
	if err != nil {
		return err
	}
	defer set.close()
	r := &tlsNetnsRun{tb: tb, set: set, count: max(o.Count, 1), sum: sum, keyLog: out.KeyLog}
	defer func() {
		if r.fr != nil {
			err = errors.Join(err, r.fr.Stop())
		}
		if r.capture != nil {
			n, cerr := r.capture.finish(out.Pcap)
			sum.Pcap, sum.PcapFrames = out.Pcap, n
			err = errors.Join(err, cerr)
		}
		if r.sniffer != nil {
			r.sniffer.close()
		}
		if r.cn != nil {
			r.cn.Close()
		}
		if r.echo != nil {
			r.echo.close()
		}
	}()
	if out.Pcap != "" {
		if r.capture, err = startFrameCapture(tb, tlsCapturePoints, tlsFrame); err != nil {
			return err
		}
	}
	if err := d.startTLSDaemons(ctx, r, eap); err != nil {
		return err
	}
	if r.cn, err = scenario.NewSender(tb, testbed.CN, testbed.AddrCN); err != nil {
		return err
	}
	if r.sniffer, err = sniffHA(tb); err != nil {
		return err
	}
	if !d.tlsBootstrap(ctx, r, scenario.ConfigMIP6PSK, r.files.MIP6PSK, "psk", testbed.AddrMNPrevious, &sum.Outcome.Bootstrapped, &sum.Outcome.BindingAcknowledged) {
		return nil
	}
	if r.echo, err = openHomeEcho(ctx, tb, tlsEchoPort); err != nil {
		return err
	}
	sum.Outcome.DataThroughHA = d.tlsData(ctx, r, "data", false)
	if err := d.tlsMove(ctx, r); err != nil {
		return err
	}
	if err := d.tlsAttack(ctx, r); err != nil {
		return err
	}
	// The forgeries must not disturb the MN's traffic (RFC 4303 §3.4.3:
	// the window moves only for a packet whose ICV verified).
	attacksHarmless := d.tlsData(ctx, r, "data (after the attacks)", false)
	sum.Outcome.TamperedRejected = sum.Outcome.TamperedRejected && attacksHarmless
	if err := d.tlsRestartHA(ctx, r); err != nil {
		return err
	}
	if r.fr != nil {
		if err := r.set.stop(r.mobile); err != nil {
			return err
		}
		var ok, ack bool
		d.tlsBootstrap(ctx, r, scenario.ConfigMIP6EAP, r.files.MIP6EAP, "eap", testbed.AddrMNNew, &ok, &ack)
		ok = ok && ack && d.tlsData(ctx, r, "data (EAP SA)", false)
		sum.Outcome.EAPBootstrapped = &ok
	}
	d.tlsMetrics(r)
	return d.stopDaemons(set)
}

// startTLSDaemons writes the configurations and starts FreeRADIUS (with
// eap), the HA and the HAC, one step each.
func (d *Demo) startTLSDaemons(ctx context.Context, r *tlsNetnsRun, eap bool) (err error) {
	start := time.Now()
	if r.pki, err = lab.NewEAPPKI(); err != nil {
		return err
	}
	if r.secret, err = radiusSecret(); err != nil {
		return err
	}
	if r.files, err = scenario.WriteTLSDaemonFiles(ctx, filepath.Join(r.set.dir, "daemons"), scenario.TLSDaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP}, Secret: r.secret, PKI: r.pki}); err != nil {
		return err
	}
	d.step("configs", time.Since(start), true, "in %s: %s, %s, %s, %s;\nTLS PKI (HAC server, HA channel server, HAC channel client), EAP-TLS PKI, PSK and RADIUS secret drawn for the run;\nsubscriber %s (psk, eap, home address %s) in %s",
		r.files.Dir, scenario.ConfigHAC, scenario.ConfigHA, scenario.ConfigMIP6PSK, scenario.ConfigMIP6EAP, lab.EAPNAI, testbed.AddrMNHome, filepath.Base(r.files.Subscribers))

	if !eap {
		d.step("FreeRADIUS", 0, true, "not started: the EAP step is skipped (freeradius not found)")
	} else {
		start = time.Now()
		cert, err := os.ReadFile(r.files.ServerCert)
		if err != nil {
			return err
		}
		key, err := os.ReadFile(r.files.ServerKey)
		if err != nil {
			return err
		}
		if r.fr, err = r.set.startEAPTLSFreeRADIUS(ctx, testbed.AAA, scenario.DefaultTLSRADIUS,
			peer.FreeRADIUSClient{Name: "hac", Prefix: scenario.TLSRADIUSClients, Secret: string(r.secret)},
			&peer.EAPTLSServer{CA: r.pki.CA.CertPEM, Certificate: cert, Key: key}); err != nil {
			return err
		}
		d.step("FreeRADIUS", time.Since(start), true, "ip netns exec %s freeradius -X (pid %d): EAP-TLS server on %s, client the HAC's link %s",
			r.tb.Namespace(testbed.AAA), r.fr.Pid(), scenario.DefaultTLSRADIUS, scenario.TLSRADIUSClients)
	}
	for _, s := range []struct {
		node testbed.Node
		cmd  string
		file string
		to   **scenario.Daemon
		what string
	}{
		{testbed.HA, "ha", r.files.HA, &r.home, fmt.Sprintf("UDP [%s]:%d, home link %s on TUN %s, HAC channel (mutual TLS 1.3) on %d, bbolt state",
			testbed.AddrHA, scenario.TLSHAPort, testbed.PrefixHome, scenario.TUNHomeAgent, scenario.TLSChannelPort)},
		{testbed.HAC, "hac", r.files.HAC, &r.hac, fmt.Sprintf("TLS on [%s]:%d, subscribers in bbolt, EAP relayed to %s", testbed.AddrHAC, scenario.TLSHACPort, scenario.DefaultTLSRADIUS)},
	} {
		start = time.Now()
		if *s.to, err = r.set.start(s.node, s.cmd, scenario.DefaultDaemonHTTP, s.cmd, "-c", s.file); err != nil {
			return err
		}
		d.step(s.cmd, time.Since(start), true, "ip netns exec %s fhkey %s -c %s (pid %d): %s", r.tb.Namespace(s.node), s.cmd, filepath.Base(s.file), (*s.to).Pid(), s.what)
	}
	return nil
}

// tlsBootstrap starts `fhkey mip6` with file and waits for the HAC's
// bootstrap of method and the registration at coa.
func (d *Demo) tlsBootstrap(ctx context.Context, r *tlsNetnsRun, name, file, method string, coa netip.Addr, boot, ack *bool) bool {
	start := time.Now()
	var err error
	series := fmt.Sprintf(`fhkey_hac_bootstraps_total{method=%q,outcome="ok"}`, method)
	args, keyLog := []string{"mip6", "-c", file}, ""
	if r.keyLog != "" {
		args, keyLog = append(args, "--keylog", r.keyLog), " --keylog "+r.keyLog
	}
	if r.mobile, err = r.set.start(testbed.MN, "mip6 ("+method+")", scenario.DefaultDaemonHTTP, args...); err == nil {
		*boot = waitUntil(ctx, 10*time.Second, func() bool { v, _ := r.hac.Metric(series); return v >= 1 })
	}
	d.step(method+" bootstrap", time.Since(start), *boot, "ip netns exec %s fhkey mip6 -c %s%s: TLS to the HAC [%s]:%d, %s method (RFC 6618 §5.%s);\nHAC -> HA: the SA over the mutual-TLS channel; %s%v",
		r.tb.Namespace(testbed.MN), name, keyLog, testbed.AddrHAC, scenario.TLSHACPort, method, map[string]string{"psk": "8", "eap": "9, EAP-TLS relayed to FreeRADIUS"}[method], series+" = ", *boot)
	if !*boot {
		return false
	}
	start = time.Now()
	*ack = waitRegistered(ctx, r.mobile, &r.st, coa, 0) && waitUntil(ctx, 5*time.Second, func() bool { return haBinding(r.home, r.st.SA.SPI, coa) })
	d.step("BU/BA", time.Since(start), *ack, "MN %s -> HA %s: Binding Update sealed with SPI %d (%s, PType 8), BA accepted;\nMN /status %s at %s; HA /status binding %s -> %s",
		coa, testbed.AddrHA, r.st.SA.SPI, r.st.SA.Suite, r.st.State, r.st.CareOf, testbed.AddrMNHome, coa)
	return *ack
}

// echoRounds is the number of round trips CN → home address → CN of each
// data step.
const echoRounds = 10

// leaseWarmUp is the burst of echo requests the step after the HA's
// restart sends first. The HA was SIGKILLed, so it refuses the MN's
// Sequence Numbers up to the stored inbound lease (docs/ha.md, "Sequence
// Numbers across a restart"): at most ha.MinLease of them for an SA as
// slow as the demo's echo answers; the burst's answers use those numbers
// up, at least one comes back.
const leaseWarmUp = ha.MinLease + 1

// tlsData streams r.count datagrams from the CN to the home address and
// waits for them at the HA (to_mobile) and at the MN (received), then
// makes echoRounds round trips to the echo on the home address (the
// answers leave by the MN's TUN, reverse-tunneled through the HA). With
// warmUp (after the HA's crash) it first sends leaseWarmUp echo requests
// at once, of which at most ha.MinLease answers may be lost.
func (d *Demo) tlsData(ctx context.Context, r *tlsNetnsRun, name string, warmUp bool) bool {
	const toMobile, received = `fhkey_ha_data_packets_total{direction="to_mobile"}`, `fhkey_mip6_data_packets_total{direction="received"}`
	start := time.Now()
	const replayed = `fhkey_ha_dropped_total{reason="replayed"}`
	ha0, _ := r.home.Metric(toMobile)
	rp0, _ := r.home.Metric(replayed)
	mn0, _ := r.mobile.Metric(received)
	warm, warmOK := "", true
	if warmUp {
		lost := leaseWarmUp - scenario.EchoBurst(r.echo.cn, leaseWarmUp, "warm-up", time.Second)
		warmOK = lost <= ha.MinLease
		r.sum.Metrics["ha_restart_warmup_echoes_lost"] = float64(lost)
		warm = fmt.Sprintf("%d of %d warm-up echoes lost to the lease after the crash (≤ %d);\n", lost, leaseWarmUp, ha.MinLease)
	}
	dst := netip.AddrPortFrom(testbed.AddrMNHome, tlsDataPort)
	if _, _, err := r.cn.Stream(ctx, dst, r.count, time.Millisecond, nil); err != nil {
		d.step(name, time.Since(start), false, "%sCN: %v", warm, err)
		return false
	}
	want := float64(r.count - r.count/20) // ≥ 95 %
	var ha1, mn1 float64
	ok := waitUntil(ctx, 5*time.Second, func() bool {
		ha1, _ = r.home.Metric(toMobile)
		mn1, _ = r.mobile.Metric(received)
		return ha1-ha0 >= want && mn1-mn0 >= want
	})
	rt := r.echo.roundTrips(echoRounds)
	ok = ok && warmOK && rt >= echoRounds-1
	rp1, _ := r.home.Metric(replayed)
	d.step(name, time.Since(start), ok, "%sCN %s -> %s: %d datagrams; HA tunneled %v to the CoA, the MN daemon received %v;\nUDP echo on the home address (MN's TUN %s) -> CN through the HA: %d/%d round trips;\nHA dropped as replayed meanwhile: %v",
		warm, testbed.AddrCN, dst, r.count, ha1-ha0, mn1-mn0, scenario.TUNMobileNode, rt, echoRounds, rp1-rp0)
	return ok
}

// tlsMove moves the MN to the NAR's link: a new CoA, a new BU, the HA's
// binding follows, data continues.
func (d *Demo) tlsMove(ctx context.Context, r *tlsNetnsRun) error {
	start := time.Now()
	spi, acks := r.st.SA.SPI, r.st.Counters.BindingAcknowledgementsAccepted
	if err := r.tb.Move(ctx); err != nil {
		return err
	}
	ok := waitRegistered(ctx, r.mobile, &r.st, testbed.AddrMNNew, acks) &&
		waitUntil(ctx, 5*time.Second, func() bool { return haBinding(r.home, spi, testbed.AddrMNNew) })
	d.step("move", time.Since(start), ok, "MN par0 down, nar0 up (testbed.Move); the daemon sees CoA %s: BU, BA;\nHA /status binding %s -> %s (SPI %d, no new bootstrap)", testbed.AddrMNNew, testbed.AddrMNHome, testbed.AddrMNNew, spi)
	r.sum.Outcome.Reregistered = ok && d.tlsData(ctx, r, "data (moved)", false)
	return nil
}

// tlsAttack re-sends, from the attacker's namespace, the last datagram
// of the MN captured on the HA's link, once with one ICV bit flipped and
// once unchanged: the HA must count an ICV failure and a replay.
func (d *Demo) tlsAttack(ctx context.Context, r *tlsNetnsRun) error {
	p := r.sniffer.captured()
	if len(p) == 0 {
		return errNoDatagram
	}
	for _, a := range []struct {
		name   string
		series []string
		mutate func([]byte)
		to     *bool
	}{
		// A fresh Sequence Number (octets 4–7, RFC 6618 §6.2) passes the
		// replay window, so the HA reaches the ICV, whose last bit is
		// flipped as well.
		{"tampered", []string{`fhkey_ha_dropped_total{reason="icv"}`}, func(b []byte) {
			binary.BigEndian.PutUint32(b[4:8], binary.BigEndian.Uint32(b[4:8])+1000)
			b[len(b)-1] ^= 0x01
		}, &r.sum.Outcome.TamperedRejected},
		// A copy of an accepted packet: its sequence number is in the
		// window (replayed) or left of it (too_old), RFC 6618 §6.2.
		{"replayed", []string{`fhkey_ha_dropped_total{reason="replayed"}`, `fhkey_ha_dropped_total{reason="too_old"}`}, func([]byte) {}, &r.sum.Outcome.ReplayRejected},
	} {
		start := time.Now()
		b := append([]byte(nil), p...)
		a.mutate(b)
		count := func() (n float64) {
			for _, s := range a.series {
				v, _ := r.home.Metric(s)
				n += v
			}
			return n
		}
		before := count()
		if err := injectFromAttacker(r.tb, b); err != nil {
			return err
		}
		var after float64
		*a.to = waitUntil(ctx, 5*time.Second, func() bool { after = count(); return after > before }) &&
			haBinding(r.home, r.st.SA.SPI, testbed.AddrMNNew)
		d.step(a.name, time.Since(start), *a.to, "attacker %s -> HA: the MN's last datagram (%d octets, captured on the HA's link)%s;\nHA /metrics %s %v -> %v, binding unchanged",
			testbed.AddrAttacker, len(b), map[bool]string{true: " with Sequence Number + 1000 and one ICV bit flipped", false: " again"}[a.name == "tampered"], a.series[0], before, after)
	}
	return nil
}

// tlsRestartHA kills the HA and restarts it on its state file.
func (d *Demo) tlsRestartHA(ctx context.Context, r *tlsNetnsRun) error {
	start := time.Now()
	r.set.kill(r.home)
	var err error
	if r.home, err = r.set.start(testbed.HA, "ha (restarted)", scenario.DefaultDaemonHTTP, "ha", "-c", r.files.HA); err != nil {
		return err
	}
	kept := haBinding(r.home, r.st.SA.SPI, testbed.AddrMNNew)
	boots, _ := r.hac.Metric(`fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`)
	d.step("HA restarted", time.Since(start), kept, "SIGKILL, then fhkey ha -c %s again (pid %d): SA %d and binding -> %s read back from %s; HAC bootstraps still %v",
		filepath.Base(r.files.HA), r.home.Pid(), r.st.SA.SPI, testbed.AddrMNNew, filepath.Base(r.files.HAState), boots)
	r.sum.Outcome.HARestartKeptBinding = kept && boots == 1 && d.tlsData(ctx, r, "data (HA restarted)", true)
	return nil
}

// tlsMetrics records the daemons' counters.
func (d *Demo) tlsMetrics(r *tlsNetnsRun) {
	recordMetrics(r.sum.Metrics,
		daemonSeries{r.hac, []string{`fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`, `fhkey_hac_bootstraps_total{method="eap",outcome="ok"}`}},
		daemonSeries{r.home, []string{`fhkey_ha_binding_updates_total{status="accepted"}`, `fhkey_ha_data_packets_total{direction="to_mobile"}`,
			`fhkey_ha_dropped_total{reason="icv"}`, `fhkey_ha_dropped_total{reason="replayed"}`}})
}
