package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/send"
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
is enabled; moving back and forth works the same way.
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
	return daemon.Run(ctx, mnOptions(*file, env.Stderr))
}

func mnOptions(file string, stderr io.Writer) daemon.Options[*config.MNConfig] {
	var cur atomic.Pointer[mnNode]
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.MNConfig]{
		Name: "mn", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadMN,
		Settings: daemon.MNSettings,
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.MNConfig]) (err error) {
			logger.Store(rt.Logger)
			cfg := rt.Config()
			rt.Starting("reading credentials")
			cr, err := cfg.Open()
			if err != nil {
				return err
			}
			rt.Starting("opening the key store and sockets")
			var store keystore.Store
			if cfg.KeyStore.Type == config.KeyStoreBolt {
				if store, err = keystore.OpenBolt(cfg.KeyStore.Path); err != nil {
					return err
				}
			} else {
				store = keystore.NewMemory()
			}
			defer func() {
				if err != nil {
					store.Close()
				}
			}()
			trace := rolemetrics.RegisterMN(rt.Metrics, store.Len)
			spec := scenario.MobileSpec{
				PreviousInterface: cfg.Interface, NewInterface: cfg.Handover.NewInterface,
				Key: cr.Key, PCoA: mn.CareOf{Address: cr.CGA.Address, Parameters: cr.CGA.Parameters},
				Anchors: cr.Anchors, Decapsulate: cfg.Decapsulation.Enabled, DecapsulatorName: cfg.Decapsulation.TUN,
				DecapsulatorMTU: cfg.Decapsulation.MTU, Allowed: cfg.Decapsulation.Allowed,
				PreferredAT: cfg.PreferredAlgorithm, Supported: slices.Clone(cfg.Algorithms), HKEPKLifetime: cfg.HKEPKLifetime,
				HKEPKHandovers: cfg.HKEPKHandovers, RefreshBefore: cfg.RefreshBefore, Store: store,
				Verifier: sendVerifier(send.AuthorizeTrustAnchor, cfg.SEND), Logger: rt.Logger, Trace: trace,
			}
			if cr.NewCGA != nil {
				spec.NCoA = mn.CareOf{Address: cr.NewCGA.Address, Parameters: cr.NewCGA.Parameters}
			}
			m, err := scenario.OpenMobile(ctx, spec)
			if err != nil {
				return err
			}
			n := newMNNode(m, cfg, rt.Logger)
			cur.Store(n)
			cl := n.links[n.current.Load()]
			rt.Logger.Info("mobile node started", "interface", cl.iface, "care_of", cl.coa.String(),
				"new_care_of", spec.NCoA.Address.String(), "decapsulation", cfg.Decapsulation.Enabled)
			rt.Go("provision", func(ctx context.Context) error { n.provision(ctx); return nil })
			if len(n.links) > 1 {
				rt.Go("handover", func(ctx context.Context) error { return n.watch(ctx) })
			}
			rt.Go("close", func(ctx context.Context) error {
				<-ctx.Done()
				m.Close()
				return store.Close()
			})
			return nil
		},
		Reload: func(_ context.Context, old, new *config.MNConfig) error {
			if ch := restartOnly(old, new); len(ch) > 0 {
				if l := logger.Load(); l != nil {
					l.Warn("changed settings take effect at the next restart", "settings", ch)
				}
			}
			return nil
		},
		Status: func() any {
			n := cur.Load()
			if n == nil {
				return nil
			}
			return n.status()
		},
	}
}
