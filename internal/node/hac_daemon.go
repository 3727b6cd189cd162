package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	Subscribers     int       `json:"subscribers"`
	Counters        hac.Stats `json:"counters"`
	// Connections are the node's connection counters; Limits the limits
	// in force.
	Connections hac.ConnectionStats `json:"connections"`
	Limits      HACLimitsStatus     `json:"limits"`
}

// HACLimitsStatus is the [limits] section in force, in HACStatus.
type HACLimitsStatus struct {
	MaxSessions      int     `json:"max_sessions"`
	PerSourceRate    float64 `json:"per_source_rate"`
	PerSourceBurst   int     `json:"per_source_burst"`
	MaxTracked       int     `json:"max_tracked"`
	MaxPerSource     int     `json:"max_per_source"`
	HandshakeTimeout string  `json:"handshake_timeout"`
	SessionTimeout   string  `json:"session_timeout"`
}

// hacLiveFields are the configuration fields a running HAC applies at a
// reload (reloadHAC): the server certificate and key and the TLS
// settings and limits of new connections (HAC.Reconfigure), the
// subscriber file (read again), and the HAC→HA channel's client
// certificate and key (used from the next channel connection). The rest
// — listen, [[radius]], the channel's address, name and CAs, the
// [security_associations] settings — take effect at the next restart.
var hacLiveFields = []string{"CertificateFile", "KeyFile", "TLSMinVersion", "SessionTimeout", "HandshakeTimeout", "Limits",
	"SubscribersPath", "HomeAgent.CertificateFile", "HomeAgent.KeyFile"}

// subscriberLockTimeout is the longest the HAC waits for the subscriber
// file's lock (held by `fhkey hac subscriber` while it edits).
const subscriberLockTimeout = 2 * time.Second

// hacSpecLive is the part of a HACSpec a reload changes.
func hacSpecLive(cfg *config.HACConfig, cr *config.HACCredentials) HACSpec {
	return HACSpec{Certificate: cr.Server, TLSMinVersion: cfg.TLSMinVersion, SessionTimeout: cfg.SessionTimeout,
		HandshakeTimeout: cfg.HandshakeTimeout, Limits: hac.Limits{MaxSessions: cfg.Limits.MaxSessions,
			PerSource: hac.Rate(cfg.Limits.PerSource), MaxTracked: cfg.Limits.MaxTracked, MaxPerSource: cfg.Limits.MaxPerSource}}
}

// hacRunning is what a reload changes in a running HAC daemon.
type hacRunning struct {
	node    *HAC
	store   *hac.FileStore
	channel atomic.Pointer[tls.Certificate] // the HAC→HA client certificate
	started *config.HACConfig
	cfg     atomic.Pointer[config.HACConfig] // the configuration in force
}

