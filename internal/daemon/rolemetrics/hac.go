package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// hacOutcomes are the outcome label values of fhkey_hac_bootstraps_total,
// each series served from the start (0) for both methods.
var hacOutcomes = []string{hac.OutcomeOK, hac.OutcomeUnauthorized, hac.OutcomeBadRequest, hac.OutcomeUnsupported,
	hac.OutcomeHAFailed, hac.OutcomeInternal, hac.OutcomeAborted}

var (
	hacSessionsDesc = prometheus.NewDesc("fhkey_hac_sessions_total",
		"MN connections whose bootstrap started (RFC 6618 §5, TLS handshake done).", nil, nil)
	hacBootstrapsDesc = prometheus.NewDesc("fhkey_hac_bootstraps_total",
		"Bootstraps ended, by method (psk, eap; none: ended before one was chosen) and outcome: ok, unauthorized (401), bad_request (400), unsupported (501), ha_failed (503/504), internal (500), aborted (no final response).",
		[]string{"method", "outcome"}, nil)
	hacActiveDesc = prometheus.NewDesc("fhkey_hac_connections_active",
		"MN connections open (admitted by the limits, TLS handshake included).", nil, nil)
	hacRefusedDesc = prometheus.NewDesc("fhkey_hac_connections_refused_total",
		"MN connections reset before their TLS handshake, by reason: max_sessions (limits.max_sessions open), rate (the source's limits.per_source bucket empty), per_source (limits.max_per_source of the source's connections open).",
		[]string{"reason"}, nil)
	hacHandshakeFailDesc = prometheus.NewDesc("fhkey_hac_handshake_failures_total",
		"TLS handshakes of admitted connections that failed or exceeded handshake_timeout.", nil, nil)
)

// RegisterHAC registers the Home Agent Controller's metrics
// (docs/tls.md, "The HAC"), read from stats (hac.HAC.Stats) at each
// scrape: fhkey_hac_sessions_total and
// fhkey_hac_bootstraps_total{method,outcome}; and from conns (the node's
// HAC.Connections): fhkey_hac_connections_active,
// fhkey_hac_connections_refused_total{reason} (both reasons from the
// start) and fhkey_hac_handshake_failures_total.
func RegisterHAC(reg prometheus.Registerer, stats func() hac.Stats, conns func() hac.ConnectionStats) {
	reg.MustRegister(&hacCollector{stats: stats, conns: conns})
}

type hacCollector struct {
	stats func() hac.Stats
	conns func() hac.ConnectionStats
}

func (c *hacCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hacSessionsDesc
	ch <- hacBootstrapsDesc
	ch <- hacActiveDesc
	ch <- hacRefusedDesc
	ch <- hacHandshakeFailDesc
}

func (c *hacCollector) Collect(ch chan<- prometheus.Metric) {
	cs := c.conns()
	ch <- prometheus.MustNewConstMetric(hacActiveDesc, prometheus.GaugeValue, float64(cs.Active))
	ch <- prometheus.MustNewConstMetric(hacHandshakeFailDesc, prometheus.CounterValue, float64(cs.HandshakeFailed))
	for _, r := range []string{hac.RefusedMaxSessions, hac.RefusedRate, hac.RefusedPerSource} {
		ch <- prometheus.MustNewConstMetric(hacRefusedDesc, prometheus.CounterValue, float64(cs.Refused[r]), r)
	}
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(hacSessionsDesc, prometheus.CounterValue, float64(s.Sessions))
	for _, m := range []string{string(mip6tls.AuthMethodPSK), string(mip6tls.AuthMethodEAP)} {
		for _, o := range hacOutcomes {
			if _, ok := s.Bootstraps[m][o]; !ok {
				ch <- prometheus.MustNewConstMetric(hacBootstrapsDesc, prometheus.CounterValue, 0, m, o)
			}
		}
	}
	for m, outcomes := range s.Bootstraps {
		for o, n := range outcomes {
			ch <- prometheus.MustNewConstMetric(hacBootstrapsDesc, prometheus.CounterValue, float64(n), m, o)
		}
	}
}
