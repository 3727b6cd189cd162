package scenario

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/hks/hkstest"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/radius"
)

// HKSBenchConfig configures BenchHKS (`fhkey bench hks`, issue 11
// "Performance").
type HKSBenchConfig struct {
	// Requests is how many requests radclient sends to each server
	// (default 20,000); Parallel how many it keeps in flight (radclient
	// -p, default 256).
	Requests, Parallel int
	// Subscribers is the size of the HKS's memory store (default:
	// Requests, one request per subscriber). With fewer the requests
	// cycle through them with increasing Timestamps, and radclient may
	// deliver a subscriber's later request first (it does not keep file
	// order strictly), which the HKS then refuses as a replay
	// (INVALID_TIMESTAMP): the run fails unless every request is accepted.
	Subscribers int
	// Runs is how many times each server is measured, interleaved
	// (FreeRADIUS, HKS, FreeRADIUS, HKS, ...) after one warm-up run each;
	// the rates reported are the medians (default 3).
	Runs int
	// LatencySamples is how many sequential requests time the AR's
	// round trip through FreeRADIUS, and directly (default 2,000).
	LatencySamples int
	// Dir is a private directory for FreeRADIUS's configuration and the
	// request files.
	Dir string
	// Log receives progress lines.
	Log io.Writer
	// CPUProfile, if set, receives a pprof CPU profile of this process
	// during the HKS's throughput run.
	CPUProfile io.Writer
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Median  float64 `json:"median"`
	P99     float64 `json:"p99"`
	Samples int     `json:"samples"`
}

func latencyOf(d []time.Duration) Latency {
	q := quantilesOf(d)
	return Latency{Median: q.P50MS, P99: q.P99MS, Samples: q.Samples}
}

// HKSBenchResult is the outcome of BenchHKS. The first two fields are
// the figures, in its order.
type HKSBenchResult struct {
	// HKSPerS and FreeRADIUSPAPPerS are the medians of Runs.
	HKSPerS           float64 `json:"hks_per_s"`
	FreeRADIUSPAPPerS float64 `json:"freeradius_pap_per_s"`
	// Ratio is HKSPerS / FreeRADIUSPAPPerS, both measured in this run;
	// the target is at least 1.
	Ratio float64 `json:"ratio"`
	// Runs are the measured runs in the order they ran, warm-ups left
	// out.
	Runs []HKSBenchRun `json:"runs"`
	// ProxyLatency is the AR's round trip per HKReq through FreeRADIUS
	// (radius.Client → FreeRADIUS realm proxy → HKS and back), one
	// request at a time; DirectLatency the same without FreeRADIUS.
	ProxyLatency  Latency `json:"proxy_latency_ms"`
	DirectLatency Latency `json:"direct_latency_ms"`
	// AddedByProxy is the median the proxy adds (ProxyLatency.Median -
	// DirectLatency.Median).
	AddedByProxyMS float64 `json:"added_by_proxy_median_ms"`
	Requests       int     `json:"requests"`
	Parallel       int     `json:"parallel"`
	Subscribers    int     `json:"subscribers"`
	// What radclient counted in the run of the median rate (every
	// request must be accepted in every run).
	HKS        RadclientSummary `json:"hks_radclient"`
	PAP        RadclientSummary `json:"freeradius_radclient"`
	MeetsGoal  bool             `json:"meets_target"`
	Freeradius string           `json:"freeradius_version"`
}

