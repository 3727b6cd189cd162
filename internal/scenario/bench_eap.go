package scenario

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/fhkey/fhkey/internal/peer"
)

// EAPBenchConfig configures BenchEAP (`fhkey bench eap`, issue 12
// "Performance").
type EAPBenchConfig struct {
	// Parallel is how many supplicants authenticate at once on each side
	// (eapol_test processes; Go supplicants on as many MAC addresses),
	// default 8; PerSupplicant how many authentications each runs in a
	// row per run (eapol_test -r PerSupplicant-1), default 25.
	Parallel, PerSupplicant int
	// Runs is how many times each side is measured, interleaved (direct,
	// through the AR, direct, ...) after one warm-up run each; the rates
	// reported are the medians (default 3).
	Runs int
	// TLSVersion is the TLS version both sides negotiate:
	// tls.VersionTLS12 (default) or tls.VersionTLS13.
	TLSVersion uint16
	// Dir is a private directory for FreeRADIUS, the certificates, the
	// eapol_test configuration and the AR's MSK store.
	Dir string
	// Prefix names the network namespaces of the veth pair (default
	// "fhk-beap-").
	Prefix string
	// Log receives progress lines.
	Log io.Writer
}

// EAPBenchResult is the outcome of BenchEAP. The first three fields are
// the figures.
type EAPBenchResult struct {
	// ThroughARPerS and EapolTestDirectPerS are the medians of Runs:
	// EAP-TLS authentications per second completed through the fhkey
	// authenticator, and by eapol_test straight to FreeRADIUS.
	ThroughARPerS       float64 `json:"through_ar_per_s"`
	EapolTestDirectPerS float64 `json:"eapol_test_direct_per_s"`
	// Ratio is ThroughARPerS / EapolTestDirectPerS, both in this run.
	Ratio float64 `json:"ratio"`
	// GoDirectPerS is the median rate of the Go peer of the supplicants
	// straight to FreeRADIUS (relay in this process, no EAPOL, no
	// authenticator): ThroughARPerS / GoDirectPerS = ARShare is what
	// the AR's path keeps of what the same client gets directly.
	GoDirectPerS float64 `json:"go_peer_direct_per_s"`
	ARShare      float64 `json:"through_ar_over_go_direct"`
	// Runs are the measured runs in the order they ran, warm-ups left
	// out.
	Runs          []EAPBenchRun `json:"runs"`
	Parallel      int           `json:"parallel"`
	PerSupplicant int           `json:"per_supplicant"`
	TLSVersion    string        `json:"tls_version"`
	Freeradius    string        `json:"freeradius_version"`
}

// EAPBenchRun is one measured run of one side.
type EAPBenchRun struct {
	Side            string  `json:"side"` // "eapol_test" or "through_ar"
	Authentications int     `json:"authentications"`
	Seconds         float64 `json:"seconds"`
	PerS            float64 `json:"per_s"`
	// ServerCPUSeconds is FreeRADIUS's CPU time in the run;
	// ClientCPUSeconds the supplicants' side: the eapol_test processes,
	// or this process (the Go supplicants and the authenticator with its
	// relay and MSK store together).
	ServerCPUSeconds float64 `json:"freeradius_cpu_seconds"`
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	// ServerCPUMillis is FreeRADIUS's CPU time per authentication.
	ServerCPUMillis float64 `json:"freeradius_cpu_ms_per_auth"`
	// ARStarted and ARRetransmissions are the authenticator's counters
	// in a run through the AR (pae.Stats): sessions started (one per
	// authentication, more when an EAPOL-Start was sent again) and
	// EAP-Requests sent again after RetransmitInterval of silence (a
	// frame lost: the run waited seconds).
	ARStarted         uint64 `json:"ar_sessions_started,omitempty"`
	ARRetransmissions uint64 `json:"ar_retransmissions,omitempty"`
	// ARUnexpected counts the frames the authenticator dropped as
	// unexpected (pae.Stats.Unexpected), RADIUSRetransmissions the
	// Access-Requests the relay sent again after its 2 s timeout (a
	// packet lost or the server late), through the AR and from the Go
	// peer directly.
	ARUnexpected          uint64 `json:"ar_unexpected,omitempty"`
	RADIUSRetransmissions uint64 `json:"radius_retransmissions,omitempty"`
}

