package node

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/send"
)

// MNOptions builds the daemon options of `fhkey mn` for the configuration
// file: the node is built by OpenMobile, the construction path the
// testbed shares, and moves between its links (mnNode). The log goes to
// stderr.
func MNOptions(file string, stderr io.Writer) daemon.Options[*config.MNConfig] {
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
			spec := MobileSpec{
				PreviousInterface: cfg.Interface, NewInterface: cfg.Handover.NewInterface,
				Key:     cr.Key,
				Anchors: cr.Anchors, Decapsulate: cfg.Decapsulation.Enabled, DecapsulatorName: cfg.Decapsulation.TUN,
				DecapsulatorMTU: cfg.Decapsulation.MTU, Allowed: cfg.Decapsulation.Allowed,
				PreferredAT: cfg.PreferredAlgorithm, Supported: slices.Clone(cfg.Algorithms), HKEPKLifetime: cfg.HKEPKLifetime,
				HKEPKHandovers: cfg.HKEPKHandovers, RefreshBefore: cfg.RefreshBefore, Store: store,
				Verifier: SENDVerifier(send.AuthorizeTrustAnchor, cfg.SEND), Logger: rt.Logger, Trace: trace,
			}
			switch {
			case cr.CGA != nil:
				spec.PCoA = mn.CareOf{Address: cr.CGA.Address, Parameters: cr.CGA.Parameters}
			default:
				spec.PCoA = mn.CareOf{Address: cfg.CareOf}
			}
			switch {
			case cr.NewCGA != nil:
				spec.NCoA = mn.CareOf{Address: cr.NewCGA.Address, Parameters: cr.NewCGA.Parameters}
			case cfg.Handover.NewCareOf.IsValid():
				spec.NCoA = mn.CareOf{Address: cfg.Handover.NewCareOf}
			}
			if a := cfg.AAA; a != nil {
				// The role keeps its own copy of the HMK.
				spec.AAA = &mn.AAAConfig{NAI: a.NAI, HMK: cr.HMK, PRF: a.PRF, MAC: a.MAC}
			}
			var mskMode *mnEAP
			if e := cfg.EAP; e != nil {
				if mskMode, err = newMNEAP(e, cr.EAP); err != nil {
					return err
				}
				spec.MSK = &mn.MSKConfig{NAI: e.Identity, Source: mskMode, AT: e.Algorithm}
			}
			m, err := OpenMobile(ctx, spec)
			clear(cr.HMK)
			if err != nil {
				return err
			}
			n := newMNNode(m, cfg, rt.Logger)
			n.eap = mskMode
			cur.Store(n)
			cl := n.links[n.current.Load()]
			rt.Logger.Info("mobile node started", "interface", cl.iface, "care_of", cl.coa.String(),
				"new_care_of", spec.NCoA.Address.String(), "decapsulation", cfg.Decapsulation.Enabled, "aaa", cfg.AAA != nil, "eap", cfg.EAP != nil)
			if n.eap != nil {
				// Before anything else on the link: 802.1X.
				rt.Go("eap", func(ctx context.Context) error { n.authenticateLinks(ctx); return nil })
			} else {
				rt.Go("provision", func(ctx context.Context) error { n.provision(ctx); return nil })
			}
			if len(n.links) > 1 {
				rt.Go("handover", func(ctx context.Context) error { return n.watch(ctx) })
			}
			rt.Go("close", func(ctx context.Context) error {
				<-ctx.Done()
				if n.eap != nil {
					// 802.1X-2004 §8.2.11 LOGOFF: the port closes.
					if err := n.eap.logoff(n.links[n.current.Load()].iface); err != nil {
						rt.Logger.Warn("EAPOL-Logoff not sent", "err", err)
					}
				}
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
