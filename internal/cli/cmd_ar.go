package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
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
SIGHUP reloads: log.level, [rate_limit], handover_keys.algorithms and
lifetime, forwarding.lifetime, [[neighbor]] and send.min_key_bits and
max_key_bits apply at once, without losing packets, keys or bindings; other
changes are logged and take effect at the next restart. With --check:
validate FILE and the files it names, print every problem, exit 0 or 1.
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
	var started atomic.Pointer[config.ARConfig]
	var iface atomic.Value
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.ARConfig]{
		Name: "ar", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadAR,
		Settings: daemon.ARSettings,
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.ARConfig]) error {
			logger.Store(rt.Logger)
			cfg := rt.Config()
			rt.Starting("reading credentials")
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
			rt.Starting("opening the key store and sockets")
			r, err := scenario.OpenRouter(ctx, spec)
			if err != nil {
				return err
			}
			cur.Store(r)
			started.Store(cfg)
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
			var role *ar.Router
			if r := cur.Load(); r != nil {
				role = r.Role
			}
			first := started.Load()
			if first == nil {
				first = old
			}
			l := logger.Load()
			if l == nil {
				l = slog.New(slog.DiscardHandler)
			}
			return reloadAR(role, first, old, new, l)
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
// router's construction spec; the router settings come from arSettings, the
// mapping reloads use.
func arSpec(cfg *config.ARConfig, cr *config.ARCredentials) scenario.RouterSpec {
	s := arSettings(cfg)
	spec := scenario.RouterSpec{
		Interface: cfg.Interface,
		Address:   cr.CGA.Address, Parameters: cr.CGA.Parameters, Signer: cr.Key,
		Path: cr.Path, Anchors: cr.Anchors,
		Forwarding: cfg.Forwarding.Enabled,
		TUN: forward.TUNConfig{Name: cfg.Forwarding.TUN, MTU: cfg.Forwarding.MTU, HopLimit: cfg.Forwarding.HopLimit,
			Source: cfg.Forwarding.Source},
		Algorithms: s.Algorithms, KeyLifetime: s.KeyLifetime, ForwardingLifetime: s.ForwardingLifetime,
		Neighbors: s.Neighbors, Limits: s.Limits,
		// The [send] key sizes, the same as s.MinKeyBits and s.MaxKeyBits.
		Verifier:   sendVerifier(send.AuthorizeCGA, cfg.SEND),
		MaxCPARate: cfg.MaxCPARate,
	}
	if cfg.KeyStore.Type == config.KeyStoreBolt {
		spec.StorePath = cfg.KeyStore.Path
	}
	return spec
}

// arLive are the configuration fields, by path, that a running router
// applies at a reload (ar.Router.Update through arSettings): they change
// what the router does with the next packet but reopen no socket, key store
// or forwarder. The [send] timestamp settings are not among them: a new
// timestamp window needs new timestamp and replay caches (RFC 3971
// §5.3.4), and dropping the old ones would let a solicitation seen just
// before the reload be replayed.
var arLive = []string{
	"Algorithms", "KeyLifetime", "Forwarding.Lifetime", "Neighbors",
	"Limits.PerSource", "Limits.PerKey", "Limits.Total", "Limits.UnsecuredReplies", "Limits.MaxTracked",
	"SEND.MinKeyBits", "SEND.MaxKeyBits",
}

// arSettings maps the validated configuration to the router settings that
// can change while it runs: the one mapping used both to build the router
// (arSpec) and to update it on reload.
func arSettings(cfg *config.ARConfig) ar.Settings {
	// In the configuration a zero rate is unlimited (docs/deployment.md);
	// in ar only the zero Rate is (a zero rate with a burst would allow
	// the burst once and then nothing).
	rate := func(r config.Rate) ar.Rate {
		if r.PerSecond == 0 {
			return ar.Rate{}
		}
		return ar.Rate(r)
	}
	s := ar.Settings{
		Algorithms: slices.Clone(cfg.Algorithms), KeyLifetime: cfg.KeyLifetime, ForwardingLifetime: cfg.Forwarding.Lifetime,
		Limits: &ar.Limits{
			PerSource: rate(cfg.Limits.PerSource), PerKey: rate(cfg.Limits.PerKey), Total: rate(cfg.Limits.Total),
			UnsecuredReplies: rate(cfg.Limits.UnsecuredReplies), MaxTracked: cfg.Limits.MaxTracked,
		},
		MinKeyBits: cfg.SEND.MinKeyBits, MaxKeyBits: cfg.SEND.MaxKeyBits,
	}
	for _, n := range cfg.Neighbors {
		s.Neighbors = append(s.Neighbors, ar.Neighbor{AccessPoint: n.AccessPoint, RouterLLA: n.LinkLayerAddress,
			Address: n.Address, Prefix: n.Prefix})
	}
	return s
}

// reloadAR applies a reload to the running router r (nil: none yet): the
// live settings that differ between old (the configuration in force) and new
// go to r.Update at once, logged at info; an invalid update is returned
// and changes nothing. The other settings that differ from started (the
// configuration the router was built from) are logged as waiting for the
// next restart, on every reload until then.
func reloadAR(r *ar.Router, started, old, new *config.ARConfig, log *slog.Logger) error {
	if live := changedLive(old, new, arLive); len(live) > 0 && r != nil {
		if err := r.Update(arSettings(new)); err != nil {
			return fmt.Errorf("updating the router's %s: %w", strings.Join(live, ", "), err)
		}
		log.Info("settings applied live", "settings", live)
	}
	if ch := restartOnly(started, new, arLive...); len(ch) > 0 {
		log.Warn("changed settings take effect at the next restart", "settings", ch)
	}
	return nil
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
// reports [http] and log.format itself) and the live fields, given by path
// ("KeyLifetime", "Forwarding.Lifetime"). A struct holding live fields is
// compared field by field; changed fields are named by path.
func restartOnly(old, new any, live ...string) []string {
	return changedFields(reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), "", live)
}

// changedFields is restartOnly for the structs ov and nv, whose fields are
// named prefix + field name.
func changedFields(ov, nv reflect.Value, prefix string, live []string) []string {
	var changed []string
	for i := range ov.NumField() {
		f := ov.Type().Field(i)
		path := prefix + f.Name
		if !f.IsExported() || slices.Contains(live, path) ||
			(prefix == "" && (f.Name == "File" || f.Name == "Log" || f.Name == "HTTP")) {
			continue
		}
		if f.Type.Kind() == reflect.Struct && slices.ContainsFunc(live, func(l string) bool { return strings.HasPrefix(l, path+".") }) {
			changed = append(changed, changedFields(ov.Field(i), nv.Field(i), path+".", live)...)
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			changed = append(changed, path)
		}
	}
	return changed
}

// changedLive lists the fields of live (paths into the configuration
// structs old and new point to) that differ.
func changedLive(old, new any, live []string) []string {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	var changed []string
	for _, path := range live {
		if !reflect.DeepEqual(fieldByPath(ov, path).Interface(), fieldByPath(nv, path).Interface()) {
			changed = append(changed, path)
		}
	}
	return changed
}

// fieldByPath returns the field of the struct v at path ("Forwarding.Lifetime").
// A path naming no field is a programmer error (TestARLiveFields).
func fieldByPath(v reflect.Value, path string) reflect.Value {
	for name := range strings.SplitSeq(path, ".") {
		v = v.FieldByName(name)
	}
	return v
}
