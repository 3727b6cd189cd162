package scenario

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
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

// The bench's fixed identities: realm, AR, secrets (random per run).
var (
	benchAR  = netip.MustParseAddr("2001:db8:1::1")
	benchCoA = netip.MustParseAddr("2001:db8:1::100")
	loopback = netip.MustParseAddr("127.0.0.1")
)

const benchRealm = "example.com"

// BenchHKS loads FreeRADIUS 3.2 answering trivial PAP requests (with
// Message-Authenticator both ways, then without), then `fhkey hks`
// (node.OpenHKS over a memory store) answering key requests — HIK check,
// HK derivation, salt encryption, Message-Authenticator both ways — with
// the same generator, radclient -p Parallel, from the same cores, and
// reports the rates. Then it times the AR's round trip per
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

	// FreeRADIUS: the PAP users (signed and unsigned answers) and the
	// realm proxied to the HKS.
	frAddr, err := freeUDPPort()
	if err != nil {
		return res, err
	}
	fr := &peer.FreeRADIUS{
		Dir: cfg.Dir, Listen: frAddr,
		Clients:        []peer.FreeRADIUSClient{{Name: "bench", Prefix: netip.PrefixFrom(loopback, 32), Secret: frSecret}},
		Proxy:          peer.ProxyConf(benchRealm, h.Addr(), hksSecret),
		PAPUsers:       map[string]string{"bench": "bench-password", "bench-signed": "bench-password"},
		SignedPAPUsers: []string{"bench-signed"},
		Dictionaries:   []string{radius.FreeRADIUSDictionary()},
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
	pap, signedPAP := filepath.Join(cfg.Dir, "pap.requests"), filepath.Join(cfg.Dir, "pap-signed.requests")
	if err := writeRequests(pap, cfg.Requests, func(w *bufio.Writer, _ int) error {
		_, err := w.WriteString("User-Name = \"bench\"\nUser-Password = \"bench-password\"\n\n")
		return err
	}); err != nil {
		return res, err
	}
	// Message-Authenticator first, as radclient >= 3.2.5 places it.
	if err := writeRequests(signedPAP, cfg.Requests, func(w *bufio.Writer, _ int) error {
		_, err := w.WriteString("Message-Authenticator = 0x00\nUser-Name = \"bench-signed\"\nUser-Password = \"bench-password\"\n\n")
		return err
	}); err != nil {
		return res, err
	}
	base := time.Now()
	perRun := (cfg.Requests + cfg.Subscribers - 1) / cfg.Subscribers // Timestamps a run uses per subscriber
	fmt.Fprintf(cfg.Log, "signing %d × %d HKReqs\n", cfg.Runs+1, cfg.Requests)
	// Per round two request files: the draft's algorithms (PRF 1, MAC 1:
	// HMAC-SHA1, 20-octet keys), the target's figure, then fhkey's
	// HMAC-SHA256 extension (PRF 2, MAC 2, 32-octet keys); Timestamps
	// increase per subscriber in the order the files are sent.
	keys := make([][2]string, cfg.Runs+1) // [0]: the warm-up
	for r := range keys {
		for k, alg := range benchAlgorithms {
			keys[r][k] = filepath.Join(cfg.Dir, fmt.Sprintf("hks-%s-%d.requests", alg.name, r))
			slot := 2*r + k
			if err := writeRequests(keys[r][k], cfg.Requests, func(w *bufio.Writer, i int) error {
				ts := base.Add(time.Duration(slot*perRun+i/cfg.Subscribers) * time.Millisecond)
				req, err := benchRequest(ctx, store, i%cfg.Subscribers, ts, alg.prf, alg.mac)
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
	}

	// Interleaved: a warm-up run of each, then signed PAP, unsigned PAP,
	// HKS, signed PAP, ... with the same radclient invocation.
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
	var signedRuns, unsignedRuns, hksRuns, sha256Runs []HKSBenchRun
	for r := range cfg.Runs + 1 {
		fmt.Fprintf(cfg.Log, "%s: radclient -p %d: %d PAP requests to FreeRADIUS (signed, then unsigned), then %d key requests to fhkey hks (HMAC-SHA1, then HMAC-SHA256)\n",
			roundName(r), cfg.Parallel, cfg.Requests, cfg.Requests)
		signed, err := runRadclient(ctx, radclient, cfg, signedPAP, frAddr, frSecret, frCPU)
		if err != nil {
			return res, fmt.Errorf("signed PAP: %w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
		}
		unsigned, err := runRadclient(ctx, radclient, cfg, pap, frAddr, frSecret, frCPU)
		if err != nil {
			return res, fmt.Errorf("PAP: %w\nFreeRADIUS: %s", err, tailOf(frServer.Output()))
		}
		hk, err := runRadclient(ctx, radclient, cfg, keys[r][0], h.Addr(), hksSecret, selfCPU)
		if err != nil {
			return res, fmt.Errorf("%w\nHKS: %+v %+v", err, h.Role.Stats(), h.RADIUS.Stats())
		}
		hk256, err := runRadclient(ctx, radclient, cfg, keys[r][1], h.Addr(), hksSecret, selfCPU)
		if err != nil {
			return res, fmt.Errorf("HMAC-SHA256: %w\nHKS: %+v %+v", err, h.Role.Stats(), h.RADIUS.Stats())
		}
		if r == 0 {
			continue
		}
		signedRuns = append(signedRuns, benchRun("freeradius", signed))
		unsignedRuns = append(unsignedRuns, benchRun("freeradius-unsigned", unsigned))
		hksRuns = append(hksRuns, benchRun("hks", hk))
		sha256Runs = append(sha256Runs, benchRun("hks-sha256", hk256))
		res.Runs = append(res.Runs, signedRuns[r-1], unsignedRuns[r-1], hksRuns[r-1], sha256Runs[r-1])
	}
	signedMed, unsignedMed, hksMed := medianRun(signedRuns), medianRun(unsignedRuns), medianRun(hksRuns)
	res.PAP, res.FreeRADIUSPAPPerS = signedMed.RadclientSummary, signedMed.PerS
	res.UnsignedPAP, res.FreeRADIUSUnsignedPAPPerS = unsignedMed.RadclientSummary, unsignedMed.PerS
	res.HKS, res.HKSPerS = hksMed.RadclientSummary, hksMed.PerS
	res.Ratio = res.HKSPerS / res.FreeRADIUSPAPPerS
	res.RatioUnsigned = res.HKSPerS / res.FreeRADIUSUnsignedPAPPerS
	res.HKSPerSWall, res.FreeRADIUSPAPPerSWall = medianWall(hksRuns), medianWall(signedRuns)
	res.RatioWall = res.HKSPerSWall / res.FreeRADIUSPAPPerSWall
	res.HKSSHA256PerS = medianRun(sha256Runs).PerS
	res.RatioSHA256 = res.HKSSHA256PerS / res.FreeRADIUSPAPPerS

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
// benchAlgorithms are the key requests' algorithms, per round in this
// order: the draft's HMAC-SHA1 (the target's figure), then fhkey's
// HMAC-SHA256 extension (docs/aaa.md).
var benchAlgorithms = [2]struct {
	name string
	prf  hokey.PRF
	mac  hokey.MACAlgorithm
}{{"sha1", hokey.PRFHMACSHA1, hokey.MACHMACSHA1}, {"sha256", hokey.PRFHMACSHA256, hokey.MACHMACSHA256}}

func benchRequest(ctx context.Context, store subscribers.Store, i int, ts time.Time, prf hokey.PRF, mac hokey.MACAlgorithm) (hkstest.Request, error) {
	sub, err := store.Get(ctx, benchNAI(i))
	if err != nil {
		return hkstest.Request{}, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return hkstest.Request{}, err
	}
	return hkstest.Request{MessageID: uint8(i), PRF: prf, MAC: mac, NAI: sub.NAI, HMK: sub.HMK,
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
		r, err := benchRequest(ctx, store, i%cfg.Subscribers, time.Now(), benchAlgorithms[0].prf, benchAlgorithms[0].mac)
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
