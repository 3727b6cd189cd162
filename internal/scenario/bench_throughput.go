package scenario

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// ThroughputResult is the outcome of FBUThroughput.
type ThroughputResult struct {
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

func (r ThroughputResult) String() string {
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

// FBUThroughput runs an access router on a Mobility Header socket in the
// PAR's namespace and, from a second MH socket in the same namespace,
// sends valid FBUs (built before the run) for keys pre-installed in its
// store, counting the FBacks. The router's socket passes only FBUs and the
// generator's only FBacks (netio.MHConfig.Types): without the filters each
// raw MH socket of the namespace would also receive the other's packets.
func (b *Bench) FBUThroughput(ctx context.Context, duration time.Duration, window, nkeys, workers int, single bool) (ThroughputResult, error) {
	res := ThroughputResult{Benchmark: "fbu-throughput", Cores: runtime.GOMAXPROCS(0), Keys: nkeys, Window: window, Target: 100000,
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
	flows := make([]FBUFlow, nkeys)
	for i := range flows {
		a := testbed.PrefixPARLink.Addr().As16()
		a[13], a[14], a[15] = 0x10, byte(i>>8), byte(i)
		k, err := hokey.GenerateKey(at, rand.Reader)
		if err != nil {
			return res, err
		}
		flows[i] = FBUFlow{PreviousCoA: netip.AddrFrom16(a), Key: &k}
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
	load, err := BuildFBULoad(FBULoadConfig{Router: parAddr, NewCoA: ncoa, Flows: flows, Count: count,
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
	u0, s0, err := ProcessCPU()
	if err != nil {
		return res, err
	}
	m0, err := MachineCPU()
	if err != nil {
		return res, err
	}
	run, err := load.Run(ctx, genSide)
	if err != nil {
		return res, err
	}
	u1, s1, err := ProcessCPU()
	if err != nil {
		return res, err
	}
	m1, err := MachineCPU()
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
