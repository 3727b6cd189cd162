package cli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

const benchDescription = `Measure the deployment figures of issue 5 on the network-namespace
testbed, over raw sockets (root):

  fbu-rtt         FBU -> FBack round trip from the NAR's link to the PAR
                  (N samples; median, p90, p99, max against the 1 ms target)
  forwarding      the CN's stream to the previous CoA across the move, with
                  and without FMIPv6 forwarding: datagrams lost, delay added
  fbu-throughput  valid FBUs per second at the access router over raw MH
                  sockets on loopback (a second socket generates FBUs and
                  counts FBacks); target 100,000/s on 2 cores
  flood           provisioning of a legitimate MN while a flood of invalid
                  (badly signed) RtSolPrs hits the access router

Each run builds its own testbed (--prefix) and removes it at the end.
docs/testbed.md records what was measured on the project's machine.`

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench", "fbu-rtt|forwarding|fbu-throughput|flood [flags]", benchDescription)
	prefix := fs.String("prefix", "fhk-bench-", "testbed namespace prefix")
	cacheDir := fs.String("cache-dir", "", "credentials cache directory (default: as fhkey demo)")
	n := fs.Int("n", 1000, "fbu-rtt: samples; forwarding: datagrams per run")
	spacing := fs.Duration("spacing", time.Millisecond, "forwarding: interval between the CN's datagrams")
	duration := fs.Duration("duration", 3*time.Second, "fbu-throughput, flood: length of the measurement")
	window := fs.Int("window", 256, "fbu-throughput: FBUs in flight")
	keys := fs.Int("keys", 1024, "fbu-throughput: distinct previous CoAs (keys) the FBUs cycle through")
	workers := fs.Int("workers", 0, "fbu-throughput: router goroutines reading the MH socket (0: GOMAXPROCS)")
	single := fs.Bool("single", false, "fbu-throughput: one packet per system call (no recvmmsg/sendmmsg), for comparison")
	floodRate := fs.Int("flood-rate", 20000, "flood: invalid RtSolPrs per second (0: as fast as possible)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		if err := parseFlags(env, fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: a benchmark is required: fbu-rtt, forwarding, fbu-throughput or flood", errUsage)
	}
	sub := args[0]
	if err := parseFlags(env, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	var run func(context.Context, *benchBed) (any, error)
	switch sub {
	case "fbu-rtt":
		run = func(ctx context.Context, b *benchBed) (any, error) { return b.fbuRTT(ctx, *n) }
	case "forwarding":
		run = func(ctx context.Context, b *benchBed) (any, error) { return b.forwarding(ctx, *n, *spacing) }
	case "fbu-throughput":
		run = func(ctx context.Context, b *benchBed) (any, error) {
			return b.fbuThroughput(ctx, *duration, *window, *keys, *workers, *single)
		}
	case "flood":
		run = func(ctx context.Context, b *benchBed) (any, error) { return b.flood(ctx, *duration, *floodRate) }
	default:
		return fmt.Errorf("%w: unknown benchmark %q", errUsage, sub)
	}
	if *n < 1 || *window < 1 || *keys < 1 || *keys > 65536 || *duration <= 0 || *floodRate < 0 {
		return fmt.Errorf("%w: --n, --window, --keys (at most 65536) and --duration must be positive", errUsage)
	}
	if !testbedPrefix.MatchString(*prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, *prefix)
	}
	if err := requireRoot(); err != nil {
		return err
	}
	if *cacheDir == "" {
		dir, err := lab.DefaultDir()
		if err != nil {
			return err
		}
		*cacheDir = dir
	}
	creds, err := lab.Load(ctx, *cacheDir, nil)
	if err != nil {
		return err
	}
	tb, err := testbed.Up(ctx, testbed.Config{Prefix: *prefix})
	if err != nil {
		return err
	}
	defer testbed.Down(context.WithoutCancel(ctx), *prefix)
	if err := scenario.AssignCGAs(ctx, tb, creds); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fhkey-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &benchBed{tb: tb, creds: creds, dir: dir, log: env.Stderr}
	res, err := run(ctx, b)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if s, ok := res.(fmt.Stringer); ok {
		fmt.Fprintln(env.Stdout, s.String())
	}
	return nil
}

// benchBed is a testbed with the credentials' CGAs assigned.
type benchBed struct {
	tb    *testbed.Testbed
	creds *lab.Credentials
	dir   string
	log   interface{ Write([]byte) (int, error) }
}

