package daemon

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns the registry a daemon serves on /metrics when
// Options.Metrics is nil: a Prometheus registry holding the Go runtime
// collector (go_*) and the process collector (process_*: CPU, memory, open
// file descriptors, start time). Run adds the daemon's own metrics and the
// role adds its own in Start.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// metricsHandler serves g in the format the scraper asks for in Accept:
// the text format 0.0.4 by default, OpenMetrics when asked
// (application/openmetrics-text), gzip when accepted.
func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// registerMetrics registers the daemon's own metrics (docs/deployment.md,
// "Metrics"): reloads by result, start and configuration load times.
func (d *daemon[C]) registerMetrics() {
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fhkey_config_reloads_total", Help: "Configuration reloads (SIGHUP), by result.",
	}, []string{"result"})
	d.reloadsOK = reloads.WithLabelValues("success")
	d.reloadsBad = reloads.WithLabelValues("failure")
	started := float64(d.started.UnixNano()) / 1e9
	d.o.Metrics.MustRegister(
		reloads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fhkey_start_time_seconds", Help: "Start time of the daemon, seconds since the Unix epoch.",
		}, func() float64 { return started }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fhkey_config_loaded_time_seconds", Help: "When the configuration in force was loaded, seconds since the Unix epoch.",
		}, func() float64 {
			d.mu.Lock()
			defer d.mu.Unlock()
			return float64(d.loadedAt.UnixNano()) / 1e9
		}),
	)
}