// HACOptions builds the daemon options of `fhkey hac`: the subscriber
// file (hac.FileStore), the RADIUS relay when [[radius]] servers are set,
// the HAC→HA channel client, OpenHAC, served until the daemon stops;
// SIGHUP applies hacLiveFields (reloadHAC). keyLog, if not empty, is a
// file (created 0600, appended to) receiving the TLS secrets in the
// SSLKEYLOGFILE format.
func HACOptions(file, keyLog string, stderr io.Writer) daemon.Options[*config.HACConfig] {
	var cur atomic.Pointer[hacRunning]
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.HACConfig]{
		Name: "hac", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadHAC,
		Settings: func(c *config.HACConfig) daemon.Settings { return daemon.Settings{Log: c.Log, HTTP: c.HTTP} },
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.HACConfig]) error {
			logger.Store(rt.Logger)
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
			rt.Starting("reading the subscriber file")
			store, err := hac.OpenFileStore(cfg.SubscribersPath, subscriberLockTimeout)
			if err != nil {
				return errors.Join(err, closeIf(kl))
			}
			run := &hacRunning{store: store, started: cfg}
			run.cfg.Store(cfg)
			run.channel.Store(&cr.Channel)
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
			// The client certificate is asked for at each handshake, so a
			// reload's reaches the channel connections dialled after it.
			channel := &hachannel.Client{Addr: cfg.HomeAgent.Channel, TLS: &tls.Config{RootCAs: cr.ChannelRoots, ServerName: cfg.HomeAgent.ServerName,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return run.channel.Load(), nil }}}
			role.Provisioner = channel
			rt.Starting("opening the listener")
			spec := hacSpecLive(cfg, cr)
			spec.Listen, spec.KeyLog, spec.Role, spec.Logger = cfg.Listen, kl, role, rt.Logger
			h, err := OpenHAC(spec)
			if err != nil {
				return errors.Join(err, store.Close(), closeIf(kl), closeRelay(relay))
			}
			run.node = h
			cur.Store(run)
			rolemetrics.RegisterHAC(rt.Metrics, h.Role.Stats, h.Connections)
			rt.Logger.Info("home agent controller serving", "listen", h.Addr().String(), "methods", h.Role.Methods(),
				"home_agent_channel", cfg.HomeAgent.Channel, "subscribers", store.Len(), "max_sessions", cfg.Limits.MaxSessions)
			rt.Go("hac", func(ctx context.Context) error {
				err := h.Serve(ctx)
				return errors.Join(err, channel.Close(), closeRelay(relay), store.Close(), closeIf(kl))
			})
			return nil
		},
		Reload: func(_ context.Context, _, new *config.HACConfig) error {
			l := logger.Load()
			if l == nil {
				l = slog.New(slog.DiscardHandler)
			}
			return reloadHAC(cur.Load(), new, l)
		},
		Status: func() any {
			run := cur.Load()
			if run == nil {
				return nil
			}
			h, cfg := run.node, run.cfg.Load()
			l := cfg.Limits
			s := HACStatus{Listen: h.Addr().String(), HomeAgent: run.started.HomeAgent.Channel, SubscriberStore: "bolt",
				Subscribers: run.store.Len(), Counters: h.Role.Stats(), Connections: h.Connections(),
				Limits: HACLimitsStatus{MaxSessions: l.MaxSessions, PerSourceRate: l.PerSource.PerSecond, PerSourceBurst: l.PerSource.Burst,
					MaxTracked: l.MaxTracked, MaxPerSource: l.MaxPerSource, HandshakeTimeout: cfg.HandshakeTimeout.String(), SessionTimeout: cfg.SessionTimeout.String()}}
			for _, m := range h.Role.Methods() {
				s.Methods = append(s.Methods, string(m))
			}
			return s
		},
	}
}

// reloadHAC applies a reload to the running HAC run (nil: none yet), all
// or nothing: the certificates and keys are read again and the
// subscriber file is read into a new set first; any failure (a bad PEM, a
// key that does not match, a corrupt subscriber record, a file locked
// too long) refuses the reload and the HAC goes on with what it had. Then
// the new certificate, TLS settings and limits serve the connections
// accepted from then on (HAC.Reconfigure), the new subscribers every
// lookup, the new channel client certificate the next channel
// connection. The other settings that differ from those the daemon
// started with are logged as waiting for the next restart.
func reloadHAC(run *hacRunning, new *config.HACConfig, log *slog.Logger) error {
	if run == nil {
		return nil
	}
	cr, err := new.Open()
	if err != nil {
		return err
	}
	for _, s := range cr.RADIUSSecrets {
		clear(s) // the relay keeps its secrets until a restart
	}
	spec := hacSpecLive(new, cr)
	if _, err := newHACLive(spec); err != nil {
		return err
	}
	// The daemon created the file it started with: a path that names none
	// is a mistake (a new empty file would refuse every MN), not a store.
	if _, err := os.Stat(new.SubscribersPath); err != nil {
		return fmt.Errorf("subscribers.path: %w", err)
	}
	// The last step that can fail, so that it changes nothing either.
	n, err := run.store.Load(new.SubscribersPath, subscriberLockTimeout)
	if err != nil {
		return err
	}
	if err := run.node.Reconfigure(spec); err != nil {
		return err // not reached: newHACLive accepted spec above
	}
	run.channel.Store(&cr.Channel)
	run.cfg.Store(new)
	log.Info("settings applied live", "settings", hacLiveFields, "subscribers", n,
		"certificate_subject", cr.Server.Leaf.Subject.String(), "certificate_not_after", cr.Server.Leaf.NotAfter.UTC().Format(time.RFC3339))
	if ch := restartOnly(run.started, new, hacLiveFields...); len(ch) > 0 {
		log.Warn("changed settings take effect at the next restart", "settings", ch)
	}
	return nil
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
