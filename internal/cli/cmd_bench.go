package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

const benchDescription = `Measure the deployment figures. On the network-namespace testbed, over
raw sockets (root):

  fbu-rtt         FBU -> FBack round trip from the NAR's link to the PAR
                  (N samples; median, p90, p99, max against the 1 ms target)
  forwarding      the CN's stream to the previous CoA across the move, with
                  and without FMIPv6 forwarding: datagrams lost, delay added
  fbu-throughput  valid FBUs per second at the access router over raw MH
                  sockets on loopback (a second socket generates FBUs and
                  counts FBacks); target 100,000/s on 2 cores
  flood           provisioning of a legitimate MN while a flood of invalid
                  (badly signed) RtSolPrs hits the access router
  hks             fhkey hks against FreeRADIUS 3.2 (PAP) with radclient, on
                  loopback, no root: 'fhkey bench hks --help'
  eap             EAP-TLS authentications per second through the fhkey
                  authenticator against eapol_test straight to FreeRADIUS
                  (root): 'fhkey bench eap --help'
  tls             RFC 6618: HAC bootstraps per second against bare TLS 1.3
                  handshakes, the MN->HA data plane against plain UDP, on
                  loopback, no root: 'fhkey bench tls --help'

Each run builds its own testbed (--prefix) and removes it at the end.
docs/testbed.md records what was measured on the project's machine.

forwarding --plot FILE.svg also draws the two runs: every datagram's
sequence number against its arrival time at the MN (ms from the start of
the move), the link change, the FBU sent and the FBack received as lines;
the datagrams lost appear as the gap (docs/handover-forwarding.svg). It
works with --json, whose summary has the event times but not the
per-datagram arrivals.`

func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "hks" {
		return runBenchHKS(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "eap" {
		return runBenchEAP(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "tls" {
		return runBenchTLS(ctx, env, args[1:])
	}
	fs := newFlagSet(env, "bench", "fbu-rtt|forwarding|fbu-throughput|flood|hks|eap|tls [flags]", benchDescription)
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
	plotFile := fs.String("plot", "", "forwarding: draw the stream across the move, both runs, to this SVG file")
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		if err := parseFlags(env, fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: a benchmark is required: fbu-rtt, forwarding, fbu-throughput, flood, hks, eap or tls", errUsage)
	}
	sub := args[0]
	if err := parseFlags(env, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	var run func(context.Context, *scenario.Bench) (any, error)
	switch sub {
	case "fbu-rtt":
		run = func(ctx context.Context, b *scenario.Bench) (any, error) { return b.FBURTT(ctx, *n) }
	case "forwarding":
		run = func(ctx context.Context, b *scenario.Bench) (any, error) { return b.Forwarding(ctx, *n, *spacing) }
	case "fbu-throughput":
		run = func(ctx context.Context, b *scenario.Bench) (any, error) {
			return b.FBUThroughput(ctx, *duration, *window, *keys, *workers, *single)
		}
	case "flood":
		run = func(ctx context.Context, b *scenario.Bench) (any, error) { return b.Flood(ctx, *duration, *floodRate) }
	default:
		return fmt.Errorf("%w: unknown benchmark %q", errUsage, sub)
	}
	if *n < 1 || *window < 1 || *keys < 1 || *keys > 65536 || *duration <= 0 || *floodRate < 0 {
		return fmt.Errorf("%w: --n, --window, --keys (at most 65536) and --duration must be positive", errUsage)
	}
	if sub == "forwarding" && *n < 30 {
		return fmt.Errorf("%w: forwarding needs --n of at least 30", errUsage)
	}
	if *plotFile != "" && sub != "forwarding" {
		return fmt.Errorf("%w: --plot is for forwarding only", errUsage)
	}
	if !testbedPrefix.MatchString(*prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, *prefix)
	}
	if err := requireRoot(); err != nil {
		return err
	}
	// The plot's file is created before the measurement, so that a bad
	// path does not waste it, and removed if nothing is written to it.
	var plotOut *os.File
	if *plotFile != "" {
		f, err := os.Create(*plotFile)
		if err != nil {
			return err
		}
		plotOut = f
		defer func() {
			if plotOut != nil {
				plotOut.Close()
				os.Remove(*plotFile)
			}
		}()
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
	b := scenario.NewBench(tb, creds, dir, env.Stderr)
	res, err := run(ctx, b)
	if err != nil {
		return err
	}
	if fr, ok := res.(scenario.ForwardingResult); ok && plotOut != nil {
		err := fr.Figure().WriteSVG(plotOut)
		if cerr := plotOut.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		plotOut = nil
		fmt.Fprintf(env.Stderr, "plot written to %s\n", *plotFile)
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
