package cli

import (
	"context"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/node"
)

const haUsage = `Usage: fhkey ha -c FILE [--check]

The home agent of RFC 6618 (TLS-based Mobile IPv6 security), docs/ha.md;
sample: examples/ha.toml.

  -c FILE           run the daemon: take the security associations the Home
                    Agent Controller creates over the mutual-TLS HAC channel
                    ([hac_channel]), answer Binding Updates (PType 8) with
                    Binding Acknowledgements sealed with the same SA on the
                    Mobile IPv6 service port (UDP listen, default 7872), keep
                    the binding cache (home address → care-of address and
                    port, lifetime) and forward the mobile nodes' traffic
                    between the UDP tunnel and the home link (a TUN device
                    with a route per bound home address). SAs and bindings
                    persist in [state] path, so a restart keeps the bindings
                    that are still valid. Needs root (TUN, routes).
                    SIGTERM/SIGINT stop; SIGHUP reloads log.level (other
                    changes at the next restart). /readyz, /status (SAs
                    without keys, bindings, counters), /metrics with [http]
                    listen.
  -c FILE --check   validate FILE and the TLS files it names, exit 0 or 1

Binding cache rules, persistence, counters: docs/ha.md.
`

func runHA(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ha", "-c FILE [--check]", haUsage)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the TLS files it names, then exit")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("-c FILE", *file); err != nil {
		return err
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckHA(*file))
	}
	return daemon.Run(ctx, node.HAOptions(*file, env.Stderr))
}
