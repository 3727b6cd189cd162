package cli

import (
	"context"
	"fmt"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/node"
)

func runMN(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "mn", "-c FILE [--check]", `
Run the mobile node daemon: obtain handover keys from the access routers of
the current link for the care-of CGA there (RFC 5269 §3.1, §3.3) at start,
after each handover and again before HK-LIFETIME runs out. The node has one
link ('interface', 'cga') or two (and [handover] new_interface, new_cga):
each time the other link's CGA becomes usable, it sends the Fast Binding
Update authenticated with the key to the router it leaves (RFC 5568 §6.2.3,
RFC 5269 §3.4), and decapsulates that router's tunnel when [decapsulation]
is enabled; moving back and forth works the same way. With [eap] (the MSK
mode, docs/msk.md) the node first authenticates on each link with EAP-TLS
over EAPOL (802.1X) and signs the FBU with the key derived from the MSK it
shares with the router it leaves (sample: examples/mn-msk.toml).
Needs CAP_NET_RAW (and CAP_NET_ADMIN for decapsulation). SIGTERM/SIGINT stop,
SIGHUP reloads (log.level applies at once; other changes at the next
restart). With --check: validate FILE and the files it names, print every
problem, exit 0 or 1.
Configuration keys, permissions, metrics, systemd: docs/deployment.md;
sample: examples/mn.toml.`)
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
		return reportCheck(env.Stdout, *file, config.CheckMN(*file))
	}
	return daemon.Run(ctx, node.MNOptions(*file, env.Stderr))
}
