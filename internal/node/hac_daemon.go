package node

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/radius"
)

// HACStatus is the "role" document of the HAC's /status (no key, no
// secret).
type HACStatus struct {
	Listen          string    `json:"listen"`
	Methods         []string  `json:"methods"`
	HomeAgent       string    `json:"home_agent_channel"`
	SubscriberStore string    `json:"subscriber_store"`
	Counters        hac.Stats `json:"counters"`
}

// HACOptions builds the daemon options of `fhkey hac`: the bbolt
// subscriber store, the RADIUS relay when [[radius]] servers are set, the
// HAC→HA channel client, OpenHAC, served until the daemon stops. keyLog,
// if not empty, is a file (created 0600, appended to) receiving the TLS
// secrets in the SSLKEYLOGFILE format.
func HACOptions(file, keyLog string, stderr io.Writer) daemon.Options[*config.HACConfig] {
	var cur atomic.Pointer[HAC]
	var started atomic.Pointer[config.HACConfig]
	return daemon.Options[*config.HACConfig]{
		Name: "hac", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadHAC,
		Settings: func(c *config.HACConfig) daemon.Settings { return daemon.Settings{Log: c.Log, HTTP: c.HTTP} },
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.HACConfig]) error {
			cfg := rt.Config()
			rt.Starting("reading certificates and secrets")
			cr, err := cfg.Open()
			if err != nil {
				return err
			}
			defer func() {
				for _, s := range cr.RADIUSSecrets {
					clear(s)
				}
			}()
			var kl io.WriteCloser
			if keyLog != "" {
				f, err := os.OpenFile(keyLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return err
				}
				kl = f
				rt.Logger.Warn("TLS secrets are written to the key log", "file", keyLog)
			}
			rt.Starting("opening the subscriber store")
			store, err := hac.OpenBolt(cfg.SubscribersPath, time.Second)
			if err != nil {
				return errors.Join(err, closeIf(kl))
			}
			role := hac.Config{Subscribers: store, CipherSuites: cfg.CipherSuites, SALifetime: cfg.SALifetime,
				HomeAgent: cfg.HomeAgent.Address, DNS: cfg.DNS}
			role.Port = portOf(cfg.HomeAgent.Port)
			var relay *radius.EAPRelay
			if len(cfg.RADIUS) > 0 {
				servers := make([]radius.HomeServer, len(cfg.RADIUS))
				for i, r := range cfg.RADIUS {
					servers[i] = radius.HomeServer{Addr: r.Address, Secret: append([]byte(nil), cr.RADIUSSecrets[i]...)}
				}
				relay, err = radius.NewEAPRelay(radius.EAPRelayConfig{Servers: servers, NAS: radius.NAS{Identifier: "fhkey-hac"},
					Timeout: 3 * time.Second, Logger: rt.Logger})
				if err != nil {
					return errors.Join(err, store.Close(), closeIf(kl))
				}
				role.EAP = func(id string) hac.EAPSession { return relay.NewSession(id) }
			}
			channel := &hachannel.Client{Addr: cfg.HomeAgent.Channel, TLS: &tls.Config{Certificates: []tls.Certificate{cr.Channel},
				RootCAs: cr.ChannelRoots, ServerName: cfg.HomeAgent.ServerName}}
			role.Provisioner = channel
			rt.Starting("opening the TLS listener")
			h, err := OpenHAC(HACSpec{Listen: cfg.Listen, Certificate: cr.Server, TLSMinVersion: cfg.TLSMinVersion,
				SessionTimeout: cfg.SessionTimeout, KeyLog: kl, Role: role, Logger: rt.Logger})
			if err != nil {
				return errors.Join(err, store.Close(), closeIf(kl), closeRelay(relay))
			}
			cur.Store(h)
			started.Store(cfg)
			rolemetrics.RegisterHAC(rt.Metrics, func() hac.Stats {
				if h := cur.Load(); h != nil {
					return h.Role.Stats()
				}
				return hac.Stats{}
			})
			rt.Logger.Info("home agent controller serving", "listen", h.Addr().String(), "methods", h.Role.Methods(),
				"home_agent_channel", cfg.HomeAgent.Channel)
			rt.Go("hac", func(ctx context.Context) error {
				err := h.Serve(ctx)
				return errors.Join(err, channel.Close(), closeRelay(relay), store.Close(), closeIf(kl))
			})
			return nil
		},
		Status: func() any {
			h := cur.Load()
			cfg := started.Load()
			if h == nil || cfg == nil {
				return nil
			}
			s := HACStatus{Listen: h.Addr().String(), HomeAgent: cfg.HomeAgent.Channel, SubscriberStore: "bolt", Counters: h.Role.Stats()}
			for _, m := range h.Role.Methods() {
				s.Methods = append(s.Methods, string(m))
			}
			return s
		},
	}
}

func closeIf(c io.Closer) error {
	if c == nil {
		return nil
	}
	return c.Close()
}

func closeRelay(r *radius.EAPRelay) error {
	if r == nil {
		return nil
	}
	return r.Close()
}
