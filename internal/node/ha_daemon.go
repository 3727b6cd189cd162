package node

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/ha"
)

// HAStatus is the "role" document of the home agent's /status: the SAs
// (SPI, suite, scope, validity — never keys), the binding cache and the
// counters.
type HAStatus struct {
	Listen     string       `json:"listen"`
	HACChannel string       `json:"hac_channel"`
	SAs        []ha.SAInfo  `json:"security_associations"`
	Bindings   []ha.Binding `json:"bindings"`
	Counters   ha.Stats     `json:"counters"`
}

// HAOptions builds the daemon options of `fhkey ha` for the configuration
// file: OpenHA with the configured socket, home link, state file and HAC
// channel, served until the daemon stops. A reload applies log.level only;
// the rest takes effect at the next restart.
func HAOptions(file string, stderr io.Writer) daemon.Options[*config.HAConfig] {
	var cur atomic.Pointer[HA]
	var channel atomic.Pointer[string]
	return daemon.Options[*config.HAConfig]{
		Name: "ha", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadHA,
		Settings: func(c *config.HAConfig) daemon.Settings { return daemon.Settings{Log: c.Log, HTTP: c.HTTP} },
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.HAConfig]) error {
			cfg := rt.Config()
			rt.Starting("reading the HAC channel's TLS files")
			cr, err := cfg.OpenChannel()
			if err != nil {
				return err
			}
			spec := HASpec{Listen: cfg.Listen, StateFile: cfg.StateFile, TUN: cfg.TUN, MTU: cfg.MTU, Logger: rt.Logger,
				Role: ha.Config{HomePrefix: cfg.HomePrefix, Address: cfg.Address, MaxLifetime: cfg.MaxLifetime, Grace: graceOrNone(cfg.SAGrace)}}
			spec.ChannelListen = cfg.Channel.Listen
			spec.ChannelTLS = &tls.Config{Certificates: []tls.Certificate{cr.Certificate}, ClientCAs: cr.Roots,
				ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
			rolemetrics.RegisterHA(rt.Metrics, func() ha.Stats {
				if h := cur.Load(); h != nil {
					return h.Role.Stats()
				}
				return ha.Stats{}
			})
			rt.Starting("opening the state file, the service port and the home link")
			h, err := OpenHA(spec)
			if err != nil {
				return err
			}
			state := h.ChannelAddr().String()
			channel.Store(&state)
			cur.Store(h)
			rt.Logger.Info("home agent serving", "listen", h.Addr().String(), "home_prefix", cfg.HomePrefix.String(),
				"tun", cfg.TUN, "hac_channel", state, "sas", len(h.Role.SAs(time.Now())), "bindings", len(h.Role.Bindings()))
			rt.Go("ha", func(ctx context.Context) error {
				err := h.Serve(ctx)
				return errors.Join(err, h.Close())
			})
			return nil
		},
		Status: func() any {
			h := cur.Load()
			if h == nil {
				return nil
			}
			return HAStatus{Listen: h.Addr().String(), HACChannel: *channel.Load(), SAs: h.Role.SAs(h.now()),
				Bindings: h.Role.Bindings(), Counters: h.Role.Stats()}
		},
	}
}

// graceOrNone maps the configuration's 0 (no grace) to the role's
// negative.
func graceOrNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
