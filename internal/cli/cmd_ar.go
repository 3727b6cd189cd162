package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/send"
)

func runAR(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ar", "-c FILE [--check]", `
Run the access router daemon: handover key provisioning over SEND-protected
RtSolPr/PrRtAdv (RFC 5269 §3.2) with certification path discovery (RFC 3971
§6.4), and, as previous access router, Fast Binding Updates authenticated
with the handover key (RFC 5269 §3.5, RFC 5568 §6.2.2) with optional
user-space forwarding of the previous care-of address's traffic.
Needs CAP_NET_RAW (and CAP_NET_ADMIN for forwarding). SIGTERM/SIGINT stop,
SIGHUP reloads (log.level applies at once; other changes are logged and
take effect at the next restart). With --check: validate FILE and the
files it names, print every problem, exit 0 or 1.
Configuration keys, permissions, metrics, systemd: docs/deployment.md;
sample: examples/ar.toml.`)
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
	return daemon.Run(ctx, arOptions(*file, env.Stderr))
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

// arStatus is the "role" document of the access router's /status.
type arStatus struct {
	Address   string                  `json:"address"`
	Interface string                  `json:"interface"`
	KeysHeld  int                     `json:"keys_held"`
	Bindings  []forward.Entry         `json:"bindings,omitempty"`
	Counters  ar.Stats                `json:"counters"`
	CPS       certdisc.ResponderStats `json:"certification_path"`
	Forwarder *forward.Counters       `json:"forwarder,omitempty"`
}

// arOptions builds the daemon options of `fhkey ar`: the router is built
// by scenario.OpenRouter, the construction path the testbed shares.
func arOptions(file string, stderr io.Writer) daemon.Options[*config.ARConfig] {
	var cur atomic.Pointer[scenario.Router]
	var iface atomic.Value
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.ARConfig]{
		Name: "ar", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadAR,
		Settings: daemon.ARSettings,
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.ARConfig]) error {
			logger.Store(rt.Logger)
			cfg := rt.Config()
			cr, err := cfg.Open(time.Now())
			if err != nil {
				return err
			}
			trace := rolemetrics.RegisterAR(rt.Metrics, func() ar.Stats {
				if r := cur.Load(); r != nil {
					return r.Role.Stats()
				}
				return ar.Stats{}
			}, func() int {
				if r := cur.Load(); r != nil {
					return r.Store.Len()
				}
				return 0
			})
			spec := arSpec(cfg, cr)
			spec.Trace, spec.Logger = trace, rt.Logger
			r, err := scenario.OpenRouter(ctx, spec)
			if err != nil {
				return err
			}
			cur.Store(r)
			iface.Store(cfg.Interface)
			rt.Logger.Info("access router serving", "interface", cfg.Interface, "address", r.Address().String(),
				"key_store", string(cfg.KeyStore.Type), "forwarding", cfg.Forwarding.Enabled, "keys_held", r.Store.Len())
			rt.Go("ar", func(ctx context.Context) error {
				select {
				case <-ctx.Done():
					return r.Stop()
				case <-r.Done():
					return errors.Join(r.Err(), r.Stop())
				}
			})
			return nil
		},
		Reload: func(_ context.Context, old, new *config.ARConfig) error {
			if ch := restartOnly(old, new); len(ch) > 0 {
				if l := logger.Load(); l != nil {
					l.Warn("changed settings take effect at the next restart", "settings", ch)
				}
			}
			return nil
		},
		Status: func() any {
			r := cur.Load()
			if r == nil {
				return nil
			}
			s := arStatus{Address: r.Address().String(), KeysHeld: r.Store.Len(), Counters: r.Role.Stats(), CPS: r.Responder.Stats()}
			s.Interface, _ = iface.Load().(string)
			if r.Forwarder != nil {
				s.Bindings = r.Forwarder.Bindings()
				c := r.Forwarder.Counters()
				s.Forwarder = &c
			}
			return s
		},
	}
}

// arSpec maps the validated configuration and its opened files to the
// router's construction spec.
func arSpec(cfg *config.ARConfig, cr *config.ARCredentials) scenario.RouterSpec {
	spec := scenario.RouterSpec{
		Interface: cfg.Interface,
		Address:   cr.CGA.Address, Parameters: cr.CGA.Parameters, Signer: cr.Key,
		Path: cr.Path, Anchors: cr.Anchors,
		Forwarding: cfg.Forwarding.Enabled,
		TUN: forward.TUNConfig{Name: cfg.Forwarding.TUN, MTU: cfg.Forwarding.MTU, HopLimit: cfg.Forwarding.HopLimit,
			Source: cfg.Forwarding.Source},
		Algorithms: slices.Clone(cfg.Algorithms), KeyLifetime: cfg.KeyLifetime, ForwardingLifetime: cfg.Forwarding.Lifetime,
		Limits: &ar.Limits{
			PerSource: ar.Rate(cfg.Limits.PerSource), PerKey: ar.Rate(cfg.Limits.PerKey), Total: ar.Rate(cfg.Limits.Total),
			UnsecuredReplies: ar.Rate(cfg.Limits.UnsecuredReplies), MaxTracked: cfg.Limits.MaxTracked,
		},
		Verifier:   sendVerifier(send.AuthorizeCGA, cfg.SEND),
		MaxCPARate: cfg.MaxCPARate,
	}
	if cfg.KeyStore.Type == config.KeyStoreBolt {
		spec.StorePath = cfg.KeyStore.Path
	}
	for _, n := range cfg.Neighbors {
		spec.Neighbors = append(spec.Neighbors, ar.Neighbor{AccessPoint: n.AccessPoint, RouterLLA: n.LinkLayerAddress,
			Address: n.Address, Prefix: n.Prefix})
	}
	return spec
}

// sendVerifier is send.NewVerifier with the [send] settings (RFC 3971
// §10.2 timestamp variables, §5.1.3 key sizes).
func sendVerifier(method send.AuthorizationMethod, s config.SEND) *send.Verifier {
	v := send.NewVerifier(method)
	if ts, err := send.NewTimestampCache(s.Timestamp, send.DefaultTimestampCacheSize); err == nil {
		v.Timestamps = ts
		v.Replay = send.NewReplayCache(send.DefaultReplayCacheSize, s.Timestamp.Delta+s.Timestamp.Fuzz)
	}
	v.MinBits, v.MaxBits = s.MinKeyBits, s.MaxKeyBits
	return v
}

// restartOnly lists, for a reload, the settings that changed but take
// effect only at the next restart: every exported field of the
// configuration except File, Log and HTTP (the daemon applies log.level and
// reports [http] and log.format itself). The sockets, key store, forwarder,
// credentials, router settings and rate limits are built once at start.
func restartOnly(old, new any) []string {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	var changed []string
	for i := range ov.NumField() {
		f := ov.Type().Field(i)
		if !f.IsExported() || f.Name == "File" || f.Name == "Log" || f.Name == "HTTP" {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			changed = append(changed, f.Name)
		}
	}
	return changed
}
