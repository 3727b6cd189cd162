package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/config"
)

// DefaultStopTimeout is how long Run waits for its tasks after a stop
// signal.
const DefaultStopTimeout = 10 * time.Second

// ErrStopTimeout is returned by Run when tasks did not return within
// Options.StopTimeout of a stop.
var ErrStopTimeout = errors.New("daemon: tasks did not stop in time")

// Settings are the parts of a configuration the runtime itself uses.
type Settings struct {
	Log  config.Log
	HTTP config.HTTP
}

// ARSettings and MNSettings extract Settings from the two configurations
// (for Options.Settings).
func ARSettings(c *config.ARConfig) Settings { return Settings{Log: c.Log, HTTP: c.HTTP} }

// MNSettings: see ARSettings.
func MNSettings(c *config.MNConfig) Settings { return Settings{Log: c.Log, HTTP: c.HTTP} }

// HKSSettings: see ARSettings.
func HKSSettings(c *config.HKSConfig) Settings { return Settings{Log: c.Log, HTTP: c.HTTP} }

// Options configure Run. C is the configuration type (*config.ARConfig or
// *config.MNConfig).
type Options[C any] struct {
	// Name identifies the daemon in logs and /status ("ar", "mn").
	Name string
	// ConfigFile is passed to Load at start and at each SIGHUP.
	ConfigFile string
	// Load reads and validates the configuration, including whatever file
	// checks the daemon wants repeated on reload. Required.
	Load func(file string) (C, error)
	// Settings extracts the log and HTTP settings. Required.
	Settings func(C) Settings
	// Start builds the daemon from rt.Config() and starts its work with
	// rt.Go. It must not block. An error stops Run. Required.
	Start func(ctx context.Context, rt *Runtime[C]) error
	// Reload applies a new, validated configuration; an error keeps the
	// running one. Nil: the new configuration is only stored (rt.Config)
	// and the log level applied.
	Reload func(ctx context.Context, old, new C) error
	// Status returns the daemon's part of /status (JSON-encodable); nil
	// means none.
	Status func() any
	// Metrics is the registry served on /metrics; nil means NewRegistry()
	// (with the Go and process collectors). Run registers the daemon's own
	// metrics in it (see Runtime.Metrics).
	Metrics *prometheus.Registry
	// Signals delivers SIGINT/SIGTERM (stop) and SIGHUP (reload); nil means
	// the process's signals (signal.Notify). Tests feed their own.
	Signals <-chan os.Signal
	// Stderr receives the log; nil means os.Stderr.
	Stderr io.Writer
	// StopTimeout bounds the wait for tasks after a stop (0:
	// DefaultStopTimeout).
	StopTimeout time.Duration
	// Notify receives systemd notifications; nil means SystemdNotifier().
	Notify Notifier
	// Ready, when set, is called once the daemon has started, with the
	// HTTP listener's address (nil when HTTP is off).
	Ready func(httpAddr net.Addr)
	// Reloaded, when set, is called after each SIGHUP has been handled,
	// with its outcome (tests).
	Reloaded func(err error)
}

// Runtime is what Start receives: the current configuration, the logger,
// the metrics registry and the task group.
type Runtime[C any] struct {
	// Logger is the daemon's logger (its level follows reloads).
	Logger *slog.Logger
	// Metrics is the registry served on /metrics: the role registers its
	// collectors in it.
	Metrics *prometheus.Registry

	group *Group
	mu    sync.RWMutex
	cfg   C
	phase *phase
	http  net.Addr
}

// HTTPAddr is the address /status, /readyz and /metrics are served on (nil
// when [http] is off). The listener is open before Start is called.
func (rt *Runtime[C]) HTTPAddr() net.Addr { return rt.http }

// Starting records what Start is doing ("opening the key store",
// "opening sockets"); until Start returns, /status, /readyz and /metrics
// answer 503 and say so.
// Once the daemon is ready it has no effect.
func (rt *Runtime[C]) Starting(what string) { rt.phase.starting("starting: " + what) }

// Config returns the configuration in force.
func (rt *Runtime[C]) Config() C {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	return rt.cfg
}

