package scenario

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/mh"
)

// Bench runs the testbed measurements of `fhkey bench` (docs/testbed.md):
// FBURTT, Forwarding, FBUThroughput and Flood, each on a testbed whose
// CGAs are assigned (AssignCGAs), with its files (key stores) in a
// directory of its own and its progress written to a log.
type Bench struct {
	tb    *testbed.Testbed
	creds *lab.Credentials
	dir   string
	log   io.Writer
}

// NewBench returns the measurements on tb with creds; dir holds their key
// stores, log receives progress lines.
func NewBench(tb *testbed.Testbed, creds *lab.Credentials, dir string, log io.Writer) *Bench {
	return &Bench{tb: tb, creds: creds, dir: dir, log: log}
}

func (b *Bench) startPAR(ctx context.Context) (*node.Router, error) {
	return StartRouter(ctx, b.tb, RouterConfig{Node: testbed.PAR, Credentials: b.creds.PAR, Anchors: b.creds.Anchors(),
		StorePath: filepath.Join(b.dir, "par.db"), Forwarding: true})
}

func (b *Bench) startMN(ctx context.Context) (*Mobile, error) {
	return StartMobile(ctx, b.tb, MobileConfig{Credentials: b.creds.MN, Anchors: b.creds.Anchors(),
		PAR: b.creds.PAR.CGA.Address, PreferredAT: hokey.HMACSHA256Trunc128})
}

// startPair starts the PAR and the MN; stop stops both.
func (b *Bench) startPair(ctx context.Context) (par *node.Router, m *Mobile, stop func(), err error) {
	if par, err = b.startPAR(ctx); err != nil {
		return nil, nil, nil, err
	}
	if m, err = b.startMN(ctx); err != nil {
		par.Stop()
		return nil, nil, nil, err
	}
	return par, m, func() { m.Close(); par.Stop() }, nil
}

// Quantiles of sorted durations, in milliseconds.
type Quantiles struct {
	Samples int     `json:"samples"`
	MinMS   float64 `json:"min_ms"`
	P50MS   float64 `json:"median_ms"`
	P90MS   float64 `json:"p90_ms"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
}

func quantilesOf(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	slices.Sort(d)
	ms := func(i int) float64 { return float64(d[i].Nanoseconds()) / 1e6 }
	return Quantiles{Samples: len(d), MinMS: ms(0), P50MS: ms(len(d) / 2), P90MS: ms(len(d) * 90 / 100), P99MS: ms(len(d) * 99 / 100), MaxMS: ms(len(d) - 1)}
}

// FBURTTResult is the outcome of FBURTT.
type FBURTTResult struct {
	Benchmark string    `json:"benchmark"`
	TargetMS  float64   `json:"target_median_ms"`
	RTT       Quantiles `json:"rtt"`
	Failures  int       `json:"failures"`
	MeetsGoal bool      `json:"meets_target"`
}

func (r FBURTTResult) String() string {
	return fmt.Sprintf("FBU -> FBack round trip, MN on the NAR's link -> PAR over raw MH sockets (%d samples, %d failed)\n"+
		"  min %.3f ms  median %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms   target median <= %.0f ms: %v",
		r.RTT.Samples, r.Failures, r.RTT.MinMS, r.RTT.P50MS, r.RTT.P90MS, r.RTT.P99MS, r.RTT.MaxMS, r.TargetMS, map[bool]string{true: "met", false: "MISSED"}[r.MeetsGoal])
}

// FBURTT provisions, moves and times n FastHandover exchanges (each FBU
// authenticated, verified, the binding replaced in the forwarder, the FBack
// authenticated and verified).
func (b *Bench) FBURTT(ctx context.Context, n int) (FBURTTResult, error) {
	res := FBURTTResult{Benchmark: "fbu-rtt", TargetMS: 1}
	par, m, stop, err := b.startPair(ctx)
	if err != nil {
		return res, err
	}
	defer stop()
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