// RadclientSummary is radclient -s's packet summary, the wall time, and
// the CPU time radclient and the server spent (user + system).
type RadclientSummary struct {
	Accepted, Rejected, Lost int
	Seconds                  float64 `json:"seconds"`
	RadclientCPUSeconds      float64 `json:"radclient_cpu_seconds"`
	// RadclientBusy is RadclientCPUSeconds / Seconds: near 1, the
	// generator is the bottleneck.
	RadclientBusy    float64 `json:"radclient_busy"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	// ServerCPUMicros is the server's CPU time per request.
	ServerCPUMicros float64 `json:"server_cpu_us_per_request"`
	// UDPInDatagrams is how many UDP datagrams the network namespace
	// received during the run (/proc/net/snmp; two per request without
	// retransmissions: the request and its answer), UDPRcvbufErrors how
	// many it dropped for a full socket buffer.
	UDPInDatagrams  int64 `json:"udp_in_datagrams"`
	UDPRcvbufErrors int64 `json:"udp_rcvbuf_errors"`
}

// HKSBenchRun is one measured run of one server.
type HKSBenchRun struct {
	Server string  `json:"server"` // "freeradius" or "hks"
	PerS   float64 `json:"per_s"`
	RadclientSummary
}

func (r HKSBenchResult) String() string {
	return fmt.Sprintf("%d requests per server, radclient -p %d, %d subscribers (%s)\n"+
		"  (medians of %d interleaved runs each)\n"+
		"  FreeRADIUS, PAP:            %9.0f/s  (%d accepted, %d rejected, %d lost, %.2f s; CPU: server %.1f µs/request, radclient %.2f s)\n"+
		"  fhkey hks, key requests:    %9.0f/s  (%d accepted, %d rejected, %d lost, %.2f s; CPU: server %.1f µs/request, radclient %.2f s)\n"+
		"  ratio hks / FreeRADIUS:     %9.2f    target >= 1: %s\n"+
		"  AR round trip per HKReq through FreeRADIUS: median %.3f ms, p99 %.3f ms (%d sequential)\n"+
		"                              directly to the HKS: median %.3f ms, p99 %.3f ms; added by the proxy: %.3f ms",
		r.Requests, r.Parallel, r.Subscribers, r.Freeradius, len(r.Runs)/2,
		r.FreeRADIUSPAPPerS, r.PAP.Accepted, r.PAP.Rejected, r.PAP.Lost, r.PAP.Seconds, r.PAP.ServerCPUMicros, r.PAP.RadclientCPUSeconds,
		r.HKSPerS, r.HKS.Accepted, r.HKS.Rejected, r.HKS.Lost, r.HKS.Seconds, r.HKS.ServerCPUMicros, r.HKS.RadclientCPUSeconds,
		r.Ratio, map[bool]string{true: "met", false: "MISSED"}[r.MeetsGoal],
		r.ProxyLatency.Median, r.ProxyLatency.P99, r.ProxyLatency.Samples,
		r.DirectLatency.Median, r.DirectLatency.P99, r.AddedByProxyMS)
}

// The bench's fixed identities: realm, AR, secrets (random per run).
var (
	benchAR  = netip.MustParseAddr("2001:db8:1::1")
	benchCoA = netip.MustParseAddr("2001:db8:1::100")
	loopback = netip.MustParseAddr("127.0.0.1")
)

const benchRealm = "example.com"

// BenchHKS loads FreeRADIUS 3.2 answering trivial PAP requests, then
// `fhkey hks` (node.OpenHKS over a memory store) answering key requests —
// HIK check, HK derivation, salt encryption, Message-Authenticator both
// ways — with the same generator, radclient -p Parallel, from the same
// cores, and reports both rates. Then it times the AR's round trip per
// HKReq through FreeRADIUS as a realm proxy, and directly. Every peer
// runs on loopback from cfg.Dir and is stopped at the end.
func BenchHKS(ctx context.Context, cfg HKSBenchConfig) (HKSBenchResult, error) {
	cfg.defaults()
	res := HKSBenchResult{Requests: cfg.Requests, Parallel: cfg.Parallel, Subscribers: cfg.Subscribers}
	radclient, err := exec.LookPath("radclient")
	if err != nil {
		return res, fmt.Errorf("scenario: bench hks: radclient (Debian: freeradius-utils): %w", err)
	}
	res.Freeradius = freeradiusVersion()
	hksSecret, frSecret := randomSecret(), randomSecret()

	// The HKS: the daemon's node, a memory store of cfg.Subscribers.
	store := subscribers.NewMemory()
	hmk := make([]byte, hokey.MinHMKLen)
	for i := range cfg.Subscribers {
		if _, err := rand.Read(hmk); err != nil {
			return res, err
		}
		if err := store.Put(ctx, &subscribers.Subscriber{NAI: benchNAI(i), HMK: hmk, Enabled: true}); err != nil {
			return res, err
		}
	}
	h, err := node.OpenHKS(node.HKSSpec{
		Listen:  netip.AddrPortFrom(loopback, 0),
		Clients: []radius.NASClient{{Name: "loopback", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: []byte(hksSecret)}},
		// A window wide enough for the pre-built requests of all the runs.
		Role: hks.Config{Subscribers: store, TimestampWindow: 10 * time.Minute},
	})
	if err != nil {
		return res, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- h.Serve(sctx) }()
	defer func() {
		stop()
		<-served
		h.Close()
	}()

	// FreeRADIUS: the PAP user and the realm proxied to the HKS.
	frAddr, err := freeUDPPort()
	if err != nil {
		return res, err
	}
	fr := &peer.FreeRADIUS{
		Dir: cfg.Dir, Listen: frAddr,
		Clients:      []peer.FreeRADIUSClient{{Name: "bench", Prefix: netip.PrefixFrom(loopback, 32), Secret: frSecret}},
		Proxy:        peer.ProxyConf(benchRealm, h.Addr(), hksSecret),
		PAPUsers:     map[string]string{"bench": "bench-password"},
		Dictionaries: []string{radius.FreeRADIUSDictionary()},
	}
	frServer, err := startBenchFreeRADIUS(ctx, fr)
	if err != nil {
		return res, err
	}
	defer frServer.Stop()
	fmt.Fprintf(cfg.Log, "FreeRADIUS on %s (pid %d), fhkey hks on %s\n", frAddr, frServer.Pid(), h.Addr())

	// The request files: PAP, and per HKS run its own key requests signed
	// beforehand (subscriber i mod S, Timestamps increasing per
	// subscriber across the runs).
	pap := filepath.Join(cfg.Dir, "pap.requests")
	if err := writeRequests(pap, cfg.Requests, func(w *bufio.Writer, _ int) error {
		_, err := w.WriteString("User-Name = \"bench\"\nUser-Password = \"bench-password\"\n\n")
		return err
	}); err != nil {
		return res, err
	}
	base := time.Now()
	perRun := (cfg.Requests + cfg.Subscribers - 1) / cfg.Subscribers // Timestamps a run uses per subscriber
	fmt.Fprintf(cfg.Log, "signing %d × %d HKReqs\n", cfg.Runs+1, cfg.Requests)
	keys := make([]string, cfg.Runs+1) // [0]: the warm-up
	for r := range keys {
		keys[r] = filepath.Join(cfg.Dir, fmt.Sprintf("hks-%d.requests", r))
		if err := writeRequests(keys[r], cfg.Requests, func(w *bufio.Writer, i int) error {
			ts := base.Add(time.Duration(r*perRun+i/cfg.Subscribers) * time.Millisecond)
			req, err := benchRequest(ctx, store, i%cfg.Subscribers, ts)
			if err != nil {
				return err
			}
			b, err := req.Sign()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "User-Name = %q\nNAS-Identifier = \"bench\"\nFHkey-AR-ID = %s\nFHkey-HKReq = 0x%x\nMessage-Authenticator = 0x00\n\n",
				req.NAI, req.AR, b)
			return err
		}); err != nil {
			return res, err
		}
	}

	// Interleaved: a warm-up run of each, then FreeRADIUS, HKS,
	// FreeRADIUS, HKS, ... with the same radclient invocation.
	frCPU := func() (time.Duration, error) { return pidCPU(frServer.Pid()) }
	selfCPU := func() (time.Duration, error) {
		u, s, err := ProcessCPU()
		return u + s, err
	}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	var frRuns, hksRuns []HKSBenchRun
	for r := range cfg.Runs + 1 {
		fmt.Fprintf(cfg.Log, "%s: radclient -p %d: %d PAP requests to FreeRADIUS, then %d key requests to fhkey hks\n",
			roundName(r), cfg.Parallel, cfg.Requests, cfg.Requests)
		fr, err := runRadclient(ctx, radclient, cfg, pap, frAddr, frSecret, frCPU)
		if err != nil {
			return res, fmt.Errorf("%w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
		}
		hk, err := runRadclient(ctx, radclient, cfg, keys[r], h.Addr(), hksSecret, selfCPU)
		if err != nil {
			return res, fmt.Errorf("%w\nHKS: %+v %+v", err, h.Role.Stats(), h.RADIUS.Stats())
		}
		if r == 0 {
			continue
		}
		frRuns = append(frRuns, HKSBenchRun{Server: "freeradius", PerS: float64(fr.Accepted) / fr.Seconds, RadclientSummary: fr})
		hksRuns = append(hksRuns, HKSBenchRun{Server: "hks", PerS: float64(hk.Accepted) / hk.Seconds, RadclientSummary: hk})
		res.Runs = append(res.Runs, frRuns[len(frRuns)-1], hksRuns[len(hksRuns)-1])
	}
	frMed, hksMed := medianRun(frRuns), medianRun(hksRuns)
	res.PAP, res.FreeRADIUSPAPPerS = frMed.RadclientSummary, frMed.PerS
	res.HKS, res.HKSPerS = hksMed.RadclientSummary, hksMed.PerS
	res.Ratio = res.HKSPerS / res.FreeRADIUSPAPPerS

	// The AR's round trip, through FreeRADIUS and directly.
	fmt.Fprintf(cfg.Log, "%d sequential key requests through FreeRADIUS, then directly\n", cfg.LatencySamples)
	if res.ProxyLatency, err = benchLatency(ctx, cfg, store, frAddr, frSecret); err != nil {
		return res, fmt.Errorf("through FreeRADIUS: %w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
	}
	if res.DirectLatency, err = benchLatency(ctx, cfg, store, h.Addr(), hksSecret); err != nil {
		return res, fmt.Errorf("directly: %w", err)
	}
	res.AddedByProxyMS = res.ProxyLatency.Median - res.DirectLatency.Median
	res.MeetsGoal = res.Ratio >= 1 // every run had every request accepted
	return res, nil
}

func (cfg *HKSBenchConfig) defaults() {
	if cfg.Requests <= 0 {
		cfg.Requests = 20000
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 256
	}
	if cfg.Subscribers <= 0 {
		cfg.Subscribers = cfg.Requests
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 3
	}
	if cfg.LatencySamples <= 0 {
		cfg.LatencySamples = 2000
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
}

func benchNAI(i int) string { return "mn" + strconv.Itoa(i) + "@" + benchRealm }

// benchRequest is the HKReq of subscriber i at ts, with a fresh MN-Nonce.
func benchRequest(ctx context.Context, store subscribers.Store, i int, ts time.Time) (hkstest.Request, error) {
	sub, err := store.Get(ctx, benchNAI(i))
	if err != nil {
		return hkstest.Request{}, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return hkstest.Request{}, err
	}
	return hkstest.Request{MessageID: uint8(i), PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256, NAI: sub.NAI, HMK: sub.HMK,
		MNNonce: nonce, Time: ts, CoA: benchCoA, AR: benchAR}, nil
}

// freeradiusVersion is "FreeRADIUS x.y.z" as `freeradius -v` says, or
// empty.
func freeradiusVersion() string {
	out, err := exec.Command("freeradius", "-v").CombinedOutput()
	if err != nil {
		return ""
	}
	if m := regexp.MustCompile(`Version ([0-9.]+)`).FindSubmatch(out); m != nil {
		return "FreeRADIUS " + string(m[1])
	}
	return ""
}

// roundName names round r of an interleaved bench in its log: round 0
// is the warm-up.
func roundName(r int) string {
	if r == 0 {
		return "warm-up"
	}
	return "run " + strconv.Itoa(r)
}

// medianRun returns the run of the median rate (the lower middle one of an
// even count).
func medianRun(runs []HKSBenchRun) HKSBenchRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b HKSBenchRun) int { return cmp.Compare(a.PerS, b.PerS) })
	return s[(len(s)-1)/2]
}

// writeRequests writes n radclient requests, each by write, to file.
func writeRequests(file string, n int, write func(w *bufio.Writer, i int) error) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		if err := write(w, i); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(w.Flush(), f.Close())
}

var radclientSummary = regexp.MustCompile(`(?m)^\s*(Accepted|Rejected|Lost)\s*:\s*(\d+)`)

// runRadclient sends file's requests to addr with radclient -p and times
// it, with the CPU time serverCPU reports spent meanwhile; the summary
// must show every request answered.
func runRadclient(ctx context.Context, radclient string, cfg HKSBenchConfig, file string, addr netip.AddrPort, secret string,
	serverCPU func() (time.Duration, error)) (RadclientSummary, error) {
	var s RadclientSummary
	dict := filepath.Join(cfg.Dir, "radclient")
	if err := os.MkdirAll(dict, 0o700); err != nil {
		return s, err
	}
	if err := peer.DictionaryDir(dict, radius.FreeRADIUSDictionary()); err != nil {
		return s, err
	}
	cmd := exec.CommandContext(ctx, radclient, "-p", strconv.Itoa(cfg.Parallel), "-q", "-s", "-r", "3", "-t", "2",
		"-d", dict, "-f", file, addr.String(), "auth", secret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	in0, drop0 := udpCounters()
	cpu0, cerr := serverCPU()
	start := time.Now()
	err := cmd.Run()
	s.Seconds = time.Since(start).Seconds()
	cpu1, cerr1 := serverCPU()
	in1, drop1 := udpCounters()
	s.UDPInDatagrams, s.UDPRcvbufErrors = in1-in0, drop1-drop0
	if cerr == nil && cerr1 == nil {
		s.ServerCPUSeconds = (cpu1 - cpu0).Seconds()
		s.ServerCPUMicros = s.ServerCPUSeconds * 1e6 / float64(cfg.Requests)
	}
	if ps := cmd.ProcessState; ps != nil {
		s.RadclientCPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
		s.RadclientBusy = s.RadclientCPUSeconds / s.Seconds
	}
	for _, m := range radclientSummary.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "Accepted":
			s.Accepted = n
		case "Rejected":
			s.Rejected = n
		case "Lost":
			s.Lost = n
		}
	}
	if s.Accepted != cfg.Requests {
		return s, fmt.Errorf("scenario: radclient: %d of %d accepted (%d rejected, %d lost), exit %v:\n%s",
			s.Accepted, cfg.Requests, s.Rejected, s.Lost, err, tailOf(out.String()))
	}
	return s, nil
}

// benchLatency times cfg.LatencySamples sequential RequestKey calls of
// an AR's radius.Client to addr.
func benchLatency(ctx context.Context, cfg HKSBenchConfig, store subscribers.Store, addr netip.AddrPort, secret string) (Latency, error) {
	c, err := radius.NewClient(radius.ClientConfig{
		Realms: map[string][]radius.HomeServer{benchRealm: {{Addr: addr, Secret: []byte(secret)}}},
		NAS:    radius.NAS{Identifier: "bench-ar"}, Timeout: 2 * time.Second, Tries: 1,
	})
	if err != nil {
		return Latency{}, err
	}
	defer c.Close()
	d := make([]time.Duration, 0, cfg.LatencySamples)
	for i := range cfg.LatencySamples {
		r, err := benchRequest(ctx, store, i%cfg.Subscribers, time.Now())
		if err != nil {
			return Latency{}, err
		}
		b, err := r.Sign()
		if err != nil {
			return Latency{}, err
		}
		start := time.Now()
		kr, err := c.RequestKey(ctx, aaa.KeyRequest{NAI: r.NAI, AR: r.AR, HKReq: b})
		took := time.Since(start)
		if err != nil || kr.Status != 0 {
			return Latency{}, fmt.Errorf("request %d: status %d, %w", i, kr.Status, err)
		}
		want, err := r.HK(kr.HKSNonce)
		if err != nil {
			return Latency{}, err
		}
		if !kr.HK.Equal(&want) {
			return Latency{}, fmt.Errorf("request %d: the HK received is not the one derived", i)
		}
		kr.HK.Zero()
		d = append(d, took)
	}
	slices.Sort(d)
	return latencyOf(d), nil
}

// udpCounters returns the network namespace's UDP InDatagrams and
// RcvbufErrors (/proc/net/snmp; zeros where it cannot be read).
func udpCounters() (in, rcvbufErrors int64) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, 0
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i := 1; i < len(f) && i < len(names); i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			switch names[i] {
			case "InDatagrams":
				in = v
			case "RcvbufErrors":
				rcvbufErrors = v
			}
		}
		break
	}
	return in, rcvbufErrors
}

func randomSecret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// freeUDPPort returns a loopback UDP address free a moment ago.
func freeUDPPort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

func tailOf(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
