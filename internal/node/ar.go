package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/send"
)

// ARStatus is the "role" document of the access router's /status.
type ARStatus struct {
	Address   string          `json:"address"`
	Interface string          `json:"interface"`
	KeysHeld  int             `json:"keys_held"`
	Bindings  []forward.Entry `json:"bindings,omitempty"`
	Counters  ar.Stats        `json:"counters"`
	// CPS is absent on an AAA-only router (no SEND).
	CPS       *certdisc.ResponderStats `json:"certification_path,omitempty"`
	Forwarder *forward.Counters        `json:"forwarder,omitempty"`
	// AAA is the shared-key mode, with [aaa].
	AAA *ARAAAStatus `json:"aaa,omitempty"`
	// EAP is the MSK mode, with [eap].
	EAP *AREAPStatus `json:"eap,omitempty"`
}

// ARAAAStatus is the shared-key mode's part of the access router's
// /status: the exchanges with the HKS and the RADIUS client's counters.
type ARAAAStatus struct {
	Pending  int                `json:"pending"`
	Buffered int                `json:"buffered"`
	RADIUS   radius.ClientStats `json:"radius"`
}

// AROptions builds the daemon options of `fhkey ar` for the configuration
// file: the router is built by OpenRouter, the construction path the
// testbed shares. The log goes to stderr.
func AROptions(file string, stderr io.Writer) daemon.Options[*config.ARConfig] {
	var cur atomic.Pointer[Router]
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
			if cfg.EAP != nil {
				if spec.EAP, err = arEAP(cfg, cr, rt.Logger); err != nil {
					cr.ClearSecrets()
					return err
				}
				rolemetrics.RegisterPAE(rt.Metrics, func() pae.Stats {
					if r := cur.Load(); r != nil {
						return r.PAEStats()
					}
					return pae.Stats{}
				})
			}
			if cfg.AAA != nil {
				client, err := newRADIUSClient(cfg, cr, rt.Logger)
				cr.ClearSecrets()
				if err != nil {
					if spec.EAP != nil {
						spec.EAP.Relay.Close()
					}
					return err
				}
				spec.AAA = &ar.AAAConfig{KeyServer: client, Prefixes: cfg.AAA.Prefixes, MaxPending: cfg.AAA.MaxPending,
					HKSTimeout: cfg.AAA.HKSTimeout}
				spec.RADIUS = client
				rolemetrics.RegisterAAA(rt.Metrics, func() (int, int) {
					if r := cur.Load(); r != nil {
						return r.Role.Exchanges()
					}
					return 0, 0
				}, client.Stats)
			}
			cr.ClearSecrets()
			rt.Starting("opening the key store and sockets")
			r, err := OpenRouter(ctx, spec)
			if err != nil {
				return err
			}
			cur.Store(r)
			started.Store(cfg)
			iface.Store(cfg.Interface)
			rt.Logger.Info("access router serving", "interface", cfg.Interface, "address", r.Address().String(),
				"key_store", string(cfg.KeyStore.Type), "forwarding", cfg.Forwarding.Enabled, "keys_held", r.Store.Len(),
				"send", cfg.SENDEnabled(), "aaa", cfg.AAA != nil, "eap", cfg.EAP != nil)
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
			s := ARStatus{Address: r.Address().String(), KeysHeld: r.Store.Len(), Counters: r.Role.Stats()}
			if r.Responder != nil {
				cps := r.Responder.Stats()
				s.CPS = &cps
			}
			if r.RADIUS != nil {
				a := &ARAAAStatus{RADIUS: r.RADIUS.Stats()}
				a.Pending, a.Buffered = r.Role.Exchanges()
				s.AAA = a
			}
			s.EAP = r.eapStatus(time.Now())
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
func arSpec(cfg *config.ARConfig, cr *config.ARCredentials) RouterSpec {
	s := arSettings(cfg)
	spec := RouterSpec{
		Interface: cfg.Interface,
		Address:   cfg.RouterAddress(cr),
		Path:      cr.Path, Anchors: cr.Anchors,
		Forwarding: cfg.Forwarding.Enabled,
		TUN: forward.TUNConfig{Name: cfg.Forwarding.TUN, MTU: cfg.Forwarding.MTU, HopLimit: cfg.Forwarding.HopLimit,
			Source: cfg.Forwarding.Source},
		Algorithms: s.Algorithms, KeyLifetime: s.KeyLifetime, ForwardingLifetime: s.ForwardingLifetime,
		Neighbors: s.Neighbors, Limits: s.Limits,
		// The [send] key sizes, the same as s.MinKeyBits and s.MaxKeyBits.
		Verifier:   SENDVerifier(send.AuthorizeCGA, cfg.SEND),
		MaxCPARate: cfg.MaxCPARate,
	}
	if cr.CGA != nil {
		spec.Parameters, spec.Signer = cr.CGA.Parameters, cr.Key
	}
	if cfg.KeyStore.Type == config.KeyStoreBolt {
		spec.StorePath = cfg.KeyStore.Path
	}
	return spec
}

// newRADIUSClient is the [aaa] section's RADIUS client (docs/aaa.md): a
// realm per [[aaa.realms]] ("*": the default), the router identified by
// its address (NAS-IPv6-Address) or aaa.nas_identifier. It copies the
// secrets of cr.
func newRADIUSClient(cfg *config.ARConfig, cr *config.ARCredentials, log *slog.Logger) (*radius.Client, error) {
	a := cfg.AAA
	cc := radius.ClientConfig{Realms: map[string][]radius.HomeServer{}, Timeout: a.Timeout, Tries: a.Tries,
		MaxPending: a.MaxPending, Logger: log, NAS: radius.NAS{Address: cfg.RouterAddress(cr)}}
	if a.NASIdentifier != "" {
		cc.NAS = radius.NAS{Identifier: a.NASIdentifier}
	}
	for _, realm := range a.Realms {
		var hs []radius.HomeServer
		for _, s := range realm.Servers {
			hs = append(hs, radius.HomeServer{Addr: s.Address, Secret: cr.RADIUSSecrets[s.Address]})
		}
		if realm.Name == config.DefaultRealm {
			cc.Default = hs
		} else {
			cc.Realms[realm.Name] = hs
		}
	}
	c, err := radius.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("node: RADIUS client: %w", err)
	}
	return c, nil
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