func (b *benchBed) startPAR(ctx context.Context) (*scenario.Router, error) {
	return scenario.StartRouter(ctx, b.tb, scenario.RouterConfig{Node: testbed.PAR, Credentials: b.creds.PAR, Anchors: b.creds.Anchors(),
		StorePath: filepath.Join(b.dir, "par.db"), Forwarding: true})
}

func (b *benchBed) startMN(ctx context.Context) (*scenario.Mobile, error) {
	return scenario.StartMobile(ctx, b.tb, scenario.MobileConfig{Credentials: b.creds.MN, Anchors: b.creds.Anchors(),
		PAR: b.creds.PAR.CGA.Address, PreferredAT: hokey.HMACSHA256Trunc128})
}

// quantiles of sorted durations, in milliseconds.
type quantiles struct {
	Samples int     `json:"samples"`
	MinMS   float64 `json:"min_ms"`
	P50MS   float64 `json:"median_ms"`
	P90MS   float64 `json:"p90_ms"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
}

func quantilesOf(d []time.Duration) quantiles {
	if len(d) == 0 {
		return quantiles{}
	}
	slices.Sort(d)
	ms := func(i int) float64 { return float64(d[i].Nanoseconds()) / 1e6 }
	return quantiles{Samples: len(d), MinMS: ms(0), P50MS: ms(len(d) / 2), P90MS: ms(len(d) * 90 / 100), P99MS: ms(len(d) * 99 / 100), MaxMS: ms(len(d) - 1)}
}

type fbuRTTResult struct {
	Benchmark string    `json:"benchmark"`
	TargetMS  float64   `json:"target_median_ms"`
	RTT       quantiles `json:"rtt"`
	Failures  int       `json:"failures"`
	MeetsGoal bool      `json:"meets_target"`
}

func (r fbuRTTResult) String() string {
	return fmt.Sprintf("FBU -> FBack round trip, MN on the NAR's link -> PAR over raw MH sockets (%d samples, %d failed)\n"+
		"  min %.3f ms  median %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms   target median <= %.0f ms: %v",
		r.RTT.Samples, r.Failures, r.RTT.MinMS, r.RTT.P50MS, r.RTT.P90MS, r.RTT.P99MS, r.RTT.MaxMS, r.TargetMS, map[bool]string{true: "met", false: "MISSED"}[r.MeetsGoal])
}

// fbuRTT provisions, moves and times n FastHandover exchanges (each FBU
// authenticated, verified, the binding replaced in the forwarder, the FBack
// authenticated and verified).
func (b *benchBed) fbuRTT(ctx context.Context, n int) (fbuRTTResult, error) {
	res := fbuRTTResult{Benchmark: "fbu-rtt", TargetMS: 1}
	par, err := b.startPAR(ctx)
	if err != nil {
		return res, err
	}
	defer par.Stop()
	m, err := b.startMN(ctx)
	if err != nil {
		return res, err
	}
	defer m.Close()
	if _, err := m.RequestKey(ctx, par.Address()); err != nil {
		return res, err
	}
	if err := m.Move(ctx); err != nil {
		return res, err
	}
	var d []time.Duration
	for range n {
		start := time.Now()
		ev, err := m.FastHandover(ctx, par.Address())
		took := time.Since(start)
		if err != nil || ev.Status != mh.FastStatusAccepted {
			res.Failures++
			continue
		}
		d = append(d, took)
	}
	res.RTT = quantilesOf(d)
	res.MeetsGoal = res.Failures == 0 && res.RTT.P50MS <= res.TargetMS
	return res, nil
}

type forwardingRun struct {
	Forwarding      bool                 `json:"fmipv6_forwarding"`
	Stream          scenario.StreamStats `json:"stream"`
	BeforeMove      scenario.StreamStats `json:"before_move"`
	AfterHandover   scenario.StreamStats `json:"after_handover"`
	HandoverMS      float64              `json:"handover_ms"`
	InterruptionMS  float64              `json:"interruption_ms"`
	DelayAddedP50MS float64              `json:"delay_added_median_ms"`
}

type forwardingResult struct {
	Benchmark string          `json:"benchmark"`
	SpacingMS float64         `json:"spacing_ms"`
	Runs      []forwardingRun `json:"runs"`
}

func (r forwardingResult) String() string {
	s := fmt.Sprintf("CN stream to the previous CoA across the move (%d datagrams, one every %.3f ms)\n", r.Runs[0].Stream.Sent, r.SpacingMS)
	for _, run := range r.Runs {
		name := "move without FMIPv6 forwarding"
		if run.Forwarding {
			name = "move + FBU, PAR tunnels PCoA -> NCoA"
		}
		s += fmt.Sprintf("  %-38s received %5d  lost %5d (%.0f ms of traffic)  move%s took %.1f ms  delay median %.3f ms (+%.3f ms)\n",
			name, run.Stream.Received, run.Stream.Lost, run.InterruptionMS, map[bool]string{true: "+FBU", false: ""}[run.Forwarding],
			run.HandoverMS, run.AfterHandover.DelayP50, run.DelayAddedP50MS)
	}
	return s[:len(s)-1]
}

// forwarding streams n datagrams from the CN to the PCoA and moves the MN
// at a third of the stream, first without an FBU, then with one.
func (b *benchBed) forwarding(ctx context.Context, n int, spacing time.Duration) (forwardingResult, error) {
	res := forwardingResult{Benchmark: "forwarding", SpacingMS: float64(spacing.Microseconds()) / 1e3}
	if n < 30 {
		return res, fmt.Errorf("%w: forwarding needs --n of at least 30", errUsage)
	}
	par, err := b.startPAR(ctx)
	if err != nil {
		return res, err
	}
	defer par.Stop()
	m, err := b.startMN(ctx)
	if err != nil {
		return res, err
	}
	defer m.Close()
	if _, err := m.RequestKey(ctx, par.Address()); err != nil {
		return res, err
	}
	recv, err := scenario.ListenUDP(b.tb, testbed.MN, netip.AddrPortFrom(m.PCoA.Address, 5999))
	if err != nil {
		return res, err
	}
	defer recv.Close()
	cn, err := scenario.NewSender(b.tb, testbed.CN, testbed.AddrCN)
	if err != nil {
		return res, err
	}
	defer cn.Close()
	for _, fwd := range []bool{false, true} {
		if fwd {
			if err := m.Return(ctx); err != nil {
				return res, err
			}
		}
		run := forwardingRun{Forwarding: fwd}
		moveAt := n / 3
		done := make(chan error, 1)
		var took time.Duration
		from, to, err := cn.Stream(ctx, netip.AddrPortFrom(m.PCoA.Address, 5999), n, spacing, func(i int) {
			if i != moveAt {
				return
			}
			go func() {
				start := time.Now()
				err := m.Move(ctx)
				if err == nil && fwd {
					_, err = m.FastHandover(ctx, par.Address())
				}
				took = time.Since(start)
				done <- err
			}()
		})
		if err != nil {
			return res, err
		}
		if err := <-done; err != nil {
			return res, err
		}
		recv.WaitQuiet(300*time.Millisecond, 5*time.Second)
		run.HandoverMS = float64(took.Microseconds()) / 1e3
		run.Stream = recv.Stats(from, to)
		run.BeforeMove = recv.Stats(from, from+uint64(moveAt))
		// "After the handover": the datagrams sent once the move (and FBU)
		// was surely over.
		after := from + uint64(moveAt) + uint64(took/spacing) + 10
		if after < to {
			run.AfterHandover = recv.Stats(after, to)
		}
		run.InterruptionMS = float64(run.Stream.Lost) * res.SpacingMS
		if run.AfterHandover.Received > 0 {
			run.DelayAddedP50MS = run.AfterHandover.DelayP50 - run.BeforeMove.DelayP50
		}
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

type throughputResult struct {
	Benchmark     string   `json:"benchmark"`
	Cores         int      `json:"cores"`
	Keys          int      `json:"keys"`
	Window        int      `json:"window"`
	Batched       bool     `json:"batched"`
	RouterWorkers int      `json:"router_workers"`
	Seconds       float64  `json:"seconds"`
	Sent          uint64   `json:"fbus_sent"`
	Acked         uint64   `json:"fbacks_status_0"`
	Rejected      uint64   `json:"fbacks_other_status"`
	Lost          uint64   `json:"fbus_unanswered"`
	PerSecond     float64  `json:"fbus_per_second"`
	PerSecondCore float64  `json:"fbus_per_second_per_core"`
	Target        float64  `json:"target_per_second"`
	CPUUser       float64  `json:"cpu_user_seconds"`
	CPUSystem     float64  `json:"cpu_system_seconds"`
	CPUPerFBU     float64  `json:"cpu_us_per_fbu"`
	Projected     float64  `json:"projected_fbus_per_core_second"`
	CPUOthers     float64  `json:"cpu_other_processes_seconds"`
	BuildSeconds  float64  `json:"prebuild_seconds"`
	Stale         uint64   `json:"router_stale"`
	Router        ar.Stats `json:"router"`
	TransportDrop uint64   `json:"transport_dropped"`
}

func (r throughputResult) String() string {
	mode := "batched (recvmmsg/sendmmsg)"
	if !r.Batched {
		mode = "one packet per system call"
	}
	return fmt.Sprintf("valid FBUs (Home Address option, BADF HMAC-SHA256-128) at the AR over raw MH sockets on loopback, %s, %d keys, %d in flight, %d router workers, %.1f s\n"+
		"  %d sent, %d FBack Status 0, %d other status, %d unanswered, %d stale, %d dropped by the transport\n"+
		"  %.0f FBUs/s on %d cores = %.0f per core   (target %.0f/s)\n"+
		"  process CPU (router + generator + kernel): %.2f s user + %.2f s system = %.2f us per FBU -> %.0f FBUs/s per fully used core\n"+
		"  other processes used %.2f CPU-seconds meanwhile (a busy machine lowers the rate)",
		mode, r.Keys, r.Window, r.RouterWorkers, r.Seconds, r.Sent, r.Acked, r.Rejected, r.Lost, r.Stale, r.TransportDrop,
		r.PerSecond, r.Cores, r.PerSecondCore, r.Target, r.CPUUser, r.CPUSystem, r.CPUPerFBU, r.Projected, r.CPUOthers)
}

// singleConn hides a Conn's batch methods (--single).
type singleConn struct{ netio.Conn }

// fbuThroughput runs an access router on a Mobility Header socket in the
// PAR's namespace and, from a second MH socket in the same namespace,
// sends valid FBUs (built before the run) for keys pre-installed in its
// store, counting the FBacks. The router's socket passes only FBUs and the
// generator's only FBacks (netio.MHConfig.Types): without the filters each
// raw MH socket of the namespace would also receive the other's packets.
func (b *benchBed) fbuThroughput(ctx context.Context, duration time.Duration, window, nkeys, workers int, single bool) (throughputResult, error) {
	res := throughputResult{Benchmark: "fbu-throughput", Cores: runtime.GOMAXPROCS(0), Keys: nkeys, Window: window, Target: 100000,
		Batched: !single, RouterWorkers: workers}
	if workers <= 0 {
		res.RouterWorkers = runtime.GOMAXPROCS(0)
	}
	parAddr := b.creds.PAR.CGA.Address
	ncoa := netip.MustParseAddr("2001:db8:99::1")
	if _, err := b.tb.IP(ctx, testbed.PAR, "-6", "addr", "add", ncoa.String()+"/128", "dev", "lo", "nodad"); err != nil {
		return res, err
	}
	var arConn, gen *netio.MHConn
	if err := b.tb.Do(testbed.PAR, func() error {
		var err error
		if arConn, err = netio.ListenMH(netio.MHConfig{Queue: 4096, ReceiveBuffer: 4 << 20, Types: []uint8{mh.TypeFastBindingUpdate}}); err != nil {
			return err
		}
		gen, err = netio.ListenMH(netio.MHConfig{Queue: 4096, ReceiveBuffer: 4 << 20, Types: []uint8{mh.TypeFastBindingAcknowledgment}})
		return err
	}); err != nil {
		return res, err
	}
	defer arConn.Close()
	defer gen.Close()
	store := keystore.NewMemory()
	defer store.Close()
	at := hokey.HMACSHA256Trunc128
	now := time.Now()
	flows := make([]scenario.FBUFlow, nkeys)
	for i := range flows {
		a := testbed.PrefixPARLink.Addr().As16()
		a[13], a[14], a[15] = 0x10, byte(i>>8), byte(i)
		k, err := hokey.GenerateKey(at, rand.Reader)
		if err != nil {
			return res, err
		}
		flows[i] = scenario.FBUFlow{PreviousCoA: netip.AddrFrom16(a), Key: &k}
		rec := keystore.Record{AR: parAddr, MN: flows[i].PreviousCoA, AT: uint8(at), KeyLen: uint8(at.KeyLen()), Created: now, Expires: now.Add(time.Hour)}
		copy(rec.Key[:], k.Bytes())
		if err := store.Put(&rec); err != nil {
			return res, err
		}
	}
	router, err := ar.New(ar.Config{Address: parAddr, Parameters: b.creds.PAR.CGA.Parameters, Signer: b.creds.PAR.Key, Store: store,
		ForwardingLifetime: time.Minute})
	if err != nil {
		return res, err
	}
	// FBUs built before the run, enough for 250,000/s; the run ends
	// early if they run out.
	count := min(int(duration.Seconds()*250000)+1, 32767*nkeys)
	fmt.Fprintf(b.log, "fbu-throughput: building %d FBUs for %d keys\n", count, nkeys)
	load, err := scenario.BuildFBULoad(scenario.FBULoadConfig{Router: parAddr, NewCoA: ncoa, Flows: flows, Count: count,
		Window: window, Duration: duration, Single: single})
	if err != nil {
		return res, err
	}
	res.BuildSeconds = load.BuildTime.Seconds()
	var arSide, genSide netio.Conn = arConn, gen
	if single {
		arSide, genSide = singleConn{arConn}, singleConn{gen}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go router.Serve(sctx, arSide, workers)

	fmt.Fprintf(b.log, "fbu-throughput: %d in flight, %v\n", window, duration)
	runtime.GC()
	u0, s0, err := scenario.ProcessCPU()
	if err != nil {
		return res, err
	}
	m0, err := scenario.MachineCPU()
	if err != nil {
		return res, err
	}
	run, err := load.Run(ctx, genSide)
	if err != nil {
		return res, err
	}
	u1, s1, err := scenario.ProcessCPU()
	if err != nil {
		return res, err
	}
	m1, err := scenario.MachineCPU()
	if err != nil {
		return res, err
	}
	res.CPUOthers = max(0, (m1 - m0 - (u1 - u0) - (s1 - s0)).Seconds())
	stop()
	res.Seconds = run.Elapsed.Seconds()
	res.Sent, res.Acked, res.Rejected, res.Lost = run.Sent, run.Accepted, run.Rejected, run.Lost
	res.PerSecond = float64(res.Acked) / res.Seconds
	res.PerSecondCore = res.PerSecond / float64(res.Cores)
	res.CPUUser, res.CPUSystem = (u1 - u0).Seconds(), (s1 - s0).Seconds()
	if res.Acked > 0 {
		res.CPUPerFBU = (res.CPUUser + res.CPUSystem) / float64(res.Acked) * 1e6
		res.Projected = 1e6 / res.CPUPerFBU
	}
	res.Router = router.Stats()
	res.Stale = res.Router.FBUStale
	res.TransportDrop = arConn.Dropped()
	return res, nil
}

type floodPhase struct {
	Flooding    bool      `json:"flooding"`
	Requests    int       `json:"requests"`
	Provisioned int       `json:"provisioned"`
	Latency     quantiles `json:"latency"`
	FloodSent   uint64    `json:"flood_sent"`
	Router      ar.Stats  `json:"router"`
}

type floodResult struct {
	Benchmark string       `json:"benchmark"`
	FloodRate int          `json:"flood_rate_target"`
	Phases    []floodPhase `json:"phases"`
}

func (r floodResult) String() string {
	s := "legitimate MN provisioning (one RtSolPr exchange every 500 ms) with and without a flood of badly signed RtSolPrs\n"
	for _, p := range r.Phases {
		s += fmt.Sprintf("  flood %-5v  %d/%d provisioned, latency median %.2f ms p99 %.2f ms; flood %d sent (%.0f/s); router: %d SEND failures, rate-limited %d source / %d key / %d total\n",
			p.Flooding, p.Provisioned, p.Requests, p.Latency.P50MS, p.Latency.P99MS, p.FloodSent, float64(p.FloodSent)/float64(p.Requests)*2,
			p.Router.RtSolPrSENDFailed, p.Router.RateLimitedSource, p.Router.RateLimitedKey, p.Router.RateLimitedTotal)
	}
	return s[:len(s)-1]
}

// flood measures the legitimate MN's provisioning while 64 flooders on the
// PAR's link, each with a valid CGA (Sec 0) of one attacker key, send
// RtSolPrs whose RSA signature is corrupted: each costs the PAR a CGA check
// and, within the rate limits, an RSA verification.
func (b *benchBed) flood(ctx context.Context, duration time.Duration, rate int) (floodResult, error) {
	res := floodResult{Benchmark: "flood", FloodRate: rate}
	par, err := b.startPAR(ctx)
	if err != nil {
		return res, err
	}
	defer par.Stop()
	m, err := b.startMN(ctx)
	if err != nil {
		return res, err
	}
	defer m.Close()
	fmt.Fprintf(b.log, "flood: generating the attacker's key and CGAs\n")
	attKey, err := rsa.GenerateKey(rand.Reader, b.creds.Bits)
	if err != nil {
		return res, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&attKey.PublicKey)
	if err != nil {
		return res, err
	}
	attacker, err := mn.New(mn.Config{Key: attKey, Authorizer: &mn.CertCache{Cache: certpath.NewCache(1)}})
	if err != nil {
		return res, err
	}
	var floods [][]byte
	var srcs []netip.Addr
	for range 64 {
		g, err := cga.Generate(ctx, testbed.PrefixPARLink, spki, 0, nil)
		if err != nil {
			return res, err
		}
		if _, err := b.tb.IP(ctx, testbed.MN, "-6", "addr", "add", g.Address.String()+"/64", "dev", testbed.IfaceMNToPAR, "nodad"); err != nil {
			return res, err
		}
		p, err := attacker.Solicit(par.Address(), mn.CareOf{Address: g.Address, Parameters: g.Parameters})
		if err != nil {
			return res, err
		}
		p.Payload[len(p.Payload)-1] ^= 0xff // inside the RSA Signature option's padding or signature
		p.Payload[len(p.Payload)-40] ^= 0xff
		floods = append(floods, p.Payload)
		srcs = append(srcs, g.Address)
	}
	var fconn *netio.ICMPConn
	if err := b.tb.Do(testbed.MN, func() error {
		var err error
		fconn, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceMNToPAR, Types: []uint8{255}})
		return err
	}); err != nil {
		return res, err
	}
	defer fconn.Close()
	for _, flooding := range []bool{false, true} {
		before := par.Role.Stats()
		fctx, fstop := context.WithCancel(ctx)
		var fsent atomic.Uint64
		var wg sync.WaitGroup
		if flooding {
			wg.Go(func() {
				start := time.Now()
				for i := 0; fctx.Err() == nil; i++ {
					if rate > 0 {
						if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
							time.Sleep(d)
						}
					}
					k := i % len(floods)
					if fconn.WritePacket(fctx, netio.Packet{Src: srcs[k], Dst: par.Address(), HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Payload: floods[k]}) == nil {
						fsent.Add(1)
					}
				}
			})
		}
		phase := floodPhase{Flooding: flooding}
		var lat []time.Duration
		tick := time.NewTicker(500 * time.Millisecond)
		end := time.Now().Add(duration)
		for time.Now().Before(end) {
			start := time.Now()
			ev, err := m.RequestKey(ctx, par.Address())
			phase.Requests++
			if err == nil && ev.Kind == mn.KeyProvisioned {
				phase.Provisioned++
				lat = append(lat, time.Since(start))
			} else if err != nil && !errors.Is(err, mn.ErrNoAnswer) {
				fstop()
				wg.Wait()
				tick.Stop()
				return res, err
			}
			<-tick.C
		}
		tick.Stop()
		fstop()
		wg.Wait()
		phase.Latency = quantilesOf(lat)
		phase.FloodSent = fsent.Load()
		phase.Router = statsDelta(par.Role.Stats(), before)
		res.Phases = append(res.Phases, phase)
	}
	return res, nil
}

// statsDelta returns the counters of a minus those of b, field by field.
func statsDelta(a, b ar.Stats) ar.Stats {
	return ar.Stats{RtSolPrReceived: a.RtSolPrReceived - b.RtSolPrReceived, RtSolPrMalformed: a.RtSolPrMalformed - b.RtSolPrMalformed,
		RtSolPrCGAFailed: a.RtSolPrCGAFailed - b.RtSolPrCGAFailed, RtSolPrSENDFailed: a.RtSolPrSENDFailed - b.RtSolPrSENDFailed,
		RateLimitedSource: a.RateLimitedSource - b.RateLimitedSource, RateLimitedKey: a.RateLimitedKey - b.RateLimitedKey,
		RateLimitedTotal: a.RateLimitedTotal - b.RateLimitedTotal, UnsecuredSuppressed: a.UnsecuredSuppressed - b.UnsecuredSuppressed,
		KeysCreated: a.KeysCreated - b.KeysCreated, KeysReused: a.KeysReused - b.KeysReused, PrRtAdvSent: a.PrRtAdvSent - b.PrRtAdvSent,
		PrRtAdvWithoutKey: a.PrRtAdvWithoutKey - b.PrRtAdvWithoutKey}
}
