package cli

import (
	"context"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/node"
)

// mip6Bootstrapper is the HAC client 'fhkey mip6' bootstraps with
// (internal/hac/hacclient through node.HACBootstrapper).
var mip6Bootstrapper node.MIP6BootstrapperFunc = node.HACBootstrapper

func runMIP6(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "mip6", "-c FILE [--check] [--keylog FILE]", `
Run the RFC 6618 mobile node (TLS-based Mobile IPv6 security, docs/mip6mn.md):
bootstrap an MN-HA security association with the Home Agent Controller over
TLS ([mip6tls]: hac, server_name, ca, identity, method psk with psk_file
(mode 0600) or eap with certificate and key), register the care-of address
with the home agent by a Binding Update sealed with that SA inside UDP
(RFC 6618 §6.3; retransmitted 1.5 s, 3 s, … 32 s until acknowledged,
refreshed at 3/4 of the granted lifetime), tunnel the home address's
traffic to the home agent (§6.4), re-register at once when the care-of
address of 'interface' changes, and bootstrap a new SA
'rebootstrap_margin' before mip6-sa-validity-end.
A separate command from 'fhkey mn': that daemon runs the FMIPv6 handover
keys (SEND, AAA, MSK) towards access routers; this one is a Mobile IPv6
client of a home agent, with its own keys, sockets and timers.
No privilege needed for the UDP tunnel. With 'tun' (root) the node
creates that TUN device with the home address: what applications send
from the home address is routed into it (ip -6 rule from HOA lookup 6618,
default dev TUN in table 6618) and tunnelled to the home agent, and what
the home agent returns is delivered through it. SIGTERM/SIGINT stop. /readyz,
/status (SA without keys, binding, counters), /metrics with [http] listen.
With --check: validate FILE and the files it names, exit 0 or 1.
Sample: examples/mip6.toml.`)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the files it names, then exit")
	keyLog := fs.String("keylog", "", "append the TLS secrets of the HAC connections to `FILE` (SSLKEYLOGFILE format, mode 0600; overrides [mip6tls] keylog)")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("-c FILE", *file); err != nil {
		return err
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckMIP6(*file))
	}
	return daemon.Run(ctx, node.MIP6Options(*file, env.Stderr, *keyLog, mip6Bootstrapper))
}