// Go starts a task; its error (or panic) stops the daemon.
func (rt *Runtime[C]) Go(name string, f func(ctx context.Context) error) { rt.group.Go(name, f) }

// daemon is Run's state.
type daemon[C any] struct {
	o       Options[C]
	rt      *Runtime[C]
	level   *slog.LevelVar
	started time.Time

	settings Settings

	phase phase

	mu         sync.Mutex
	loadedAt   time.Time
	lastErr    string
	reloadsOK  prometheus.Counter
	reloadsBad prometheus.Counter
}

// Run runs a daemon until ctx ends or a stop signal arrives: load the
// configuration (an error is returned as is: config.Problems), set up the
// logger, the HTTP endpoint (when enabled) and the signal handling, call
// Start, then handle signals. On a stop it cancels the tasks and waits for
// them up to StopTimeout. It returns nil after a clean stop, the first task
// error if a task failed, or ErrStopTimeout.
func Run[C any](ctx context.Context, o Options[C]) error {
	if o.Load == nil || o.Settings == nil || o.Start == nil {
		return errors.New("daemon: Options.Load, Settings and Start are required")
	}
	cfg, err := o.Load(o.ConfigFile)
	if err != nil {
		return err
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Notify == nil {
		o.Notify = SystemdNotifier()
	}
	if o.Metrics == nil {
		o.Metrics = NewRegistry()
	}
	d := &daemon[C]{o: o, started: time.Now(), settings: o.Settings(cfg)}
	d.loadedAt = d.started
	logger, level := NewLogger(o.Stderr, d.settings.Log)
	logger = logger.With("daemon", o.Name)
	d.level = level
	d.registerMetrics()

	sigs := o.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(ch)
		sigs = ch
	}

	g, gctx := NewGroup(ctx)
	d.phase.set(false, "starting")
	d.rt = &Runtime[C]{Logger: logger, Metrics: o.Metrics, group: g, cfg: cfg, phase: &d.phase}

	var httpAddr net.Addr
	if d.settings.HTTP.Enabled() {
		ln, err := Listen(d.settings.HTTP)
		if err != nil {
			return fmt.Errorf("daemon: http: %w", err)
		}
		httpAddr = ln.Addr()
		d.rt.http = httpAddr
		h := Handler(o.Metrics, d.status, d.phase.get)
		g.Go("http", func(ctx context.Context) error { return serveHTTP(ctx, ln, h, logger) })
		logger.Info("serving /metrics and /status", "addr", httpAddr.String())
	}
	if err := o.Start(gctx, d.rt); err != nil {
		g.Cancel()
		g.Wait()
		return fmt.Errorf("daemon: start: %w", err)
	}
	// Ready only now: Start has opened the sockets and stores and started
	// the role's tasks, so /status has the role's whole document.
	d.phase.set(true, "serving")
	d.notify("READY=1")
	logger.Info("started", "config", o.ConfigFile)
	if o.Ready != nil {
		o.Ready(httpAddr)
	}

	stopping := false
loop:
	for {
		select {
		case <-gctx.Done():
			break loop
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				err := d.reload(gctx)
				if o.Reloaded != nil {
					o.Reloaded(err)
				}
				continue
			}
			logger.Info("stopping", "signal", sig.String())
			stopping = true
			break loop
		}
	}
	d.phase.set(false, "stopping")
	d.notify("STOPPING=1")
	stopping = stopping || ctx.Err() != nil
	g.Cancel()
	select {
	case <-g.Done():
	case <-time.After(o.StopTimeout):
		logger.Error("tasks did not stop in time", "timeout", o.StopTimeout)
		return ErrStopTimeout
	}
	err = g.Wait()
	if stopping && errors.Is(err, context.Canceled) {
		err = nil // a task reporting the cancellation it was asked for
	}
	if err != nil {
		logger.Error("stopped", "err", err)
		return err
	}
	logger.Info("stopped")
	return nil
}

func (d *daemon[C]) notify(state string) {
	if d.o.Notify == nil {
		return
	}
	if err := d.o.Notify(state); err != nil {
		d.rt.Logger.Warn("systemd notification failed", "state", state, "err", err)
	}
}