func (r EAPBenchResult) String() string {
	return fmt.Sprintf("EAP-TLS (%s), %d supplicants at once × %d authentications each per run (%s)\n"+
		"  (medians of %d interleaved runs each)\n"+
		"  eapol_test straight to FreeRADIUS: %8.1f/s\n"+
		"  through the fhkey authenticator:   %8.1f/s  (Go supplicants, EAPOL on a veth pair, RADIUS relay, bbolt MSK store)\n"+
		"  ratio through AR / eapol_test:     %8.2f\n"+
		"  Go peer straight to FreeRADIUS:    %8.1f/s  (through AR / Go peer direct: %.2f)",
		r.TLSVersion, r.Parallel, r.PerSupplicant, r.Freeradius, len(r.Runs)/3,
		r.EapolTestDirectPerS, r.ThroughARPerS, r.Ratio, r.GoDirectPerS, r.ARShare)
}

func (cfg *EAPBenchConfig) defaults() error {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.PerSupplicant <= 0 {
		cfg.PerSupplicant = 25
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 3
	}
	if cfg.TLSVersion == 0 {
		cfg.TLSVersion = tls.VersionTLS12
	}
	if cfg.TLSVersion != tls.VersionTLS12 && cfg.TLSVersion != tls.VersionTLS13 {
		return fmt.Errorf("scenario: bench eap: TLS version %#x: 1.2 or 1.3", cfg.TLSVersion)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "fhk-beap-"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return nil
}

// BenchEAP measures, in one run, EAP-TLS authentications per second of
// eapol_test straight to FreeRADIUS and of Go supplicants through the
// fhkey authenticator (internal/pae) relaying to the same FreeRADIUS:
// the same server (a thread pool, no TLS session cache, so every
// authentication is a full handshake), the same certificates (ECDSA
// P-256), the same TLS version and the same number of supplicants at
// once. Needs root (network namespaces, AF_PACKET), freeradius and
// eapol_test; everything runs from cfg.Dir and is stopped at the end.
func BenchEAP(ctx context.Context, cfg EAPBenchConfig) (EAPBenchResult, error) {
	if err := cfg.defaults(); err != nil {
		return EAPBenchResult{}, err
	}
	res := EAPBenchResult{Parallel: cfg.Parallel, PerSupplicant: cfg.PerSupplicant, TLSVersion: tlsVersionName(cfg.TLSVersion)}
	eapolTest, err := exec.LookPath("eapol_test")
	if err != nil {
		return res, fmt.Errorf("scenario: bench eap: eapol_test (Debian: eapoltest): %w", err)
	}
	res.Freeradius = freeradiusVersion()
	pki, err := newBenchPKI()
	if err != nil {
		return res, err
	}
	secret := randomSecret()
	frAddr, err := freeUDPPort()
	if err != nil {
		return res, err
	}
	frDir := cfg.Dir + "/freeradius"
	if err := os.MkdirAll(frDir, 0o700); err != nil {
		return res, err
	}
	fr := &peer.FreeRADIUS{Dir: frDir, Listen: frAddr,
		Clients: []peer.FreeRADIUSClient{{Name: "bench", Prefix: netip.PrefixFrom(loopback, 32), Secret: secret, RequireMessageAuthenticator: true}},
		EAPTLS:  &peer.EAPTLSServer{CA: pki.ca.certPEM, Certificate: pki.server.certPEM, Key: pki.server.keyPEM, MaxVersion: "1.3"},
	}
	frServer, err := startBenchFreeRADIUS(ctx, fr)
	if err != nil {
		return res, err
	}
	defer frServer.Stop()
	fmt.Fprintf(cfg.Log, "FreeRADIUS EAP-TLS on %s (pid %d)\n", frAddr, frServer.Pid())
	frCPU := func() time.Duration { d, _ := pidCPU(frServer.Pid()); return d }

	direct, err := newEapolTestSide(cfg, eapolTest, pki, frAddr, secret)
	if err != nil {
		return res, err
	}
	goDirect, err := newGoDirectSide(cfg, pki, frAddr, secret)
	if err != nil {
		return res, err
	}
	defer goDirect.close()
	ar, err := newThroughARSide(ctx, cfg, pki, frAddr, secret)
	if err != nil {
		return res, err
	}
	defer ar.close()

	var dRuns, gRuns, aRuns []EAPBenchRun
	for r := range cfg.Runs + 1 {
		fmt.Fprintf(cfg.Log, "%s: %d × %d authentications by eapol_test, the Go peer directly, then through the AR\n",
			roundName(r), cfg.Parallel, cfg.PerSupplicant)
		d, err := measureEAP("eapol_test", frCPU, func() (int, time.Duration, error) { return direct.run(ctx) })
		if err != nil {
			return res, fmt.Errorf("%w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
		}
		rg := goDirect.relay.Stats().Retransmissions
		g, err := measureEAP("go_direct", frCPU, func() (int, time.Duration, error) { return goDirect.run(ctx) })
		g.RADIUSRetransmissions = goDirect.relay.Stats().Retransmissions - rg
		if err != nil {
			return res, fmt.Errorf("%w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
		}
		before, ra := ar.auth.Stats(), ar.relay.Stats().Retransmissions
		a, err := measureEAP("through_ar", frCPU, func() (int, time.Duration, error) { return ar.run(ctx) })
		after := ar.auth.Stats()
		a.ARStarted, a.ARRetransmissions = after.Started-before.Started, after.Retransmissions-before.Retransmissions
		a.ARUnexpected, a.RADIUSRetransmissions = after.Unexpected-before.Unexpected, ar.relay.Stats().Retransmissions-ra
		if err != nil {
			return res, fmt.Errorf("%w\nauthenticator %+v\nFreeRADIUS: %s", err, ar.auth.Stats(), tailOf(frServer.Output()))
		}
		if r == 0 {
			continue
		}
		dRuns, gRuns, aRuns = append(dRuns, d), append(gRuns, g), append(aRuns, a)
		res.Runs = append(res.Runs, d, g, a)
	}
	res.EapolTestDirectPerS = medianEAPRun(dRuns).PerS
	res.GoDirectPerS = medianEAPRun(gRuns).PerS
	res.ThroughARPerS = medianEAPRun(aRuns).PerS
	res.Ratio = res.ThroughARPerS / res.EapolTestDirectPerS
	res.ARShare = res.ThroughARPerS / res.GoDirectPerS
	return res, nil
}

// startBenchFreeRADIUS starts fr, waiting at most 30 s for it to be
// ready.
func startBenchFreeRADIUS(ctx context.Context, fr *peer.FreeRADIUS) (*peer.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return fr.Start(ctx)
}

// measureEAP times one run of a side: run returns the authentications
// completed and the client side's CPU time.
func measureEAP(side string, serverCPU func() time.Duration, run func() (int, time.Duration, error)) (EAPBenchRun, error) {
	cpu0 := serverCPU()
	start := time.Now()
	n, client, err := run()
	r := EAPBenchRun{Side: side, Authentications: n, Seconds: time.Since(start).Seconds(), ClientCPUSeconds: client.Seconds()}
	r.ServerCPUSeconds = (serverCPU() - cpu0).Seconds()
	if n > 0 {
		r.PerS = float64(n) / r.Seconds
		r.ServerCPUMillis = r.ServerCPUSeconds * 1e3 / float64(n)
	}
	return r, err
}

// medianEAPRun returns the run of the median rate (the lower middle one
// of an even count).
func medianEAPRun(runs []EAPBenchRun) EAPBenchRun {
	if len(runs) == 0 {
		return EAPBenchRun{}
	}
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b EAPBenchRun) int { return cmp.Compare(a.PerS, b.PerS) })
	return s[(len(s)-1)/2]
}

func tlsVersionName(v uint16) string {
	if v == tls.VersionTLS13 {
		return "TLS 1.3"
	}
	return "TLS 1.2"
}

// errEAPBench is wrapped by a run in which an authentication failed.
var errEAPBench = errors.New("scenario: bench eap")
