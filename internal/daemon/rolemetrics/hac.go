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
)

// RegisterHAC registers the Home Agent Controller's metrics
// (docs/tls.md, "The HAC"), read from stats (hac.HAC.Stats) at each
// scrape: fhkey_hac_sessions_total and
// fhkey_hac_bootstraps_total{method,outcome}.
func RegisterHAC(reg prometheus.Registerer, stats func() hac.Stats) {
	reg.MustRegister(&hacCollector{stats: stats})
}

type hacCollector struct{ stats func() hac.Stats }

func (c *hacCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hacSessionsDesc
	ch <- hacBootstrapsDesc
}

func (c *hacCollector) Collect(ch chan<- prometheus.Metric) {
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
