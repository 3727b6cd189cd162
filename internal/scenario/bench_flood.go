package scenario

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testbed"
)

// FloodPhase is one phase of Flood.
type FloodPhase struct {
	Flooding    bool      `json:"flooding"`
	Requests    int       `json:"requests"`
	Provisioned int       `json:"provisioned"`
	Latency     Quantiles `json:"latency"`
	FloodSent   uint64    `json:"flood_sent"`
	Router      ar.Stats  `json:"router"`
}

// FloodResult is the outcome of Flood.
type FloodResult struct {
	Benchmark string       `json:"benchmark"`
	FloodRate int          `json:"flood_rate_target"`
	Phases    []FloodPhase `json:"phases"`
}

func (r FloodResult) String() string {
	s := "legitimate MN provisioning (one RtSolPr exchange every 500 ms) with and without a flood of badly signed RtSolPrs\n"
	for _, p := range r.Phases {
		s += fmt.Sprintf("  flood %-5v  %d/%d provisioned, latency median %.2f ms p99 %.2f ms; flood %d sent (%.0f/s); router: %d SEND failures, rate-limited %d source / %d key / %d total\n",
			p.Flooding, p.Provisioned, p.Requests, p.Latency.P50MS, p.Latency.P99MS, p.FloodSent, float64(p.FloodSent)/float64(p.Requests)*2,
			p.Router.RtSolPrSENDFailed, p.Router.RateLimitedSource, p.Router.RateLimitedKey, p.Router.RateLimitedTotal)
	}
	return s[:len(s)-1]
}

// Flood measures the legitimate MN's provisioning while 64 flooders on the
// PAR's link, each with a valid CGA (Sec 0) of one attacker key, send
// RtSolPrs whose RSA signature is corrupted: each costs the PAR a CGA check
// and, within the rate limits, an RSA verification.
func (b *Bench) Flood(ctx context.Context, duration time.Duration, rate int) (FloodResult, error) {
	res := FloodResult{Benchmark: "flood", FloodRate: rate}
	par, m, stop, err := b.startPair(ctx)
	if err != nil {
		return res, err
	}
	defer stop()
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
		phase := FloodPhase{Flooding: flooding}
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
