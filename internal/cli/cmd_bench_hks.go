package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fhkey/fhkey/internal/scenario"
)

// runBenchHKS is `fhkey bench hks`: on loopback, no testbed, no root.
func runBenchHKS(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench hks", "[--requests N] [--parallel P] [--runs R] [--subscribers S] [--latency-samples L] [--cpuprofile FILE] [--json]", `
Load FreeRADIUS 3.2 answering trivial PAP requests, then fhkey hks
answering key requests (HIK check, HK derivation, salt encryption,
Message-Authenticator both ways), with the same generator (radclient -p P,
freeradius-utils) from the same cores, in one run on loopback: a warm-up run of each, then R
runs of each interleaved; print the median rates, their ratio and each run
(target: hks_per_s >= freeradius_pap_per_s). The PAP baseline is signed:
Message-Authenticator in request and answer, as FreeRADIUS >= 3.2.5 sends
every Access-Request and Access-Accept and as every key request carries;
the unsigned PAP of an older FreeRADIUS (3.2.1) is measured and printed
too (freeradius_pap_unsigned_per_s, ratio_unsigned). Then
time the AR's round trip per key request through FreeRADIUS as a realm
proxy, and directly (median, p99). Needs freeradius and radclient in PATH;
FreeRADIUS runs from a private directory, stopped at the end. Issue 11;
docs/aaa.md records what was measured.`)
	requests := fs.Int("requests", 20000, "requests radclient sends to each server")
	parallel := fs.Int("parallel", 256, "requests in flight (radclient -p)")
	runs := fs.Int("runs", 3, "measured runs of each server, interleaved (the medians are reported)")
	subscribers := fs.Int("subscribers", 0, "subscribers in the HKS's memory store (0: one per request; fewer risk replays, see docs/aaa.md)")
	latency := fs.Int("latency-samples", 2000, "sequential requests timed through FreeRADIUS, and directly")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the HKS) over the throughput runs to `FILE` (go tool pprof)")
	jsonOut := fs.Bool("json", false, `print {"hks_per_s":…, "freeradius_pap_per_s":…, "ratio":…, "proxy_latency_ms":{…}, …}`)
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if *requests < 1 || *parallel < 1 || *parallel > 65536 || *subscribers < 0 || *latency < 1 || *runs < 1 {
		return fmt.Errorf("%w: --requests, --parallel (at most 65536), --runs and --latency-samples must be positive, --subscribers not negative", errUsage)
	}
	dir, err := os.MkdirTemp("", "fhkey-bench-hks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := scenario.HKSBenchConfig{Requests: *requests, Parallel: *parallel, Runs: *runs, Subscribers: *subscribers,
		LatencySamples: *latency, Dir: dir, Log: env.Stderr}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.CPUProfile = f
	}
	res, err := scenario.BenchHKS(ctx, cfg)
	if err != nil {
		return err
	}
	if *jsonOut {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	fmt.Fprintln(env.Stdout, res.String())
	return nil
}
