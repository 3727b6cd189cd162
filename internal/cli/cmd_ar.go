package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/node"
)

func runAR(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ar", "-c FILE [--check]", `
Run the access router daemon: handover key provisioning over SEND-protected
RtSolPr/PrRtAdv (RFC 5269 §3.2) with certification path discovery (RFC 3971
§6.4), and, as previous access router, Fast Binding Updates authenticated
with the handover key (RFC 5269 §3.5, RFC 5568 §6.2.2) with optional
user-space forwarding of the previous care-of address's traffic. With
[aaa]: handover keys from a Handover Key Server over RADIUS (docs/aaa.md).
With [eap]: the IEEE 802.1X authenticator of the access link (EAPOL,
EAP relayed to RADIUS servers with failover), the MSK of each NAI kept in
the bbolt key store with Session-Timeout as lifetime, and FBUs signed
with the key derived from it accepted (MSK mode, docs/msk.md).
Needs CAP_NET_RAW (and CAP_NET_ADMIN for forwarding). SIGTERM/SIGINT stop,
SIGHUP reloads: log.level, [rate_limit], handover_keys.algorithms and
lifetime, forwarding.lifetime, [[neighbor]] and send.min_key_bits and
max_key_bits apply at once, without losing packets, keys or bindings; other
changes are logged and take effect at the next restart. With --check:
validate FILE and the files it names, print every problem, exit 0 or 1.
Configuration keys, permissions, metrics, systemd: docs/deployment.md;
samples: examples/ar.toml, ar-aaa.toml, ar-msk.toml.`)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the files it names, then exit")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *file == "" {
		return fmt.Errorf("%w: -c FILE is required", errUsage)
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckAR(*file, time.Now()))
	}
	return daemon.Run(ctx, node.AROptions(*file, env.Stderr))
}

// reportCheck prints the outcome of --check: every problem on its own line,
// or that the file is valid.
func reportCheck(w io.Writer, file string, err error) error {
	if err == nil {
		fmt.Fprintf(w, "%s: ok\n", file)
		return nil
	}
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(w, p.Error())
		}
		return &exitError{code: 1, err: fmt.Errorf("%s: %d problem(s)", file, len(ps))}
	}
	return &exitError{code: 1, err: err}
}
