package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// runBenchEAP is `fhkey bench eap`: FreeRADIUS on loopback, the
// authenticator on a veth pair between two network namespaces (root).
func runBenchEAP(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench eap", "[--parallel P] [--per-supplicant N] [--runs R] [--tls 1.2|1.3] [--prefix PREFIX] [--json]", `
Measure EAP-TLS authentications per second, in one run, against one
FreeRADIUS 3.2 EAP-TLS server on loopback (thread pool, no TLS session
cache: every authentication is a full handshake), with the same
certificates (ECDSA P-256), the same TLS version and P supplicants at once
on each side:

  eapol_test_direct_per_s  eapol_test (Debian eapoltest) straight to
                           FreeRADIUS: P slots, each running N eapol_test
                           processes in a row, one authentication each
  through_ar_per_s         Go supplicants (internal/eap/supplicant) on P
                           MAC addresses (macvlans of a veth end) through
                           the fhkey authenticator (EAPOL over AF_PACKET,
                           RADIUS relay, MSKs stored in bbolt), N each

A warm-up run of each, then R runs of each interleaved; the medians, their
ratio (through_ar / direct) and each run with the CPU time FreeRADIUS and
the client side spent are printed. Needs root, ip, freeradius and
eapol_test; everything runs from a private directory and network
namespaces named PREFIXa and PREFIXh, removed at the end. Issue 12;
docs/eap.md records what was measured.`)
	parallel := fs.Int("parallel", 8, "supplicants authenticating at once on each side")
	per := fs.Int("per-supplicant", 25, "authentications per supplicant (eapol_test slot) and run")
	runs := fs.Int("runs", 3, "measured runs of each side, interleaved (the medians are reported)")
	version := fs.String("tls", "1.2", "TLS version of both sides: 1.2 or 1.3")
	prefix := fs.String("prefix", "fhk-beap-", "network namespace prefix")
	jsonOut := fs.Bool("json", false, `print {"through_ar_per_s":…, "eapol_test_direct_per_s":…, "ratio":…, "runs":[…], …}`)
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	v, ok := map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[*version]
	if !ok {
		return fmt.Errorf("%w: --tls must be 1.2 or 1.3", errUsage)
	}
	if *parallel < 1 || *parallel > 256 || *per < 1 || *runs < 1 {
		return fmt.Errorf("%w: --parallel (at most 256), --per-supplicant and --runs must be positive", errUsage)
	}
	if !testbedPrefix.MatchString(*prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, *prefix)
	}
	if err := requireRoot(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fhkey-bench-eap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res, err := scenario.BenchEAP(ctx, scenario.EAPBenchConfig{Parallel: *parallel, PerSupplicant: *per, Runs: *runs,
		TLSVersion: v, Dir: dir, Prefix: *prefix, Log: env.Stderr})
	if err != nil {
		return err
	}
	return printBenchResult(env, *jsonOut, res)
}

// printBenchResult prints res as one JSON object (machine output) or as
// its String.
func printBenchResult(env *Env, jsonOut bool, res fmt.Stringer) error {
	if jsonOut {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	_, err := fmt.Fprintln(env.Stdout, res.String())
	return err
}
