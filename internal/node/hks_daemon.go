package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/radius"
)

// HKSStatus is the "role" document of the Handover Key Server's /status.
// It names the clients by prefix, never with their secrets.
type HKSStatus struct {
	// Listen is the bound RADIUS address (with the port the kernel chose
	// when listen's port is 0).
	Listen          string            `json:"listen"`
	Clients         []HKSClientStatus `json:"clients"`
	SubscriberStore string            `json:"subscriber_store"`
	Counters        HKSCounters       `json:"counters"`
}

// HKSClientStatus is a RADIUS client in HKSStatus.
type HKSClientStatus struct {
	// Name is the client's key in the configuration ("client[0]").
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

// HKSCounters are the role's and the RADIUS server's counters.
type HKSCounters struct {
	HKS    hks.Stats          `json:"hks"`
	RADIUS radius.ServerStats `json:"radius"`
}

// hksLive are the configuration fields a running HKS applies at a reload:
// the RADIUS clients, whose secret files are read again at every reload
// (radius.Server.SetClients). The rest — listen, subscriber store, the
// [handover_keys] settings — take effect at the next restart.
var hksLive = []string{"Clients"}

// HKSOptions builds the daemon options of `fhkey hks` for the
// configuration file: OpenHKS with the configured store, clients and key
// settings, served until the daemon stops. The log goes to stderr.
func HKSOptions(file string, stderr io.Writer) daemon.Options[*config.HKSConfig] {
	var cur atomic.Pointer[HKS]
	var started atomic.Pointer[config.HKSConfig]
	var clients atomic.Pointer[[]HKSClientStatus]
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.HKSConfig]{
		Name: "hks", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadHKS,
		Settings: daemon.HKSSettings,
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.HKSConfig]) error {
			logger.Store(rt.Logger)
			cfg := rt.Config()
			rt.Starting("reading secrets")
			secrets, err := cfg.Open()
			if err != nil {
				return err
			}
			defer clearSecrets(secrets)
			rolemetrics.RegisterHKS(rt.Metrics, func() hks.Stats {
				if h := cur.Load(); h != nil {
					return h.Role.Stats()
				}
				return hks.Stats{}
			}, func() radius.ServerStats {
				if h := cur.Load(); h != nil {
					return h.RADIUS.Stats()
				}
				return radius.ServerStats{}
			})
			rt.Starting("opening the subscriber store")
			store, err := OpenSubscribers(ctx, cfg.Subscribers, secrets.DSN)
			if err != nil {
				return err
			}
			rt.Starting("opening the RADIUS socket")
			h, err := OpenHKS(HKSSpec{
				Listen: cfg.Listen, Clients: nasClients(cfg, secrets),
				Role: hks.Config{Subscribers: store, PRFs: cfg.PRFs, MACs: cfg.MACs,
					Lifetime: cfg.KeyLifetime, TimestampWindow: cfg.TimestampWindow},
				ReadBatch: HKSReadBatch(cfg.Subscribers.Type),
				Logger:    rt.Logger,
			})
			if err != nil {
				return err
			}
			cur.Store(h)
			started.Store(cfg)
			clients.Store(clientStatus(cfg))
			rt.Logger.Info("handover key server serving", "listen", h.Addr().String(), "clients", len(cfg.Clients),
				"subscriber_store", string(cfg.Subscribers.Type))
			rt.Go("hks", func(ctx context.Context) error {
				err := h.Serve(ctx)
				if ctx.Err() != nil {
					err = nil
				}
				return errors.Join(err, h.Close())
			})
			return nil
		},
		Reload: func(_ context.Context, _, new *config.HKSConfig) error {
			l := logger.Load()
			if l == nil {
				l = slog.New(slog.DiscardHandler)
			}
			return reloadHKS(cur.Load(), started.Load(), new, l, &clients)
		},
		Status: func() any {
			h := cur.Load()
			if h == nil {
				return nil
			}
			s := HKSStatus{Listen: h.Addr().String(), Clients: *clients.Load(),
				Counters: HKSCounters{HKS: h.Role.Stats(), RADIUS: h.RADIUS.Stats()}}
			if cfg := started.Load(); cfg != nil {
				s.SubscriberStore = string(cfg.Subscribers.Type)
			}
			return s
		},
	}
}

// reloadHKS applies a reload to the running server h (nil: none yet): the
// client list and the secrets, read again from their files, replace the
// RADIUS server's at once; a secret file that cannot be read refuses the
// reload and changes nothing. The other settings that differ from started
// are logged as waiting for the next restart.
func reloadHKS(h *HKS, started, new *config.HKSConfig, log *slog.Logger, clients *atomic.Pointer[[]HKSClientStatus]) error {
	if h == nil || started == nil {
		return nil
	}
	secrets, err := new.Open()
	if err != nil {
		return err
	}
	defer clearSecrets(secrets)
	if err := h.RADIUS.SetClients(nasClients(new, secrets)); err != nil {
		return err
	}
	clients.Store(clientStatus(new))
	log.Info("settings applied live", "settings", hksLive, "clients", len(new.Clients))
	if ch := restartOnly(started, new, hksLive...); len(ch) > 0 {
		log.Warn("changed settings take effect at the next restart", "settings", ch)
	}
	return nil
}

func clientStatus(cfg *config.HKSConfig) *[]HKSClientStatus {
	out := make([]HKSClientStatus, len(cfg.Clients))
	for i, c := range cfg.Clients {
		out[i] = HKSClientStatus{Name: clientName(i), Prefix: c.Prefix.String()}
	}
	return &out
}