// reload handles SIGHUP: load, validate, hand to Reload, switch. Any
// failure keeps the running configuration.
func (d *daemon[C]) reload(ctx context.Context) error {
	log := d.rt.Logger
	d.notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
	defer d.notify("READY=1")
	log.Info("reloading configuration", "config", d.o.ConfigFile)
	err := d.tryReload(ctx)
	d.mu.Lock()
	if err != nil {
		d.lastErr = err.Error()
	} else {
		d.lastErr = ""
		d.loadedAt = time.Now()
	}
	d.mu.Unlock()
	if err != nil {
		d.reloadsBad.Inc()
		var ps config.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				log.Error("configuration problem", "problem", p.Error())
			}
		}
		log.Error("reload failed: keeping the running configuration", "err", err)
		return err
	}
	d.reloadsOK.Inc()
	log.Info("configuration reloaded", "log_level", d.settings.Log.Level.String())
	return nil
}

func (d *daemon[C]) tryReload(ctx context.Context) error {
	cfg, err := d.o.Load(d.o.ConfigFile)
	if err != nil {
		return err
	}
	s := d.o.Settings(cfg)
	if d.o.Reload != nil {
		if err := d.o.Reload(ctx, d.rt.Config(), cfg); err != nil {
			return fmt.Errorf("daemon: reload refused: %w", err)
		}
	}
	if s.HTTP != d.settings.HTTP {
		d.rt.Logger.Warn("the [http] settings changed: they take effect at the next restart")
		s.HTTP = d.settings.HTTP
	}
	if s.Log.Format != d.settings.Log.Format {
		d.rt.Logger.Warn("log.format changed: it takes effect at the next restart")
		s.Log.Format = d.settings.Log.Format
	}
	d.rt.mu.Lock()
	d.rt.cfg = cfg
	d.rt.mu.Unlock()
	d.settings = s
	d.level.Set(s.Log.Level)
	return nil
}

// Status is the JSON document of /status. Until the daemon is ready (Start
// has returned) and again once it is stopping, Ready is false, Phase says
// what it is doing, Role is absent and the answer is 503; while it serves,
// Ready is true, Phase is "serving" and Role is complete.
type Status struct {
	Daemon          string    `json:"daemon"`
	Ready           bool      `json:"ready"`
	Phase           string    `json:"phase"`
	ConfigFile      string    `json:"config_file"`
	Started         time.Time `json:"started"`
	UptimeSeconds   float64   `json:"uptime_seconds"`
	ConfigLoaded    time.Time `json:"config_loaded"`
	LastReloadError string    `json:"last_reload_error,omitempty"`
	// Role is Options.Status(): keys held, peers, bindings.
	Role any `json:"role,omitempty"`
}

// status returns the /status document and whether the daemon is ready.
func (d *daemon[C]) status() (any, bool) {
	ready, phase := d.phase.get()
	d.mu.Lock()
	s := Status{
		Daemon: d.o.Name, Ready: ready, Phase: phase, ConfigFile: d.o.ConfigFile, Started: d.started.UTC(),
		UptimeSeconds: time.Since(d.started).Seconds(), ConfigLoaded: d.loadedAt.UTC(), LastReloadError: d.lastErr,
	}
	d.mu.Unlock()
	if ready && d.o.Status != nil {
		s.Role = d.o.Status()
	}
	return s, ready
}

// phase is the daemon's readiness and what it is doing, read by every
// HTTP request and set by Run (and Runtime.Starting).
type phase struct {
	mu    sync.Mutex
	ready bool
	what  string
}

func (p *phase) set(ready bool, what string) {
	p.mu.Lock()
	p.ready, p.what = ready, what
	p.mu.Unlock()
}

// starting sets what while the daemon is not ready yet.
func (p *phase) starting(what string) {
	p.mu.Lock()
	if !p.ready && p.what != "stopping" {
		p.what = what
	}
	p.mu.Unlock()
}

func (p *phase) get() (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready, p.what
}
